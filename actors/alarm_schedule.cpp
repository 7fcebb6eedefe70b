// The alarm schedule of a trigger actor.
//
// An alarm owns no connection, so its schedule runs in its trigger rather than in a source actor of its own
// (docs/architecture.md section 2): an actor per alarm would cost about 1.6 KiB of each of 100 000 registrations.
// Each occurrence is a delayed (occurrence_atom, generation, occurrence) to the trigger itself; stopping the children
// bumps the generation, which makes the occurrences armed before it void. An occurrence becomes an event of the
// delivery core like any other; it is not stored (docs/architecture.md section 5.4: at most once).

#include <algorithm>
#include <string>

#include "actors/child_error.hpp"
#include "actors/detail/trigger_state.hpp"
#include "core/alarm_spec.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

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
  self->delayed_send(self, alarm_timer_delay(occurrence, st.env->now()), occurrence_atom::value, st.generation,
                     occurrence);
}

/// Hands the event of an occurrence of a schedule with maxTriggers to the delivery core once the count it took is
/// stored: a crash in between must not give the occurrence back (docs/architecture.md section 5.4), as a count stored
/// after the fire would. Its room is reserved meanwhile, so a schedule that ends keeps its firer for it.
void accept_counted(trigger_pointer self, feed_event event) {
  auto& st = self->state;
  st.delivery.reserve(1);
  auto status = make_op(st, store_op::kind::put_status);
  status.record.status = st.record.status;
  self->request(st.env->store, caf::infinite, write_atom::value, std::vector<store_op>{std::move(status)})
    .then(
      [self, event = std::move(event)](commit_atom) mutable {
        auto& st = self->state;
        if (!may_fire(st)) {
          // Paused or disabled meanwhile: the occurrence is dropped, as a queued one is (an alarm never fires late).
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
        log(log_level::error, "occurrence of ", st.record.trigger.qualified(),
            " not fired: its count cannot be stored: ", describe_child_error(err));
        // A schedule that ended waited for this occurrence to release its firer.
        carry_out(self, {});
      });
}

/// Takes one occurrence: an event for the delivery core, or a dead letter when the registration holds as many events
/// as it may (the controller has not kept up for a while: visibly, not into memory).
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
  auto event = st.delivery.new_shared_event(st.alarm_body, now);
  // Accepted either way: the metrics then count it once more when it is fired or dead-lettered.
  st.env->stats->count_events(event_outcome::accepted, st.record.feed);
  if (!st.delivery.has_room(1)) {
    // The dead letter is stored together with the status, count included.
    auto error = "not fired: " + std::to_string(st.delivery.buffered())
                 + " earlier fires are still waiting for the controller";
    carry_out(self, st.delivery.reject(std::move(event), now, std::move(error)));
  } else if (status.triggers_left) {
    // A count of maxTriggers is stored before its fire. last_occurrence needs no haste: it is persisted with the
    // fire's outcome, since an occurrence that has passed is never taken again after a restart.
    accept_counted(self, std::move(event));
  } else {
    carry_out(self, st.delivery.accept(std::move(event)));
  }
  if (status.triggers_left && *status.triggers_left <= 0)
    end_schedule(self);
}

} // namespace

void start_alarm(trigger_pointer self) {
  auto& st = self->state;
  auto first = first_occurrence(*st.config->alarm, st.record.created, st.env->now(), st.record.status.last_occurrence);
  if (first) {
    arm_alarm(self, *first);
    return;
  }
  // Ended by the message, not here: start_alarm runs in the middle of (re)activating the registration.
  self->send(self, ended_atom::value, st.generation);
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
