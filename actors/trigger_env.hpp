#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <caf/fwd.hpp>

#include "actors/metrics.hpp"
#include "actors/store_actor.hpp"
#include "core/feed_config.hpp"
#include "core/restart_policy.hpp"
#include "core/time_format.hpp"
#include "core/url.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// What a source needs to start: the registration's config and where it left off.
struct source_args {
  feed_config config;
  sys_ms anchor; ///< the registration's creation time
  std::optional<sys_ms> last_occurrence;
};

/// Spawns the source actor of a trigger, linked to it. Tests replace it to inject failing sources.
using source_spawner = std::function<caf::actor(caf::local_actor* trigger, const source_args& args)>;

/// Everything trigger actors share: the HTTP client, where the controller is, the store, the clock.
struct trigger_env {
  http_client_ptr client;
  url api_host; ///< OpenWhisk API base; fires go to {api_host}/api/v1/namespaces/{ns}/triggers/{name}
  store_actor store;
  std::shared_ptr<metrics> stats;
  std::function<sys_ms()> now; ///< wall clock; tests derive it from the simulated clock
  source_spawner spawn_source;
  restart_policy::options restarts;
  std::chrono::milliseconds fire_timeout{10'000};
};

using trigger_env_ptr = std::shared_ptr<const trigger_env>;

/// Returns the spawner that starts the source of each feed kind this build serves.
source_spawner default_source_spawner(std::function<sys_ms()> now);

} // namespace feedrouter
