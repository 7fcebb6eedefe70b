#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <caf/fwd.hpp>

#include "actors/controller_client.hpp"
#include "actors/metrics.hpp"
#include "actors/source_protocol.hpp"
#include "actors/sources/kafka_client.hpp"
#include "actors/store_actor.hpp"
#include "actors/timer_wheel.hpp"
#include "core/byte_budget.hpp"
#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "core/fire_fence.hpp"
#include "core/rate_limiter.hpp"
#include "core/retry_policy.hpp"
#include "core/restart_policy.hpp"
#include "core/time_format.hpp"
#include "core/url.hpp"
#include "net/http_client.hpp"
#include "net/mqtt_client.hpp"
#include "net/redis_client.hpp"

namespace feedrouter {

/// What a source needs to start: the registration's config and where it left off.
struct source_args {
  feed_config config;
  sys_ms anchor; ///< the registration's creation time
  std::optional<sys_ms> last_occurrence;
  std::string checkpoint; ///< where the source left off (registration_status::checkpoint)
};

/// Spawns the source actor of a trigger, linked to it, or returns an invalid handle for a kind that needs none: an
/// alarm's schedule then runs in the trigger itself. Tests replace it to inject sources of their own (also for alarm
/// registrations, which then take the injected actor as their source).
using source_spawner = std::function<source_actor(caf::local_actor* trigger, const source_args& args)>;

/// Returns the actor that prepares the source of `config` before its registration is stored, or nullopt when the source
/// needs nothing: a `changes` feed with `since: now` whose `checkpoint` (the registration's position, "" for a new one)
/// is not from its database learns where the database ends; a `kafka` feed whose checkpoint is not from its brokers
/// and topic learns where each partition ends (or starts). The registry asks it without knowing the feed kind;
/// `timeout` bounds the preparer's own work.
using source_preparer = std::function<std::optional<source_preparer_actor>(
  caf::actor_system& sys, const feed_config& config, const std::string& checkpoint, std::chrono::milliseconds timeout)>;

/// Everything trigger actors share: the HTTP client, where the controller is, the store, the clock.
struct trigger_env {
  http_client_ptr client;
  url api_host; ///< OpenWhisk API base; fires go to {api_host}/api/v1/namespaces/{ns}/triggers/{name}
  store_actor store;
  /// Where triggers arm their timers (alarm occurrences, retries, restarts): one wheel for all of them.
  timer_wheel_actor timers;
  std::shared_ptr<metrics> stats;
  std::function<sys_ms()> now; ///< wall clock; tests derive it from the simulated clock
  source_spawner spawn_source;
  source_preparer prepare_source; ///< empty: no source needs preparing
  restart_policy::options restarts;
  std::chrono::milliseconds fire_timeout{10'000};
  retry_options retries; ///< the provider's defaults; a registration may lower attempts and age
  /// Paces fires per namespace (--namespace-fire-rate); null when unlimited.
  std::shared_ptr<rate_limiter> namespace_limiter;
  /// Events a registration holds at most, pending in memory or only in the store (queued, batched and in flight);
  /// its source gets no credit beyond it, and webhook senders get 429.
  std::size_t max_buffered_events = 1000;
  /// The bytes of event bodies all registrations hold in memory (--max-buffered-bytes); null: unbounded.
  byte_budget_ptr budget;
  /// Fires of one registration on the wire at once (--fire-window); 1 sends the next only after an answer.
  std::size_t fire_window = 1;
  std::function<std::uint64_t()> random; ///< jitter source; tests make it deterministic
  std::string public_url; ///< base of hook URLs: {public_url}/v1/hooks/{hookId}
  /// What tenants' endpoints may be: checked when a registration is validated, for what needs no resolver (a
  /// literal address); the HTTP client checks every address it connects to with the same policy.
  std::shared_ptr<const egress_policy> egress = std::make_shared<const egress_policy>();
  /// Cluster mode: until when this instance may fire each shard's registrations, checked before every attempt; null
  /// for one instance, which fires every shard forever.
  std::shared_ptr<const fire_fence> fence;
  /// Deletes OpenWhisk triggers and rules for deleteAfterFire; without one, only the registration is removed.
  std::optional<controller_actor> controller;
};

using trigger_env_ptr = std::shared_ptr<const trigger_env>;

/// Returns the spawner that starts the source actor of each feed kind that owns a connection (poll, changes, kafka,
/// mqtt, redis-stream); their requests go through `client`, kafka's consumers come from `kafka`, MQTT connections
/// from `mqtt` and Redis connections from `redis`.
source_spawner default_source_spawner(http_client_ptr client, kafka_connector_ptr kafka = nullptr,
                                      mqtt_connector_ptr mqtt = nullptr, redis_connector_ptr redis = nullptr);

/// Returns the preparer of each feed kind whose source needs one (changes with `since: now`, kafka without a position
/// from its brokers and topic, mqtt without a position from its broker session, redis-stream without a position from
/// its server and stream); its requests go through `client`, `kafka`, `mqtt` and `redis`, and without them nothing is
/// prepared.
source_preparer default_source_preparer(http_client_ptr client, kafka_connector_ptr kafka = nullptr,
                                        mqtt_connector_ptr mqtt = nullptr, redis_connector_ptr redis = nullptr);

} // namespace feedrouter
