#include "app/control_api.hpp"

#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/child_error.hpp"
#include "app/admin_key.hpp"
#include "app/admin_routes.hpp"
#include "app/api_answers.hpp"
#include "app/forwarding.hpp"
#include "app/routes.hpp"
#include "core/auth_key.hpp"
#include "core/json.hpp"
#include "core/status_json.hpp"

namespace feedrouter {

/// One request on its way to the registry: what to ask, and where its answer goes.
struct api_call {
  api_command cmd;
  http_server::responder respond;
};

/// One request of an operator on its way to the registry.
struct admin_call {
  admin_command cmd;
  http_server::responder respond;
};

/// GET /v1/cluster on its way to the actor that answers it.
struct cluster_info_call {
  cluster_info_actor info;
  std::string auth_key; ///< a tenant's; empty for an operator (for_operator)
  bool for_operator = false;
  http_server::responder respond;
};

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::admin_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::cluster_info_call)

namespace feedrouter {

namespace {

/// Relays requests from the I/O threads to the registry (and GET /v1/cluster to its actor) and the answers back,
/// without blocking an I/O thread. One long-lived actor rather than one per request: spawning and tearing down an
/// actor per webhook event cost more than everything else the request did on its way through.
caf::behavior api_gateway(caf::event_based_actor* self, registry_actor registry, std::chrono::milliseconds timeout) {
  auto relay = [self, registry, timeout](auto cmd, http_server::responder respond) {
    self->request(registry, timeout, std::move(cmd))
      .then([respond](api_result& result) { respond(to_http(result)); },
            [respond](caf::error& err) {
              respond(json_response(503, render_error("the registry did not answer: " + describe_child_error(err))));
            });
  };
  return {
    [relay](api_call& call) { relay(std::move(call.cmd), std::move(call.respond)); },
    [relay](admin_call& call) { relay(std::move(call.cmd), std::move(call.respond)); },
    [self, timeout](cluster_info_call& call) {
      auto respond = std::move(call.respond);
      auto on_answer = [respond](api_result& result) { respond(to_http(result)); };
      auto on_error = [respond](caf::error& err) {
        respond(json_response(503, render_error("no answer about the cluster: " + describe_child_error(err))));
      };
      if (call.for_operator)
        self->request(call.info, timeout, cluster_atom::value).then(on_answer, on_error);
      else
        self->request(call.info, timeout, cluster_atom::value, std::move(call.auth_key)).then(on_answer, on_error);
    },
  };
}

/// The body of /health: the process is alive and answers.
constexpr std::string_view health_body = R"({"status":"ok"})";

/// The refusal of every API request until the stored registrations run.
constexpr std::string_view starting_refusal = "the provider is starting; retry shortly";

/// What a request is told while the store refuses writes; the service log names the file and the cause.
constexpr std::string_view store_refusal
  = "the provider cannot store changes now (its store refuses writes); retry later";

/// Returns the Prometheus text of the memory budget for event bodies (docs/operations.md).
std::string render_budget(const byte_budget& budget) {
  std::ostringstream out;
  out << "# HELP feedrouter_buffered_bytes Bytes of event bodies all registrations hold in memory.\n"
      << "# TYPE feedrouter_buffered_bytes gauge\n"
      << "feedrouter_buffered_bytes " << budget.held() << '\n'
      << "# HELP feedrouter_buffered_bytes_limit The memory budget for event bodies (--max-buffered-bytes).\n"
      << "# TYPE feedrouter_buffered_bytes_limit gauge\n"
      << "feedrouter_buffered_bytes_limit " << budget.bounds().total << '\n'
      << "# HELP feedrouter_buffered_bytes_waiting Registrations waiting for room in the memory budget.\n"
      << "# TYPE feedrouter_buffered_bytes_waiting gauge\n"
      << "feedrouter_buffered_bytes_waiting " << budget.waiting() << '\n';
  return out.str();
}

/// Returns whether `op` only reads, so that it can still be answered while the store refuses writes.
bool only_reads(api_op op) {
  return op == api_op::read || op == api_op::list || op == api_op::dead_letters;
}

bool only_reads(admin_op op) {
  return op != admin_op::disable && op != admin_op::enable;
}

} // namespace

control_api::control_api(caf::actor_system& sys, registry_actor registry, std::shared_ptr<metrics> stats,
                         std::chrono::milliseconds timeout, std::shared_ptr<const store_health> store,
                         feed_defaults defaults, std::shared_ptr<const byte_budget> budget, std::string admin_key)
  : gateway_(sys.spawn(api_gateway, std::move(registry), timeout)),
    stats_(std::move(stats)),
    store_(std::move(store)),
    defaults_(defaults),
    budget_(std::move(budget)),
    admin_key_(std::move(admin_key)),
    timeout_(timeout) {
  // nop
}

control_api::control_api(caf::actor_system& sys, registry_actor registry, std::shared_ptr<metrics> stats,
                         std::chrono::milliseconds timeout, std::shared_ptr<const store_health> store,
                         feed_defaults defaults, std::shared_ptr<const byte_budget> budget, std::string admin_key,
                         cluster_info_actor info, std::optional<cluster_routing> cluster)
  : control_api(sys, registry, std::move(stats), timeout, std::move(store), defaults, std::move(budget),
                std::move(admin_key)) {
  info_ = std::move(info);
  if (cluster) {
    cluster_ = std::move(cluster);
    cluster_gateway_ = spawn_cluster_gateway(sys, std::move(registry), timeout, *cluster_);
  }
}

control_api::~control_api() {
  caf::anon_send_exit(gateway_, caf::exit_reason::user_shutdown);
  if (cluster_gateway_)
    caf::anon_send_exit(cluster_gateway_, caf::exit_reason::user_shutdown);
}

void control_api::handle(http_request req, http_server::responder respond) {
  stats_->record_api_request();
  // Without an admin key the admin routes are unknown routes, answered as route_request() answers any.
  if (!admin_key_.empty() && is_admin_target(req.target)) {
    handle_admin(std::move(req), std::move(respond));
    return;
  }
  auto routed = route_request(req);
  if (auto* answer = std::get_if<http_response>(&routed)) {
    respond(std::move(*answer));
    return;
  }
  if (auto* cmd = std::get_if<api_command>(&routed)) {
    if (!ready_.load()) {
      respond(json_response(503, render_error(starting_refusal)));
      return;
    }
    if (!store_->writable() && !only_reads(cmd->op)) {
      respond(json_response(503, render_error(store_refusal)));
      return;
    }
    apply_feed_defaults(*cmd, defaults_);
    if (cluster_)
      ask_cluster(std::move(*cmd), std::move(req), std::move(respond));
    else
      ask_registry(std::move(*cmd), std::move(respond));
    return;
  }
  switch (std::get<service_route>(routed)) {
    case service_route::health:
      respond(json_response(200, std::string{health_body}));
      return;
    case service_route::ready:
      answer_ready(respond);
      return;
    case service_route::metrics: {
      http_response res;
      res.fields.emplace_back("Content-Type", "text/plain; version=0.0.4");
      res.body = stats_->render() + metrics::render_ready(ready());
      if (budget_)
        res.body += render_budget(*budget_);
      if (cluster_)
        res.body += cluster_->stats->render();
      respond(std::move(res));
      return;
    }
    case service_route::cluster:
      answer_cluster(req, std::move(respond));
      return;
  }
}

bool control_api::shards_running() const {
  return !cluster_
         || (cluster_->view->shards_running() && cluster_->fence->all_usable(std::chrono::steady_clock::now()));
}

void control_api::answer_ready(http_server::responder& respond) {
  json_writer out;
  auto writable = store_->writable();
  auto shards_running = this->shards_running();
  auto ready = ready_.load() && writable && shards_running;
  // The live count: registrations created or deleted since start-up count too.
  out.begin_object().key("ready").value(ready).key("registrations").value(stats_->registrations());
  if (cluster_)
    out.key("shards").value(static_cast<std::int64_t>(cluster_->fence->open_count()));
  if (!writable)
    out.key("error").value(store_refusal);
  else if (!shards_running)
    out.key("error").value(
      cluster_->view->leases_reachable()
        ? "the shards this instance took over are starting"
        : "the store cannot be reached for the shard leases; shards stop at their lease's deadline");
  out.end_object();
  respond(json_response(ready ? 200 : 503, out.take()));
}

void control_api::answer_cluster(const http_request& req, http_server::responder respond) {
  // With an admin key the cluster's make-up is the operators' business alone (docs/cluster.md).
  if (!admin_key_.empty()) {
    if (!carries_admin_key(req.field("Authorization"), admin_key_)) {
      respond(admin_unauthorized());
      return;
    }
    caf::anon_send(gateway_, cluster_info_call{info_, {}, true, std::move(respond)});
    return;
  }
  auto key = parse_basic_authorization(req.field("Authorization"));
  if (!key) {
    auto res = json_response(401, render_error("missing or malformed \"Authorization: Basic base64(uuid:key)\" header",
                                               "authorization"));
    res.fields.emplace_back("WWW-Authenticate", "Basic realm=\"feedrouter\"");
    respond(std::move(res));
    return;
  }
  caf::anon_send(gateway_, cluster_info_call{info_, std::move(*key), false, std::move(respond)});
}

void control_api::ask_cluster(cluster_command cmd, http_request req, http_server::responder respond) {
  auto checked = check_forwarding(req, cluster_->forwarding_key, now_ms());
  if (checked.what == forwarding_check::kind::refused) {
    respond(json_response(401, render_error(checked.error, forwarded_signature_field)));
    return;
  }
  cluster_call call{std::move(cmd), std::move(req), std::move(respond),
                    checked.what == forwarding_check::kind::forwarded,
                    std::chrono::steady_clock::now() + cluster_->timing.ttl};
  caf::anon_send(cluster_gateway_, std::move(call));
}

void control_api::handle_before_start(const http_request& req, http_server::responder respond) {
  auto routed = route_request(req);
  auto* route = std::get_if<service_route>(&routed);
  if (route && *route == service_route::health)
    respond(json_response(200, std::string{health_body}));
  else
    respond(json_response(503, render_error(starting_refusal)));
}

void control_api::ask_registry(api_command cmd, http_server::responder respond) {
  caf::anon_send(gateway_, api_call{std::move(cmd), std::move(respond)});
}

void control_api::handle_admin(http_request req, http_server::responder respond) {
  auto routed = route_admin_request(req, admin_key_);
  if (auto* answer = std::get_if<http_response>(&routed)) {
    respond(std::move(*answer));
    return;
  }
  auto& cmd = std::get<admin_command>(routed);
  if (!ready_.load()) {
    respond(json_response(503, render_error(starting_refusal)));
    return;
  }
  if (!store_->writable() && !only_reads(cmd.op)) {
    respond(json_response(503, render_error(store_refusal)));
    return;
  }
  // In a cluster this instance's registry holds only its own shards: the lists are read from the store, the rest goes
  // to the registration's owner (docs/cluster.md, "The admin key in a cluster").
  if (cluster_)
    ask_cluster(std::move(cmd), std::move(req), std::move(respond));
  else
    caf::anon_send(gateway_, admin_call{std::move(cmd), std::move(respond)});
}

} // namespace feedrouter
