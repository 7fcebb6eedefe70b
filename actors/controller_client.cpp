#include "actors/controller_client.hpp"

#include <functional>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/detail/client_messages.hpp"
#include "core/auth_key.hpp"
#include "core/json.hpp"

namespace feedrouter {

namespace {

/// Rules read from one trigger at most: more than OpenWhisk's own limits let a trigger have in practice, and a bound
/// on what one answer may make the provider do.
constexpr std::size_t max_rules = 1000;

/// The client with its own HTTP completions, which are no part of its protocol.
using controller_private =
  controller_actor::extend<caf::reacts_to<done_atom, std::uint64_t, client_result>>;

struct controller_client_state {
  http_client_ptr client;
  url api_host;
  std::chrono::milliseconds timeout;
  std::uint64_t next_id = 0;
  /// Requests in flight: each delivers its answer to its caller's promise.
  std::unordered_map<std::uint64_t, std::function<void(client_result&)>> pending;

  static inline const char* name = "controller_client";
};

using client_pointer = controller_private::stateful_pointer<controller_client_state>;

/// Returns the URL of `path` below the API host ("/api/v1/...").
url api_url(const url& api_host, std::string_view path) {
  auto where = api_host;
  if (!where.target.empty() && where.target.back() == '/')
    where.target.pop_back();
  where.target += path;
  return where;
}

/// Returns the URL of the rule "ns/rule" (a name without '/' lives in the key's default namespace, "_").
url rule_url(const url& api_host, std::string_view rule) {
  auto slash = rule.find('/');
  auto ns = slash == std::string_view::npos ? std::string_view{"_"} : rule.substr(0, slash);
  auto name = slash == std::string_view::npos ? rule : rule.substr(slash + 1);
  return api_url(api_host, "/api/v1/namespaces/" + percent_encode(ns) + "/rules/" + percent_encode(name));
}

/// Returns the outcome of `result`: its status, and the controller's answer when that was not 2xx.
http_outcome outcome_of(const client_result& result) {
  http_outcome outcome{result.ok() ? result.response.status : 0, result.error};
  if (result.ok() && !outcome.ok())
    outcome.error = result.response.body;
  return outcome;
}

/// Sends `method` to `where` with the caller's key (and `body` as JSON when given); `done` gets the result.
void call(client_pointer self, std::string method, url where, const std::string& auth_key,
          std::function<void(client_result&)> done, std::string body = {}) {
  auto& st = self->state;
  client_request req;
  req.destination = std::move(where);
  req.message.method = std::move(method);
  req.message.fields = {{"Authorization", basic_authorization(auth_key)}, {"Accept", "application/json"}};
  if (!body.empty())
    req.message.fields.emplace_back("Content-Type", "application/json");
  req.message.body = std::move(body);
  req.timeout = st.timeout;
  // The controller is the operator's (--api-host), not a tenant's destination: the egress policy does not apply.
  req.owner = destination_owner::operator_config;
  auto id = st.next_id++;
  st.pending.emplace(id, std::move(done));
  st.client->send(std::move(req), [handle = controller_private{self}, id](client_result result) {
    caf::anon_send(handle, done_atom::value, id, std::move(result));
  });
}

/// Sends a request whose answer is its outcome alone.
caf::typed_response_promise<http_outcome> call_for_outcome(client_pointer self, std::string method, url where,
                                                           const std::string& auth_key, std::string body = {}) {
  auto rp = self->make_response_promise<http_outcome>();
  call(
    self, std::move(method), std::move(where), auth_key,
    [rp](client_result& result) mutable { rp.deliver(outcome_of(result)); }, std::move(body));
  return rp;
}

controller_private::behavior_type controller_client_impl(client_pointer self, http_client_ptr client, url api_host,
                                                         std::chrono::milliseconds timeout) {
  self->state.client = std::move(client);
  self->state.api_host = std::move(api_host);
  self->state.timeout = timeout;
  return {
    [self](verify_atom, const trigger_ref& trigger, const std::string& auth_key) {
      return call_for_outcome(self, "GET", trigger_url(self->state.api_host, trigger), auth_key);
    },
    [self](namespaces_atom, const std::string& auth_key) {
      auto rp = self->make_response_promise<http_outcome, std::string>();
      call(self, "GET", api_url(self->state.api_host, "/api/v1/namespaces"), auth_key,
           [rp](client_result& result) mutable {
             auto outcome = outcome_of(result);
             std::string ns;
             if (outcome.status_code == 200) {
               auto names = json_as_string_array(result.response.body);
               if (names && !names->empty())
                 ns = names->front();
               else
                 outcome = {0, "OpenWhisk answered GET /api/v1/namespaces without a namespace"};
             }
             rp.deliver(std::move(outcome), std::move(ns));
           });
      return rp;
    },
    [self](rules_atom, const trigger_ref& trigger, const std::string& auth_key) {
      auto rp = self->make_response_promise<http_outcome, std::vector<std::string>>();
      call(self, "GET", trigger_url(self->state.api_host, trigger), auth_key, [rp](client_result& result) mutable {
        auto outcome = outcome_of(result);
        std::vector<std::string> rules;
        if (outcome.ok())
          rules = rules_of_trigger(result.response.body, max_rules);
        rp.deliver(std::move(outcome), std::move(rules));
      });
      return rp;
    },
    [self](delete_trigger_atom, const trigger_ref& trigger, const std::string& auth_key) {
      return call_for_outcome(self, "DELETE", trigger_url(self->state.api_host, trigger), auth_key);
    },
    [self](delete_rule_atom, const std::string& rule, const std::string& auth_key) {
      return call_for_outcome(self, "DELETE", rule_url(self->state.api_host, rule), auth_key);
    },
    [self](deactivate_rule_atom, const std::string& rule, const std::string& auth_key) {
      return call_for_outcome(self, "POST", rule_url(self->state.api_host, rule), auth_key,
                              R"({"status":"inactive"})");
    },
    [self](done_atom, std::uint64_t id, client_result& result) {
      auto& st = self->state;
      auto i = st.pending.find(id);
      if (i == st.pending.end())
        return;
      auto done = std::move(i->second);
      st.pending.erase(i);
      done(result);
    },
  };
}

} // namespace

url trigger_url(const url& api_host, const trigger_ref& trigger) {
  return api_url(api_host,
                 "/api/v1/namespaces/" + percent_encode(trigger.ns) + "/triggers/" + percent_encode(trigger.name));
}

std::vector<std::string> rules_of_trigger(std::string_view trigger_json, std::size_t limit) {
  std::vector<std::string> names;
  auto trigger = parse_json_object(trigger_json, "trigger");
  if (!trigger)
    return names;
  const auto* rules = find_member(*trigger, "rules");
  if (rules == nullptr)
    return names;
  auto members = parse_json_object(*rules, "rules");
  if (!members)
    return names;
  for (auto& [name, rule] : *members) {
    if (names.size() == limit)
      break;
    names.push_back(std::move(name));
  }
  return names;
}

controller_actor spawn_controller_client(caf::actor_system& sys, http_client_ptr client, url api_host,
                                         std::chrono::milliseconds timeout) {
  return sys.spawn(controller_client_impl, std::move(client), std::move(api_host), timeout);
}

} // namespace feedrouter
