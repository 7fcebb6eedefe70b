#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/cluster_info.hpp"
#include "actors/metrics.hpp"
#include "actors/registry.hpp"
#include "app/cluster_gateway.hpp"
#include "app/feed_defaults.hpp"
#include "core/byte_budget.hpp"
#include "net/http_server.hpp"
#include "store/store_health.hpp"

namespace feedrouter {

/// The lifecycle control API: turns each HTTP request into a message to the registry and its answer into the HTTP
/// response. Runs on I/O threads and never blocks them.
class control_api {
public:
  /// Creates the API; while `store` is unwritable, /ready answers 503 and every request that would change state
  /// gets 503 without reaching the registry. `defaults` are added to the alarm requests it passes on; /metrics
  /// shows `budget` beside `stats` when there is one. With an `admin_key` the admin routes (/v1/admin/) answer
  /// requests that carry it; without one they do not exist (404).
  control_api(caf::actor_system& sys, registry_actor registry, std::shared_ptr<metrics> stats,
              std::chrono::milliseconds timeout, std::shared_ptr<const store_health> store,
              feed_defaults defaults = {}, std::shared_ptr<const byte_budget> budget = nullptr,
              std::string admin_key = {});

  /// Creates the API of an instance that answers GET /v1/cluster through `info` and, in cluster mode (`cluster`),
  /// routes every request to the instance running its registration; /ready then also requires this instance's shards
  /// to run.
  control_api(caf::actor_system& sys, registry_actor registry, std::shared_ptr<metrics> stats,
              std::chrono::milliseconds timeout, std::shared_ptr<const store_health> store, feed_defaults defaults,
              std::shared_ptr<const byte_budget> budget, std::string admin_key, cluster_info_actor info,
              std::optional<cluster_routing> cluster);

  /// Stops the actor that relays requests to the registry.
  ~control_api();

  control_api(const control_api&) = delete;
  control_api& operator=(const control_api&) = delete;

  /// Answers one request (the http_server's handler).
  void handle(http_request req, http_server::responder respond);

  /// Answers a request that arrives before the API exists (the server listens while the store loads): /health is
  /// 200, since the process is alive, and everything else 503.
  static void handle_before_start(const http_request& req, http_server::responder respond);

  /// Marks the service ready (/ready answers 200) once every stored registration is running.
  void set_ready() {
    ready_.store(true);
  }

  /// Returns whether /ready answers 200: every stored registration is running and the store accepts writes; in a
  /// cluster, every shard this instance holds is running too.
  bool ready() const {
    return ready_.load() && store_->writable() && shards_running();
  }

private:
  /// Cluster mode: whether the shards this instance holds run and none of their leases passed its deadline; always
  /// true on one instance.
  bool shards_running() const;
  void ask_registry(api_command cmd, http_server::responder respond);
  void ask_cluster(cluster_command cmd, http_request req, http_server::responder respond);
  void answer_ready(http_server::responder& respond);
  /// Answers GET /v1/cluster: with an admin key only to a request that carries it (and then with the instances'
  /// URLs), without one to any tenant's valid key (counts only).
  void answer_cluster(const http_request& req, http_server::responder respond);

  /// Answers a request under /v1/admin/: authenticated with the admin key, then relayed to the registry.
  void handle_admin(http_request req, http_server::responder respond);

  caf::actor gateway_; ///< relays each request to the registry and its answer back
  std::shared_ptr<metrics> stats_;
  std::shared_ptr<const store_health> store_;
  feed_defaults defaults_;
  std::shared_ptr<const byte_budget> budget_;
  std::string admin_key_; ///< empty: no admin routes
  std::atomic<bool> ready_{false};
  cluster_info_actor info_;
  /// Cluster mode: how requests are routed, and the actor that routes them.
  std::optional<cluster_routing> cluster_;
  caf::actor cluster_gateway_;
  std::chrono::milliseconds timeout_;
};

} // namespace feedrouter
