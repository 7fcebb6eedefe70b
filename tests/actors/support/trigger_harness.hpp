#pragma once

#include <optional>

#include "actor_fixture.hpp"
#include "actors/trigger.hpp"

namespace feedrouter::test {

/// A trigger actor under test, spawned by a stand-in registry that records what the trigger sends it.
struct trigger_harness {
  parent_log_ptr registry_log;
  caf::actor trigger;
};

/// Spawns the trigger of `record` over the fixture's environment.
trigger_harness start_trigger(actor_fixture& f, registration_record record, std::optional<feed_config> config);

/// Returns the statuses the store committed for `trigger` (put_status operations), in commit order.
std::vector<registration_status> stored_statuses(const store_journal& journal, const trigger_ref& trigger);

/// Returns `test_epoch() + offset`.
sys_ms at(caf::timespan offset);

/// Returns `count` instants `first`, `first + period`, ...
std::vector<sys_ms> every(sys_ms first, caf::timespan period, std::size_t count);

} // namespace feedrouter::test
