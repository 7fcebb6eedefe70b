#include "actors/controller_client.hpp"

#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/detail/client_messages.hpp"
#include "actors/messages.hpp"
#include "core/auth_key.hpp"
#include "core/json.hpp"

namespace feedrouter {

namespace {

/// A request in flight and how its answer is delivered.
struct pending_call {
  caf::response_promise rp;
  bool wants_namespace = false;
};

struct controller_client_state {
  http_client_ptr client;
  url api_host;
  std::chrono::milliseconds timeout;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, pending_call> pending;

  static inline const char* name = "controller_client";
};

using client_pointer = caf::stateful_actor<controller_client_state>*;

/// Sends a GET with the caller's key and remembers how to answer.
caf::response_promise call(client_pointer self, url where, const std::string& auth_key, bool wants_namespace) {
  auto& st = self->state;
  client_request req;
  req.destination = std::move(where);
  req.message.method = "GET";
  req.message.fields = {{"Authorization", basic_authorization(auth_key)}, {"Accept", "application/json"}};
  req.timeout = st.timeout;
  // The controller is the operator's (--api-host), not a tenant's destination: the egress policy does not apply.
  req.owner = destination_owner::operator_config;
  auto id = st.next_id++;
  auto rp = self->make_response_promise();
  st.pending.emplace(id, pending_call{rp, wants_namespace});
  st.client->send(std::move(req), [handle = caf::actor{self}, id](client_result result) {
    caf::anon_send(handle, done_atom::value, id, std::move(result));
  });
  return rp;
}

caf::behavior controller_client_impl(client_pointer self, http_client_ptr client, url api_host,
                                     std::chrono::milliseconds timeout) {
  self->state.client = std::move(client);
  self->state.api_host = std::move(api_host);
  self->state.timeout = timeout;
  return {
    [self](verify_atom, const trigger_ref& trigger, const std::string& auth_key) {
      return call(self, trigger_url(self->state.api_host, trigger), auth_key, false);
    },
    [self](namespaces_atom, const std::string& auth_key) {
      auto where = self->state.api_host;
      if (!where.target.empty() && where.target.back() == '/')
        where.target.pop_back();
      where.target += "/api/v1/namespaces";
      return call(self, std::move(where), auth_key, true);
    },
    [self](done_atom, std::uint64_t id, client_result& result) {
      auto& st = self->state;
      auto i = st.pending.find(id);
      if (i == st.pending.end())
        return;
      http_outcome outcome{result.ok() ? result.response.status : 0, result.error};
      if (result.ok() && result.response.status != 200)
        outcome.error = result.response.body;
      auto call = std::move(i->second);
      st.pending.erase(i);
      if (!call.wants_namespace) {
        call.rp.deliver(std::move(outcome));
        return;
      }
      std::string ns;
      if (outcome.status_code == 200) {
        auto names = json_as_string_array(result.response.body);
        if (names && !names->empty()) {
          ns = names->front();
        } else {
          outcome = {0, "OpenWhisk answered GET /api/v1/namespaces without a namespace"};
        }
      }
      call.rp.deliver(std::move(outcome), std::move(ns));
    },
  };
}

} // namespace

url trigger_url(const url& api_host, const trigger_ref& trigger) {
  auto result = api_host;
  if (!result.target.empty() && result.target.back() == '/')
    result.target.pop_back();
  result.target += "/api/v1/namespaces/" + percent_encode(trigger.ns) + "/triggers/" + percent_encode(trigger.name);
  return result;
}

caf::actor spawn_controller_client(caf::actor_system& sys, http_client_ptr client, url api_host,
                                   std::chrono::milliseconds timeout) {
  return sys.spawn(controller_client_impl, std::move(client), std::move(api_host), timeout);
}

} // namespace feedrouter
