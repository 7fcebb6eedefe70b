#include "actors/firer.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/controller_client.hpp"
#include "actors/messages.hpp"
#include "core/auth_key.hpp"

namespace feedrouter {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// How much of an error answer's body goes into a report.
constexpr std::size_t error_text_limit = 256;

struct firer_state {
  caf::actor parent;
  trigger_env_ptr env;
  std::string ns;
  url destination;
  std::string authorization;
  retry_options retries;
  std::optional<fire_unit> unit;
  int attempts = 0;
  steady::time_point sent_at;

  static inline const char* name = "firer";
};

using firer_pointer = caf::stateful_actor<firer_state>*;

std::string error_text(const client_result& result) {
  if (!result.ok())
    return result.error;
  auto body = result.response.body.substr(0, error_text_limit);
  return "HTTP " + std::to_string(result.response.status) + (body.empty() ? "" : ": " + body);
}

void report(firer_pointer self, fire_verdict verdict, int status_code, std::string error, wire_token token) {
  auto& st = self->state;
  fire_report result{verdict, status_code, std::move(error), st.attempts, std::move(token)};
  auto id = st.unit->id;
  st.unit.reset();
  st.attempts = 0;
  self->send(st.parent, fired_atom::value, id, std::move(result));
}

void send_attempt(firer_pointer self) {
  auto& st = self->state;
  client_request req;
  req.destination = st.destination;
  req.message.method = "POST";
  req.message.fields = {{"Authorization", st.authorization}, {"Content-Type", "application/json"}};
  req.message.body = st.unit->body;
  req.timeout = st.env->fire_timeout;
  // The controller is the operator's (--api-host), not a tenant's destination: the egress policy does not apply.
  req.owner = destination_owner::operator_config;
  ++st.attempts;
  st.sent_at = steady::now();
  // The completion runs on an I/O thread: it only turns the result into a message. The token keeps the fire
  // counted until the trigger has recorded the outcome, or until a message carrying it is dropped.
  st.env->stats->fire_started();
  auto uncount = [stats = st.env->stats](const void*) { stats->fire_finished(); };
  wire_token token{std::shared_ptr<const void>{nullptr, std::move(uncount)}};
  st.env->client->send(std::move(req), [handle = caf::actor{self}, id = st.unit->id,
                                        token = std::move(token)](client_result result) mutable {
    caf::anon_send(handle, done_atom::value, id, std::move(result), std::move(token));
  });
}

/// Sends the next attempt now, or once the namespace's rate limit allows it.
void attempt(firer_pointer self) {
  auto& st = self->state;
  if (st.env->namespace_limiter) {
    auto wait = st.env->namespace_limiter->reserve(st.ns, steady::now());
    if (wait > milliseconds{0}) {
      self->delayed_send(self, wait, send_atom::value, st.unit->id);
      return;
    }
  }
  send_attempt(self);
}

void on_done(firer_pointer self, const client_result& result, wire_token& token) {
  auto& st = self->state;
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - st.sent_at);
  auto status = result.ok() ? result.response.status : 0;
  auto verdict = classify(status, !result.ok());
  st.env->stats->record_fire(verdict == fire_verdict::fired, took);
  if (verdict != fire_verdict::retry) {
    report(self, verdict, status, verdict == fire_verdict::fired ? std::string{} : error_text(result),
           std::move(token));
    return;
  }
  auto now = st.env->now();
  std::optional<milliseconds> retry_after;
  if (result.ok())
    if (auto header = result.response.field("Retry-After"); !header.empty())
      retry_after = parse_retry_after(header, now);
  auto age = std::chrono::duration_cast<milliseconds>(now - st.unit->oldest_accepted);
  auto delay = next_retry_delay(st.retries, st.attempts, age, retry_after, st.env->random());
  if (!delay) {
    report(self, fire_verdict::dead, status, error_text(result), std::move(token));
    return;
  }
  self->send(st.parent, backoff_atom::value, st.unit->id, st.attempts, static_cast<std::int64_t>(delay->count()));
  self->delayed_send(self, *delay, retry_atom::value, st.unit->id);
}

caf::behavior firer_impl(firer_pointer self, caf::actor parent, trigger_env_ptr env, trigger_ref trigger,
                         std::string auth_key, retry_options retries) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.ns = trigger.ns;
  st.destination = trigger_url(env->api_host, trigger);
  st.authorization = basic_authorization(auth_key);
  st.retries = retries;
  st.env = std::move(env);
  return {
    [self](fire_atom, fire_unit& unit) {
      self->state.unit = std::move(unit);
      self->state.attempts = 0;
      attempt(self);
    },
    [self](done_atom, std::uint64_t id, client_result& result, wire_token& token) {
      if (self->state.unit && self->state.unit->id == id)
        on_done(self, result, token);
    },
    [self](retry_atom, std::uint64_t id) {
      if (self->state.unit && self->state.unit->id == id)
        attempt(self);
    },
    [self](send_atom, std::uint64_t id) {
      if (self->state.unit && self->state.unit->id == id)
        send_attempt(self);
    },
  };
}

} // namespace

caf::actor spawn_firer(caf::local_actor* parent, trigger_env_ptr env, const trigger_ref& trigger,
                       const std::string& auth_key, retry_options retries) {
  return parent->spawn<caf::linked>(firer_impl, caf::actor_cast<caf::actor>(parent), std::move(env), trigger,
                                    auth_key, retries);
}

} // namespace feedrouter
