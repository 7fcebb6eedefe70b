#include "app/cluster_gateway.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/child_error.hpp"
#include "app/api_answers.hpp"
#include "app/forwarding.hpp"
#include "app/routes.hpp"
#include "core/shard.hpp"
#include "core/status_json.hpp"

namespace feedrouter {

/// A forwarded request that found no usable owner: it answered 421 (`misdirected`), or could not be reached.
struct forward_failure {
  cluster_call call;
  bool misdirected = false;
};

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::forward_failure)

namespace feedrouter {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The namespace OpenWhisk users write for "my own namespace".
constexpr std::string_view default_namespace = "_";

/// How often a request waiting for a takeover looks for the new owner: a twentieth of the TTL, within these bounds.
constexpr milliseconds min_wait_step{50};
constexpr milliseconds max_wait_step{500};

struct gateway_state {
  registry_actor registry;
  milliseconds timeout{0};
  cluster_routing routing;

  static inline const char* name = "cluster_gateway";
};

using gateway_pointer = caf::stateful_actor<gateway_state>*;

milliseconds wait_step(const lease_timing& timing) {
  return std::clamp(timing.ttl / 20, min_wait_step, max_wait_step);
}

/// Returns whether `call` only reads a registration: answered from the store while its shard has no owner.
bool only_reads(const cluster_call& call) {
  if (const auto* admin = std::get_if<admin_command>(&call.cmd))
    return admin->op == admin_op::read;
  auto op = std::get<api_command>(call.cmd).op;
  return op == api_op::read || op == api_op::dead_letters;
}

void respond(cluster_call& call, const api_result& result) {
  call.respond(to_http(result));
}

api_result not_owner(std::uint32_t shard) {
  return failure(api_outcome::not_owner, "this instance does not run shard " + std::to_string(shard));
}

void route(gateway_pointer self, cluster_call call);

/// Answers a READ, the dead letters or a list from the store.
void read_from_store(gateway_pointer self, cluster_call call) {
  std::visit(
    [&](auto cmd) {
      self->request(self->state.routing.reader, self->state.timeout, std::move(cmd))
        .then([call](api_result& result) mutable { respond(call, result); },
              [call](caf::error& err) mutable {
                respond(call,
                        failure(api_outcome::unavailable, "cannot read the store: " + describe_child_error(err)));
              });
    },
    call.cmd);
}

/// Routes `call` again after a wait step, having the lease manager look at the leases first when `refresh`; past its
/// deadline answers 503 instead.
void retry_later(gateway_pointer self, cluster_call call, bool refresh) {
  auto& routing = self->state.routing;
  if (refresh)
    self->send(routing.leases, notified_atom::value);
  if (steady::now() >= call.deadline) {
    auto busy = failure(api_outcome::unavailable,
                        "no instance runs this registration's shard at the moment (a takeover is under way); retry");
    // A takeover is due within a TTL.
    busy.retry_after = std::max(std::chrono::ceil<std::chrono::seconds>(routing.timing.ttl), std::chrono::seconds{1});
    respond(call, busy);
    return;
  }
  self->delayed_send(self, wait_step(routing.timing), std::move(call));
}

/// No instance holds a valid lease of the shard: a read is answered from the store, a change waits for the takeover.
void without_owner(gateway_pointer self, cluster_call call) {
  if (only_reads(call))
    read_from_store(self, std::move(call));
  else
    retry_later(self, std::move(call), false);
}

void handle_locally(gateway_pointer self, cluster_call call) {
  std::visit(
    [&](auto cmd) {
      self->request(self->state.registry, self->state.timeout, std::move(cmd))
        .then(
          [self, call](api_result& result) mutable {
            // The lease moved between the routing and the registry: route again once the view caught up.
            if (result.outcome == api_outcome::not_owner && !call.forwarded) {
              retry_later(self, std::move(call), true);
              return;
            }
            respond(call, result);
          },
          [call](caf::error& err) mutable {
            respond(call,
                    failure(api_outcome::unavailable, "the registry did not answer: " + describe_child_error(err)));
          });
    },
    call.cmd);
}

void forward(gateway_pointer self, cluster_call call, const cluster_view::owner& owner) {
  auto& routing = self->state.routing;
  auto destination = parse_url(owner.url, "url");
  if (!destination) {
    retry_later(self, std::move(call), true);
    return;
  }
  client_request req;
  req.destination = std::move(*destination);
  req.destination.target = call.req.target;
  req.message = forwarded_request(call.req, routing.forwarding_key, routing.view->self_id(), now_ms());
  req.timeout = self->state.timeout;
  // The other instances are the operator's, like the controller: the tenants' egress policy does not apply.
  req.owner = destination_owner::operator_config;
  routing.stats->record_forward();
  // The completion runs on an I/O thread: it answers the caller itself, or hands the call back to route again.
  caf::actor gateway{self};
  routing.client->send(std::move(req), [gateway, call = std::move(call)](client_result result) mutable {
    if (result.ok() && result.response.status != 421) {
      call.respond(relayed_response(std::move(result.response)));
      return;
    }
    caf::anon_send(gateway, forward_failure{std::move(call), result.ok()});
  });
}

void dispatch(gateway_pointer self, cluster_call call, std::uint32_t shard) {
  auto& routing = self->state.routing;
  auto now = steady::now();
  if (routing.fence->may_fire(shard, now)) {
    // Just taken over: until its registrations run, the registry would answer that they do not exist.
    if (routing.view->shard_starting(shard))
      retry_later(self, std::move(call), false);
    else
      handle_locally(self, std::move(call));
    return;
  }
  if (call.forwarded) {
    respond(call, not_owner(shard));
    return;
  }
  auto owner = routing.view->owner_of(shard, now);
  if (owner && owner->id != routing.view->self_id())
    forward(self, std::move(call), *owner);
  else
    without_owner(self, std::move(call));
}

/// Finds the namespace of "_": for a CREATE the controller's answer for the key, otherwise the key's registration of
/// that name in the store.
void resolve_namespace(gateway_pointer self, cluster_call call) {
  auto& routing = self->state.routing;
  const auto& cmd = std::get<api_command>(call.cmd);
  if (cmd.op == api_op::create) {
    if (!routing.controller) {
      respond(call, failure(api_outcome::invalid,
                            "triggerName: the namespace \"_\" can only be resolved with authKey verification; give the "
                            "namespace explicitly",
                            "triggerName"));
      return;
    }
    auto key = cmd.auth_key;
    self->request(*routing.controller, self->state.timeout, namespaces_atom::value, std::move(key))
      .then(
        [self, call](http_outcome& outcome, std::string& ns) mutable {
          if (outcome.status_code != 200) {
            respond(call, failure(outcome.status_code == 0 ? api_outcome::unavailable : api_outcome::unauthorized,
                                  "cannot resolve the namespace \"_\" with this authKey: " + outcome.error,
                                  "authKey"));
            return;
          }
          std::get<api_command>(call.cmd).trigger.ns = std::move(ns);
          route(self, std::move(call));
        },
        [call](caf::error& err) mutable {
          respond(call, failure(api_outcome::unavailable, "cannot resolve the namespace \"_\": "
                                                            + describe_child_error(err)));
        });
    return;
  }
  auto key = cmd.auth_key;
  auto name = cmd.trigger.name;
  self->request(routing.reader, self->state.timeout, lookup_atom::value, std::move(key), std::move(name))
    .then(
      [self, call](std::vector<trigger_ref>& found) mutable {
        auto& trigger = std::get<api_command>(call.cmd).trigger;
        if (found.empty()) {
          respond(call, failure(api_outcome::not_found,
                                "no registration for trigger " + trigger.qualified() + " with this authKey"));
          return;
        }
        trigger.ns = found.front().ns;
        route(self, std::move(call));
      },
      [call](caf::error& err) mutable {
        respond(call, failure(api_outcome::unavailable, "cannot read the store: " + describe_child_error(err)));
      });
}

/// Routes an operator's request: the lists from the store, the rest to the registration's owner.
void route_admin(gateway_pointer self, cluster_call call) {
  const auto& cmd = std::get<admin_command>(call.cmd);
  if (cmd.op == admin_op::list || cmd.op == admin_op::namespaces) {
    read_from_store(self, std::move(call));
    return;
  }
  auto shard = shard_of(cmd.trigger);
  dispatch(self, std::move(call), shard);
}

void route(gateway_pointer self, cluster_call call) {
  if (std::holds_alternative<admin_command>(call.cmd)) {
    route_admin(self, std::move(call));
    return;
  }
  const auto& cmd = std::get<api_command>(call.cmd);
  if (cmd.op == api_op::list) {
    read_from_store(self, std::move(call));
    return;
  }
  if (cmd.op == api_op::hook) {
    auto shard = hook_shard(cmd.hook_id);
    dispatch(self, std::move(call), shard);
    return;
  }
  if (cmd.trigger.ns == default_namespace) {
    resolve_namespace(self, std::move(call));
    return;
  }
  auto shard = shard_of(cmd.trigger);
  dispatch(self, std::move(call), shard);
}

caf::behavior cluster_gateway(caf::stateful_actor<gateway_state>* self, registry_actor registry, milliseconds timeout,
                              cluster_routing routing) {
  self->state.registry = std::move(registry);
  self->state.timeout = timeout;
  self->state.routing = std::move(routing);
  return {
    [self](cluster_call& call) { route(self, std::move(call)); },
    [self](forward_failure& failed) {
      // An owner that cannot be reached is gone as far as a read is concerned: the store answers it.
      if (!failed.misdirected && only_reads(failed.call))
        read_from_store(self, std::move(failed.call));
      else
        retry_later(self, std::move(failed.call), true);
    },
  };
}

} // namespace

caf::actor spawn_cluster_gateway(caf::actor_system& sys, registry_actor registry, std::chrono::milliseconds timeout,
                                 cluster_routing routing) {
  return sys.spawn(cluster_gateway, std::move(registry), timeout, std::move(routing));
}

} // namespace feedrouter
