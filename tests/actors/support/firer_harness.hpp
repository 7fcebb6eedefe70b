#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actor_fixture.hpp"
#include "core/retry_policy.hpp"

namespace feedrouter::test {

/// One `(fired_atom, id, fire_report)` as the firer's parent received it.
struct fired_report {
  std::uint64_t id;
  fire_report report;
  sys_ms received;
};

/// One `(backoff_atom, id, attempts, delay_ms)` as the firer's parent received it.
struct backoff_report {
  std::uint64_t id;
  int attempts;
  std::int64_t delay_ms;
  sys_ms received;
};

/// Returns the fire reports the parent received, in order.
std::vector<fired_report> fired_reports(const parent_log& log);

/// Returns the back-off reports the parent received, in order.
std::vector<backoff_report> backoff_reports(const parent_log& log);

/// Spawns a firer for `trigger` under a stand-in parent that records its reports in `log`.
caf::actor spawn_firer_under(actor_fixture& f, const parent_log_ptr& log, const trigger_ref& trigger,
                             const retry_options& retries);

/// Hands the firer one unit: `body` with id `id`, whose oldest event was accepted at `oldest_accepted`.
void fire(const caf::actor& firer, std::uint64_t id, std::string body, sys_ms oldest_accepted);

} // namespace feedrouter::test
