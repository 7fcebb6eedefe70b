#include "actors/firer.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/child_error.hpp"
#include "actors/controller_client.hpp"
#include "actors/detail/client_messages.hpp"
#include "actors/fire_log.hpp"
#include "core/auth_key.hpp"
#include "core/retry_policy.hpp"
#include "core/shard.hpp"

namespace feedrouter {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// How much of an error answer's body goes into an outcome.
constexpr std::size_t error_text_limit = 256;

/// The firer with its timer for fires the namespace's rate held back, which is no part of its public protocol.
using firer_private = firer_actor::extend<caf::reacts_to<send_atom, fire_unit>>;

/// Whom a firer fires for, as each fire's log line names it, and what its completions count and date with: shared
/// with the fires' completions, not copied into each. Not the trigger_env: a completion left in the io_context at
/// shutdown would keep the env's store actor alive, and the actor system would wait for it until the exit watchdog.
struct fire_subject {
  trigger_ref trigger;
  std::string feed; ///< the registration's feed kind
  std::shared_ptr<metrics> stats;
  std::function<sys_ms()> now;
};

struct firer_state {
  fire_listener listener;
  trigger_env_ptr env;
  std::uint32_t shard = 0;
  std::shared_ptr<const fire_subject> subject;
  url destination;
  std::string authorization;

  static inline const char* name = "firer";
};

using firer_pointer = firer_private::stateful_pointer<firer_state>;

/// Returns what an HTTP exchange means for the fire: its status, the error text when it is no 2xx, and Retry-After.
fire_outcome read_outcome(const client_result& result, sys_ms now) {
  fire_outcome outcome;
  if (!result.ok()) {
    outcome.error = result.error;
    return outcome;
  }
  outcome.status_code = result.response.status;
  if (outcome.status_code >= 200 && outcome.status_code < 300)
    return outcome;
  auto body = result.response.body.substr(0, error_text_limit);
  outcome.error = "HTTP " + std::to_string(outcome.status_code) + (body.empty() ? "" : ": " + body);
  if (auto header = result.response.field("Retry-After"); !header.empty())
    outcome.retry_after = parse_retry_after(header, now);
  return outcome;
}

/// Returns whether this instance may fire the trigger's shard now (cluster mode: its lease has not passed its
/// deadline). Otherwise answers the fire as not sent, a transport failure its trigger retries later: by then the lease
/// is renewed, or the trigger stopped because its shard moved to another instance.
bool within_lease(firer_pointer self, const fire_unit& unit) {
  auto& st = self->state;
  // The actor clock is the monotonic clock the lease deadlines are measured on (simulated in tests).
  if (!st.env->fence || st.env->fence->may_fire(st.shard, self->clock().now()))
    return true;
  fire_outcome outcome;
  outcome.error = "not sent: this instance's lease on shard " + std::to_string(st.shard) + " has passed its deadline";
  self->send(st.listener, fired_atom::value, fire_result{unit.id, std::move(outcome), {}});
  return false;
}

void send_now(firer_pointer self, fire_unit& unit) {
  auto& st = self->state;
  // The last moment before the request leaves: a process that was frozen past its lease sends nothing.
  if (!within_lease(self, unit))
    return;
  // SIGTERM stopped the fires: this one is not sent and gets no answer, as the process is ending. Its events stay
  // pending, stored or read again from the source's checkpoint, like every event not yet fired when a process ends.
  if (!st.env->stats->try_start_fire())
    return;
  client_request req;
  req.destination = st.destination;
  req.message.method = "POST";
  req.message.fields = {{"Authorization", st.authorization}, {"Content-Type", "application/json"}};
  req.message.body = std::move(unit.body);
  req.timeout = st.env->fire_timeout;
  // The controller is the operator's (--api-host), not a tenant's destination: the egress policy does not apply.
  req.owner = destination_owner::operator_config;
  // The token keeps the fire counted until the trigger has recorded the outcome, or until a message carrying it is
  // dropped.
  auto uncount = [stats = st.env->stats](const void*) { stats->fire_finished(); };
  wire_token token{std::shared_ptr<const void>{nullptr, std::move(uncount)}};
  // The completion runs on an I/O thread: it only reads the result and sends it on, straight to the trigger.
  st.env->client->send(std::move(req), [listener = st.listener, subject = st.subject, id = unit.id,
                                        attempt = unit.attempt, sent_at = steady::now(),
                                        token = std::move(token)](client_result result) mutable {
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - sent_at);
    log_fire_attempt(subject->trigger, subject->feed, attempt, result, took);
    auto outcome = read_outcome(result, subject->now());
    subject->stats->record_fire(classify(outcome.status_code, outcome.status_code == 0), took);
    caf::anon_send(listener, fired_atom::value, fire_result{id, std::move(outcome), std::move(token)});
  });
}

/// Sends a fire now, or once the namespace's rate allows it.
void fire(firer_pointer self, fire_unit& unit) {
  auto& st = self->state;
  if (st.env->namespace_limiter) {
    auto wait = st.env->namespace_limiter->reserve(st.subject->trigger.ns, self->clock().now());
    if (wait > milliseconds{0}) {
      self->delayed_send(self, wait, send_atom::value, std::move(unit));
      return;
    }
  }
  send_now(self, unit);
}

firer_private::behavior_type firer_impl(firer_pointer self, fire_listener listener, trigger_env_ptr env,
                                        trigger_ref trigger, std::string auth_key, std::string feed) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.listener = std::move(listener);
  st.shard = shard_of(trigger);
  st.destination = trigger_url(env->api_host, trigger);
  st.subject = std::make_shared<const fire_subject>(fire_subject{std::move(trigger), std::move(feed), env->stats, env->now});
  st.authorization = basic_authorization(auth_key);
  st.env = std::move(env);
  return {
    [self](fire_atom, fire_unit& unit) { fire(self, unit); },
    [self](send_atom, fire_unit& unit) { send_now(self, unit); },
  };
}

} // namespace

firer_actor spawn_firer(caf::local_actor* parent, fire_listener listener, trigger_env_ptr env,
                        const trigger_ref& trigger, const std::string& auth_key, std::string_view feed) {
  return parent->spawn<caf::linked>(firer_impl, std::move(listener), std::move(env), trigger, auth_key,
                                    std::string{feed});
}

} // namespace feedrouter
