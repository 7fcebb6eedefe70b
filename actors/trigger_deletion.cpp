// deleteAfterFire of a one-shot alarm: once OpenWhisk accepted its one fire, the trigger deletes the OpenWhisk
// trigger with its owner's key — for "rules" every rule of the trigger first, so that no rule is left pointing at a
// trigger that is gone — and then has the registry remove the registration.
//
//   idle -> reading_rules ("rules": GET of the trigger) -> deleting_rules (DELETE each) -> deleting_trigger -> removing
//   idle -> deleting_trigger (true) -> removing
//
// Each step's failure is judged as a fire's is (core/retry_policy.hpp): no answer, 408, 409, 429 and 5xx are tried
// again with the provider's back-off, as long as a fire would be; any other refusal, or the retries running out,
// leaves the registration disabled (AUTO) saying why. 404 means the entity is gone already, which is what a step
// wants. Every failure shows in the status's reason while the retries go on.

#include <string>

#include "actors/detail/trigger_state.hpp"
#include "core/log.hpp"
#include "core/retry_policy.hpp"

namespace feedrouter {

namespace {

using step = trigger_deletion::step;

/// How a step of the deletion is called in messages.
std::string step_text(const trigger_state& st) {
  switch (st.deletion.now) {
    case step::reading_rules:
      return "reading the rules of trigger " + st.record.trigger.qualified();
    case step::deleting_rules:
      return "deleting rule " + st.deletion.rules.front();
    case step::deleting_trigger:
      return "deleting trigger " + st.record.trigger.qualified();
    default:
      return "deleting trigger " + st.record.trigger.qualified();
  }
}

/// Shows where the deletion is in the status's reason (the registration stays disabled since its schedule ended).
void show(trigger_pointer self, int status_code, std::string message) {
  set_state(self, registration_state::disabled, {reason_kind::automatic, status_code, std::move(message)});
  persist(self);
}

void run_step(trigger_pointer self);

/// A step's request got `outcome`, which is not what the step wants: try again later, or give up.
void on_step_failed(trigger_pointer self, const http_outcome& outcome) {
  auto& st = self->state;
  auto& deletion = st.deletion;
  auto what = step_text(st) + " in OpenWhisk failed";
  auto detail = outcome.status_code == 0 ? std::string{"no answer from the controller"}
                                         : "the controller answered " + std::to_string(outcome.status_code);
  log(log_level::warn, st.record.trigger.qualified(), ": deleteAfterFire: ", what, ": ", detail);
  auto verdict = classify(outcome.status_code, outcome.status_code == 0);
  std::optional<std::chrono::milliseconds> delay;
  if (verdict == fire_verdict::retry) {
    ++deletion.failures;
    delay = next_retry_delay(st.env->retries, deletion.failures, st.env->now() - deletion.started, std::nullopt,
                             st.env->random());
  }
  if (!delay) {
    deletion.now = step::failed;
    auto why = verdict == fire_verdict::retry ? " after " + std::to_string(deletion.failures) + " attempts" : "";
    show(self, outcome.status_code, "deleteAfterFire: " + what + why + " (" + detail + "); the trigger fired once");
    return;
  }
  show(self, 0,
       "deleteAfterFire: " + what + " (" + detail + "), attempt " + std::to_string(deletion.failures)
         + "; trying again in " + std::to_string(delay->count()) + " ms");
  arm_timer(self, *delay, {trigger_wakeup::kind::deletion, deletion.attempt});
}

/// Returns the handler of a request the controller client did not answer (it stopped): a failure without an answer.
auto no_answer(trigger_pointer self, std::uint64_t attempt) {
  return [self, attempt](caf::error&) {
    if (attempt == self->state.deletion.attempt)
      on_step_failed(self, http_outcome{0, "the controller client did not answer"});
  };
}

/// Returns whether `outcome` of deleting or reading an entity means it is gone (or was read): 2xx, or 404.
bool settled(const http_outcome& outcome) {
  return outcome.ok() || outcome.status_code == 404;
}

/// Moves to `next` after a step succeeded, and runs it.
void advance(trigger_pointer self, step next) {
  auto& deletion = self->state.deletion;
  deletion.now = next;
  deletion.failures = 0;
  run_step(self);
}

void on_rules(trigger_pointer self, std::uint64_t attempt, http_outcome& outcome, std::vector<std::string>& rules) {
  auto& deletion = self->state.deletion;
  if (attempt != deletion.attempt)
    return;
  if (outcome.status_code == 404)
    return advance(self, step::removing);
  if (!outcome.ok())
    return on_step_failed(self, outcome);
  deletion.rules = std::move(rules);
  advance(self, deletion.rules.empty() ? step::deleting_trigger : step::deleting_rules);
}

void on_rule_deleted(trigger_pointer self, std::uint64_t attempt, http_outcome& outcome) {
  auto& st = self->state;
  auto& deletion = st.deletion;
  if (attempt != deletion.attempt)
    return;
  if (outcome.status_code == 409) {
    // An older controller deletes only an inactive rule: deactivate it, then delete it again.
    ++deletion.attempt;
    self->request(*st.env->controller, caf::infinite, deactivate_rule_atom::value, deletion.rules.front(),
                  st.record.auth_key)
      .then(
        [self, attempt = deletion.attempt](http_outcome& deactivated) {
          if (attempt != self->state.deletion.attempt)
            return;
          if (!settled(deactivated))
            return on_step_failed(self, deactivated);
          run_step(self);
        },
        no_answer(self, deletion.attempt));
    return;
  }
  if (!settled(outcome))
    return on_step_failed(self, outcome);
  deletion.rules.erase(deletion.rules.begin());
  advance(self, deletion.rules.empty() ? step::deleting_trigger : step::deleting_rules);
}

void on_trigger_deleted(trigger_pointer self, std::uint64_t attempt, http_outcome& outcome) {
  if (attempt != self->state.deletion.attempt)
    return;
  if (!settled(outcome))
    return on_step_failed(self, outcome);
  advance(self, step::removing);
}

void run_step(trigger_pointer self) {
  auto& st = self->state;
  auto& deletion = st.deletion;
  auto attempt = ++deletion.attempt;
  // The controller client answers every request, within its own time-out.
  switch (deletion.now) {
    case step::reading_rules:
      self->request(*st.env->controller, caf::infinite, rules_atom::value, st.record.trigger, st.record.auth_key)
        .then([self, attempt](http_outcome& outcome,
                              std::vector<std::string>& rules) { on_rules(self, attempt, outcome, rules); },
              no_answer(self, attempt));
      return;
    case step::deleting_rules:
      self->request(*st.env->controller, caf::infinite, delete_rule_atom::value, deletion.rules.front(),
                    st.record.auth_key)
        .then([self, attempt](http_outcome& outcome) { on_rule_deleted(self, attempt, outcome); },
              no_answer(self, attempt));
      return;
    case step::deleting_trigger:
      self->request(*st.env->controller, caf::infinite, delete_trigger_atom::value, st.record.trigger,
                    st.record.auth_key)
        .then([self, attempt](http_outcome& outcome) { on_trigger_deleted(self, attempt, outcome); },
              no_answer(self, attempt));
      return;
    case step::removing:
      log(log_level::info, st.record.trigger.qualified(), ": deleteAfterFire: the trigger is deleted in OpenWhisk");
      self->send(st.registry, remove_atom::value, st.record.trigger);
      return;
    case step::idle:
    case step::failed:
      return;
  }
}

} // namespace

void begin_trigger_deletion(trigger_pointer self) {
  auto& st = self->state;
  auto& deletion = st.deletion;
  deletion.started = st.env->now();
  deletion.failures = 0;
  if (!st.env->controller) {
    // No controller to ask (tests of the schedule alone): the registration goes, as before deleteAfterFire deleted
    // triggers.
    deletion.now = step::removing;
    return run_step(self);
  }
  auto rules = st.config->alarm->delete_after_fire == alarm_spec::after_fire::delete_trigger_and_rules;
  deletion.now = rules ? step::reading_rules : step::deleting_trigger;
  show(self, 0,
       std::string{"fired once; deleteAfterFire: deleting "} + (rules ? "the rules of trigger " : "trigger ")
         + st.record.trigger.qualified() + " in OpenWhisk");
  run_step(self);
}

void resume_trigger_deletion(trigger_pointer self) {
  auto& st = self->state;
  const auto& status = st.record.status;
  if (!st.config || !st.config->alarm || st.deletion.now != step::idle)
    return;
  const auto& alarm = *st.config->alarm;
  // Its one fire was accepted (fires counts only accepted ones) and the registration is still here.
  if (alarm.schedule == alarm_spec::kind::once && alarm.delete_after_fire != alarm_spec::after_fire::keep
      && status.fires > 0 && status.state == registration_state::disabled)
    begin_trigger_deletion(self);
}

void reset_trigger_deletion(trigger_pointer self) {
  auto& deletion = self->state.deletion;
  deletion.now = step::idle;
  deletion.rules.clear();
  deletion.failures = 0;
  ++deletion.attempt;
}

void on_deletion_timer(trigger_pointer self, std::uint64_t attempt) {
  auto& deletion = self->state.deletion;
  if (attempt != deletion.attempt || deletion.now == step::idle || deletion.now == step::failed)
    return;
  run_step(self);
}

} // namespace feedrouter
