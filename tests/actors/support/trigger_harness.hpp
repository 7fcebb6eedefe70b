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

/// Spawns the trigger of `record` over the fixture's environment, under the lease `fence` when given (cluster mode).
trigger_harness start_trigger(actor_fixture& f, registration_record record, std::optional<feed_config> config,
                              std::optional<fencing_token> fence = std::nullopt);

/// Spawns the trigger of a new webhook registration of `trigger` (hook id "hook-1", secret test_secret) with the
/// other parameters in `params_json`.
trigger_harness start_webhook_trigger(actor_fixture& f, const trigger_ref& trigger, std::string_view params_json = "{}");

/// Posts `body` to the webhook trigger actor `trigger` as the registry would hand it over, correctly signed, with the
/// extra headers `fields`; returns once the trigger answered.
api_reply post_event(actor_fixture& f, const caf::actor& trigger, std::string body, http_fields fields = {});

/// Returns the body of a batch fire: {"events": [bodies...]}.
std::string batch_of(const std::vector<std::string>& bodies);

/// Returns the statuses the store committed for `trigger` (put_status operations), in commit order.
std::vector<registration_status> stored_statuses(const store_journal& journal, const trigger_ref& trigger);

/// Returns `test_epoch() + offset`.
sys_ms at(caf::timespan offset);

/// Returns `count` instants `first`, `first + period`, ...
std::vector<sys_ms> every(sys_ms first, caf::timespan period, std::size_t count);

} // namespace feedrouter::test
