// The alarm schedule of a trigger actor.
//
// An alarm owns no connection, so its schedule runs in its trigger rather than in a source actor of its own
// (docs/architecture.md section 2): an actor per alarm would cost about 1.6 KiB of each of 100 000 registrations.
// Each occurrence is a timer on the timer wheel (trigger_wakeup::kind::occurrence with the generation and the
// occurrence); stopping the children bumps the generation, which makes the occurrences armed before it void. An
// occurrence becomes an event of the delivery core like any other; it is not stored (docs/architecture.md section 5.4:
// at most once). In a cluster, and for catchUp, it is recorded as taken (last_occurrence committed under the trigger's
// lease) before it is accepted for firing, so that no later run of the registration, on this instance or another,
// takes it again.

#include <algorithm>
#include <string>

#include "actors/child_error.hpp"
#include "actors/detail/trigger_state.hpp"
#include "core/alarm_spec.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

/// What a late occurrence of a catchUp registration adds to its payload.
constexpr std::string_view late_member = R"({"late":true})";

std::string schedule_end_reason(const trigger_state& st) {
  const auto& alarm = *st.config->alarm;
  if (st.record.status.triggers_left && *st.record.status.triggers_left <= 0)
    return max_triggers_reached(alarm.max_triggers.value_or(0));
  if (alarm.schedule == alarm_spec::kind::once)
    return "the one-shot alarm's date has passed";
  if (alarm.stop_date)
    return "no occurrence is left before stopDate " + format_iso8601(*alarm.stop_date);
  return "the schedule has no further occurrence";
}

void arm_alarm(trigger_pointer self, sys_ms occurrence) {
  auto& st = self->state;
  st.next_fire = occurrence;
  // At most a day per timer: CAF's clock counts nanoseconds, and a delay to year 9999 would overflow it (then the
  // timer fires at once, forever). A far occurrence is reached through one timer a day, each re-armed here.
  arm_timer(self, alarm_timer_delay(occurrence, st.env->now()),
            {trigger_wakeup::kind::occurrence, st.generation, occurrence});
}

/// Hands the event of an occurrence to the delivery core once it is recorded as taken: the count of a schedule with
/// maxTriggers, and in a cluster or with catchUp its last_occurrence too, committed (in a cluster under the trigger's
/// lease). A crash or a takeover in between must not give the occurrence back (docs/architecture.md section 5.4), as
/// a record stored after the fire would. Its room is reserved meanwhile, so a schedule that ends keeps its firer for
/// it. An occurrence whose record fails is not fired (at most once), nor one whose registration stopped meanwhile.
void accept_recorded(trigger_pointer self, feed_event event) {
  auto& st = self->state;
  st.delivery.reserve(1);
  auto status = make_op(st, store_op::kind::put_status);
  status.record.status = st.record.status;
  self->request(st.env->store, caf::infinite, write_atom::value, std::vector<store_op>{std::move(status)})
    .then(
      [self, event = std::move(event), generation = st.generation](commit_atom) mutable {
        auto& st = self->state;
        if (!may_fire(st) || (generation != st.generation && !st.source_ended)) {
          // Paused, disabled or stopped (its shard given away) meanwhile: dropped, as a queued occurrence is.
          st.delivery.cancel_reservation(1);
          return;
        }
        std::vector<feed_event> events;
        events.push_back(std::move(event));
        carry_out(self, st.delivery.accept_reserved(std::move(events)));
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.delivery.cancel_reservation(1);
        // A stale lease: the registration runs on another instance now, and this trigger stops.
        if (stop_if_fenced(self, err))
          return;
        log(log_level::error, "occurrence of ", st.record.trigger.qualified(),
            " not fired: its count cannot be stored: ", describe_child_error(err));
        // A schedule that ended waited for this occurrence to release its firer.
        carry_out(self, {});
      });
}

