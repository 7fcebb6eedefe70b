#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actor_fixture.hpp"

namespace feedrouter::test {

/// One `(fired_atom, fire_result)` as the firer's listener received it.
struct fired_report {
  std::uint64_t id;
  fire_outcome outcome;
  sys_ms received;
};

/// Returns the fire answers the listener received, in order.
std::vector<fired_report> fired_reports(const parent_log& log);

/// Spawns a firer for `trigger` under a stand-in parent, which is also its listener and records the answers in `log`.
caf::actor spawn_firer_under(actor_fixture& f, const parent_log_ptr& log, const trigger_ref& trigger);

/// Hands the firer one unit: `body` with id `id`.
void fire(const caf::actor& firer, std::uint64_t id, std::string body);

} // namespace feedrouter::test
