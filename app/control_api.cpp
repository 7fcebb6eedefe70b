#include "app/control_api.hpp"

#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/child_error.hpp"
#include "app/admin_routes.hpp"
#include "app/api_answers.hpp"
#include "app/routes.hpp"
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

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::admin_call)

namespace feedrouter {

namespace {

/// Relays requests from the I/O threads to the registry and its answers back, without blocking an I/O thread. One
/// long-lived actor rather than one per request: spawning and tearing down an actor per webhook event cost more
/// than everything else the request did on its way through.
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
  };
}

/// What a request is told while the store refuses writes; the service log names the file and the cause.
/// The body of /health: the process is alive and answers.
constexpr std::string_view health_body = R"({"status":"ok"})";

/// The refusal of every API request until the stored registrations run.
constexpr std::string_view starting_refusal = "the provider is starting; retry shortly";

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
    admin_key_(std::move(admin_key)) {
  // nop
}

control_api::~control_api() {
  caf::anon_send_exit(gateway_, caf::exit_reason::user_shutdown);
}

void control_api::handle(http_request req, http_server::responder respond) {
  stats_->record_api_request();
  // Without an admin key the admin routes are unknown routes, answered as route_request() answers any.
  if (!admin_key_.empty() && is_admin_target(req.target)) {
    handle_admin(req, std::move(respond));
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
    ask_registry(std::move(*cmd), std::move(respond));
    return;
  }
  switch (std::get<service_route>(routed)) {
    case service_route::health:
      respond(json_response(200, std::string{health_body}));
      return;
    case service_route::ready: {
      json_writer out;
      auto writable = store_->writable();
      auto ready = ready_.load() && writable;
      // The live count: registrations created or deleted since start-up count too.
      out.begin_object().key("ready").value(ready).key("registrations").value(stats_->registrations());
      if (!writable)
        out.key("error").value(store_refusal);
      out.end_object();
      respond(json_response(ready ? 200 : 503, out.take()));
      return;
    }
    case service_route::metrics: {
      http_response res;
      res.fields.emplace_back("Content-Type", "text/plain; version=0.0.4");
      res.body = stats_->render() + metrics::render_ready(ready());
      if (budget_)
        res.body += render_budget(*budget_);
      respond(std::move(res));
      return;
    }
  }
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

void control_api::handle_admin(const http_request& req, http_server::responder respond) {
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
  caf::anon_send(gateway_, admin_call{std::move(cmd), std::move(respond)});
}

} // namespace feedrouter
