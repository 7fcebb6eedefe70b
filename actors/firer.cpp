#include "actors/firer.hpp"

#include <chrono>
#include <deque>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/controller_client.hpp"
#include "actors/messages.hpp"
#include "core/auth.hpp"

namespace feedrouter {

namespace {

using steady = std::chrono::steady_clock;

struct pending_fire {
  std::uint64_t id;
  std::string body;
};

struct firer_state {
  caf::actor parent;
  trigger_env_ptr env;
  url destination;
  std::string authorization;
  std::deque<pending_fire> queue;
  bool in_flight = false;
  steady::time_point sent_at;

  static inline const char* name = "firer";
};

using firer_pointer = caf::stateful_actor<firer_state>*;

/// Extracts a short reason from a controller error body such as {"error": "...", "code": "..."}.
std::string error_text(const client_result& result) {
  if (!result.ok())
    return result.error;
  constexpr std::size_t error_text_limit = 256;
  auto body = result.response.body.substr(0, error_text_limit);
  return "HTTP " + std::to_string(result.response.status) + (body.empty() ? "" : ": " + body);
}

void send_next(firer_pointer self) {
  auto& st = self->state;
  if (st.in_flight || st.queue.empty())
    return;
  auto& next = st.queue.front();
  client_request req;
  req.destination = st.destination;
  req.message.method = "POST";
  req.message.fields = {{"Authorization", st.authorization}, {"Content-Type", "application/json"}};
  req.message.body = std::move(next.body);
  req.timeout = st.env->fire_timeout;
  st.in_flight = true;
  st.sent_at = steady::now();
  // The completion runs on an I/O thread: it only turns the result into a message.
  st.env->client->send(std::move(req), [handle = caf::actor{self}, id = next.id](client_result result) {
    caf::anon_send(handle, done_atom::value, id, std::move(result));
  });
}

caf::behavior firer_impl(firer_pointer self, caf::actor parent, trigger_env_ptr env, trigger_ref trigger,
                         std::string auth_key) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.destination = trigger_url(env->api_host, trigger);
  st.authorization = basic_authorization(auth_key);
  st.env = std::move(env);
  return {
    [self](fire_atom, std::uint64_t id, std::string& body) {
      self->state.queue.push_back({id, std::move(body)});
      send_next(self);
    },
    [self](done_atom, std::uint64_t id, client_result& result) {
      auto& st = self->state;
      st.in_flight = false;
      st.queue.pop_front();
      http_outcome outcome{result.ok() ? result.response.status : 0, {}};
      if (!outcome.ok())
        outcome.error = error_text(result);
      auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - st.sent_at);
      st.env->stats->record_fire(outcome.ok(), took);
      self->send(st.parent, fired_atom::value, id, std::move(outcome));
      send_next(self);
    },
  };
}

} // namespace

caf::actor spawn_firer(caf::local_actor* parent, trigger_env_ptr env, const trigger_ref& trigger,
                       const std::string& auth_key) {
  return parent->spawn<caf::linked>(firer_impl, caf::actor_cast<caf::actor>(parent), std::move(env), trigger,
                                    auth_key);
}

} // namespace feedrouter