/// Takes one occurrence: an event for the delivery core, or a dead letter when the registration holds as many events
/// as it may (the controller has not kept up for a while: visibly, not into memory). A catchUp registration's
/// occurrence that fell due before its schedule started (missed while no instance ran it) carries "late": true.
void on_occurrence(trigger_pointer self, sys_ms occurrence, std::optional<sys_ms> next) {
  auto& st = self->state;
  auto& status = st.record.status;
  status.last_occurrence = occurrence;
  st.next_fire = next;
  if (status.triggers_left) {
    if (*status.triggers_left <= 0) {
      end_schedule(self);
      return;
    }
    --*status.triggers_left;
  }
  auto now = st.env->now();
  // A late occurrence's body differs from the shared one; it is rare (once per takeover at most).
  auto late = st.config->alarm->catch_up && occurrence < st.schedule_started;
  auto body = late ? std::make_shared<const std::string>(merge_object_defaults(late_member, st.config->fire_body))
                   : st.alarm_body;
  auto event = st.delivery.new_shared_event(std::move(body), now);
  // Accepted either way: the metrics then count it once more when it is fired or dead-lettered.
  st.env->stats->count_events(event_outcome::accepted, st.record.feed);
  if (!st.delivery.has_room(1)) {
    // The dead letter is stored together with the status, count included.
    auto error = "not fired: " + std::to_string(st.delivery.buffered())
                 + " earlier fires are still waiting for the controller";
    carry_out(self, st.delivery.reject(std::move(event), now, std::move(error)));
  } else if (st.fence || status.triggers_left || st.config->alarm->catch_up) {
    // A count of maxTriggers is stored before its fire, and so is last_occurrence in a cluster and for catchUp, whose
    // start after a crash fires the latest occurrence after the stored one. Otherwise one instance's last_occurrence
    // needs no haste: it is persisted with the fire's outcome, since an occurrence that has passed is never taken
    // again after a restart.
    accept_recorded(self, std::move(event));
  } else {
    carry_out(self, st.delivery.accept(std::move(event)));
  }
  if (status.triggers_left && *status.triggers_left <= 0)
    end_schedule(self);
}

} // namespace

void start_alarm(trigger_pointer self) {
  auto& st = self->state;
  const auto& alarm = *st.config->alarm;
  auto now = st.env->now();
  st.schedule_started = now;
  const auto& last = st.record.status.last_occurrence;
  if (alarm.catch_up) {
    if (auto missed = latest_missed_occurrence(alarm, st.record.created, now, last)) {
      // Taken as a timer that fell due long ago: late, and the schedule goes on from now.
      st.next_fire = missed;
      self->send(self, wakeup_atom::value, trigger_wakeup{trigger_wakeup::kind::occurrence, st.generation, *missed});
      return;
    }
  }
  // A registration handed over between instances of a cluster starts where the previous one stopped: an occurrence
  // that fell due within the late tolerance before this start still fires, as a late timer would. Its record as
  // taken (last_occurrence) is what keeps it from firing twice, which one instance's restarts do not need.
  auto since = st.fence ? now - alarm_late_tolerance : now;
  auto first = first_occurrence(alarm, st.record.created, since, last);
  if (first) {
    arm_alarm(self, *first);
    return;
  }
  // Ended by the message, not here: start_alarm runs in the middle of (re)activating the registration.
  self->send(self, wakeup_atom::value, trigger_wakeup{trigger_wakeup::kind::schedule_end, st.generation});
}

void on_alarm_tick(trigger_pointer self, std::uint64_t generation, sys_ms occurrence) {
  auto& st = self->state;
  auto is_current = [&] {
    return generation == st.generation && st.record.status.state == registration_state::active;
  };
  if (!is_current() || !st.config || !st.config->alarm)
    return;
  auto now = st.env->now();
  // Timers run on the monotonic clock; if the wall clock lags behind it, wait for the rest.
  if (now < occurrence) {
    arm_alarm(self, occurrence);
    return;
  }
  auto next = occurrence_after(*st.config->alarm, st.record.created, occurrence, now);
  on_occurrence(self, occurrence, next);
  if (!is_current())
    return;
  if (next)
    arm_alarm(self, *next);
  else
    end_schedule(self);
}

void end_schedule(trigger_pointer self) {
  auto& st = self->state;
  set_state(self, registration_state::disabled, {reason_kind::automatic, 0, schedule_end_reason(st)});
  st.source_ended = true;
  ++st.generation;
  release(self, st.source);
  st.next_fire = std::nullopt;
  persist(self);
  // The delivery core keeps running without a source: what it holds goes out, then the firer is released.
  st.delivery.source_stopped();
  carry_out(self, {});
}

bool schedule_used_up(const trigger_state& st) {
  if (!st.config || !st.config->alarm)
    return false;
  const auto& status = st.record.status;
  if (status.triggers_left && *status.triggers_left <= 0)
    return true;
  return !first_occurrence(*st.config->alarm, st.record.created, st.env->now(), status.last_occurrence);
}

} // namespace feedrouter
