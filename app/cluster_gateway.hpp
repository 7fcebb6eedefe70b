#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/cluster_metrics.hpp"
#include "actors/cluster_view.hpp"
#include "actors/controller_client.hpp"
#include "actors/lease_manager.hpp"
#include "actors/messages.hpp"
#include "actors/registry.hpp"
#include "actors/store_reader.hpp"
#include "core/fire_fence.hpp"
#include "core/lease_book.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace feedrouter {

/// What the control API of a cluster's instance needs to answer for every registration (docs/cluster.md).
struct cluster_routing {
  std::shared_ptr<cluster_view> view;
  std::shared_ptr<const fire_fence> fence;
  lease_manager_actor leases;
  store_reader_actor reader;
  /// Resolves the namespace "_" of a CREATE; nullopt (--no-verify-auth): the registry refuses it.
  std::optional<controller_actor> controller;
  /// Forwards requests: the operator's destinations, not subject to the tenants' egress policy.
  http_client_ptr client;
  std::string forwarding_key;
  std::shared_ptr<cluster_metrics> stats;
  lease_timing timing;
};

/// A tenant's lifecycle request or webhook event, or an operator's request (the admin key).
using cluster_command = std::variant<api_command, admin_command>;

/// One request on its way to the instance that runs its registration.
struct cluster_call {
  cluster_command cmd;
  http_request req; ///< as received: what is forwarded
  http_server::responder respond;
  /// Forwarded by another instance: answered here or refused with 421, never forwarded again.
  bool forwarded = false;
  /// A change waits for a takeover until then, and is answered 503 afterwards.
  std::chrono::steady_clock::time_point deadline;
};

/// Spawns the actor that routes each cluster_call: to this instance's registry when it holds the lease of the
/// registration's shard; otherwise forwarded to the instance that does (421 from it: the view is refreshed and the
/// request routed again); while no instance holds it, a READ is answered from the store ("stale") and a change waits
/// for the takeover until its deadline, then gets 503 with Retry-After. A key's list, and an operator's lists of the
/// registrations and of the namespaces, are always read from the store; an operator's READ, disable and enable go to
/// the owner like a tenant's requests. Never blocks: waiting is a timer, forwarding an asynchronous request.
caf::actor spawn_cluster_gateway(caf::actor_system& sys, registry_actor registry, std::chrono::milliseconds timeout,
                                 cluster_routing routing);

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::cluster_call)
