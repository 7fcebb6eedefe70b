#include "actors/trigger.hpp"

#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/firer.hpp"
#include "actors/messages.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

enum class child_kind : int { source, firer };

constexpr std::string_view child_name(child_kind kind) {
  return kind == child_kind::source ? "source" : "firer";
}

struct trigger_state {
  caf::actor registry;
  trigger_env_ptr env;
  registration_record record;
  std::optional<feed_config> config;
  caf::actor source;
  caf::actor firer;
  restart_policy source_restarts;
  restart_policy firer_restarts;
  std::uint64_t next_fire_id = 0;
  std::uint64_t in_flight = 0;
  std::optional<sys_ms> next_fire;
  /// Bumped whenever children are released, so restart timers armed before no longer apply.
  std::uint64_t generation = 0;
  /// deleteAfterFire: remove the registration once the fire of its one occurrence succeeded.
  bool remove_after_fire = false;
  /// The last fire failed; the next failure is not logged again until a fire succeeds.
  bool failing = false;
  /// The state as the metrics count it, shared with the exit hook that uncounts it (which outlives this struct).
  std::shared_ptr<registration_state> counted_state;

  static inline const char* name = "trigger";
};

using trigger_pointer = caf::stateful_actor<trigger_state>*;

trigger_snapshot snapshot(trigger_pointer self) {
  return {self->state.record.status, live_status{self->state.next_fire}};
}

void persist(trigger_pointer self) {
  auto& st = self->state;
  self->send(st.env->store, status_atom::value, st.record.trigger, st.record.status);
}

/// Stores the whole record: after an UPDATE, whose new parameters go together with the current status. Sent from
/// here, not the registry, so that it can never overtake or be overtaken by this trigger's status updates.
void persist_record(trigger_pointer self) {
  auto& st = self->state;
  self->request(st.env->store, caf::infinite, put_atom::value, st.record)
    .then([](commit_atom) {},
          [trigger = st.record.trigger](caf::error& err) {
            log(log_level::error, "cannot store the update of ", trigger.qualified(), ": ", describe_child_error(err));
          });
}

void release(trigger_pointer self, caf::actor& child) {
  if (!child)
    return;
  self->unlink_from(child);
  self->send_exit(child, caf::exit_reason::user_shutdown);
  child = nullptr;
}

/// Releases the firer once nothing is in flight; a fire already sent is allowed to finish and be counted.
void release_idle_firer(trigger_pointer self) {
  auto& st = self->state;
  if (st.record.status.state != registration_state::active && st.in_flight == 0)
    release(self, st.firer);
}

void set_state(trigger_pointer self, registration_state state, state_reason reason) {
  auto& status = self->state.record.status;
  if (status.state != state)
    self->state.env->stats->record_state_change(status.state, state);
  status.state = state;
  *self->state.counted_state = state;
  status.reason = std::move(reason);
  status.date_changed = self->state.env->now();
}

void start_source(trigger_pointer self) {
  auto& st = self->state;
  source_args args{*st.config, st.record.created, st.record.status.last_occurrence};
  st.source = st.env->spawn_source(self, args);
}

void start_firer(trigger_pointer self) {
  auto& st = self->state;
  st.firer = spawn_firer(self, st.env, st.record.trigger, st.record.auth_key);
}

void start_children(trigger_pointer self) {
  auto& st = self->state;
  if (!st.source)
    start_source(self);
  if (!st.firer)
    start_firer(self);
}

/// Stops the registration's work: the source at once, the firer once its fires in flight are answered.
void stop_children(trigger_pointer self) {
  auto& st = self->state;
  ++st.generation;
  release(self, st.source);
  st.next_fire = std::nullopt;
  release_idle_firer(self);
}

void disable(trigger_pointer self, int status_code, std::string message) {
  set_state(self, registration_state::disabled, {reason_kind::automatic, status_code, std::move(message)});
  stop_children(self);
  persist(self);
}

std::string schedule_end_reason(const trigger_state& st) {
  const auto& alarm = *st.config->alarm;
  if (st.record.status.triggers_left && *st.record.status.triggers_left <= 0)
    return "maxTriggers (" + std::to_string(*alarm.max_triggers) + ") reached";
  if (alarm.schedule == alarm_spec::kind::once)
    return "the one-shot alarm's date has passed";
  if (alarm.stop_date)
    return "no occurrence is left before stopDate " + format_iso8601(*alarm.stop_date);
  return "the schedule has no further occurrence";
}

void on_occurrence(trigger_pointer self, sys_ms occurrence, std::optional<sys_ms> next) {
  auto& st = self->state;
  if (st.record.status.state != registration_state::active)
    return;
  auto& status = st.record.status;
  status.last_occurrence = occurrence;
  st.next_fire = next;
  if (status.triggers_left) {
    if (*status.triggers_left <= 0) {
      disable(self, 0, schedule_end_reason(st));
      return;
    }
    --*status.triggers_left;
  }
  if (!st.firer)
    start_firer(self);
  ++st.in_flight;
  self->send(st.firer, fire_atom::value, st.next_fire_id++, st.config->fire_body);
  if (st.config->alarm->delete_after_fire)
    st.remove_after_fire = true;
  if (status.triggers_left && *status.triggers_left <= 0) {
    disable(self, 0, schedule_end_reason(st));
    return;
  }
  persist(self);
}

void on_fired(trigger_pointer self, const http_outcome& outcome) {
  auto& st = self->state;
  auto& status = st.record.status;
  if (st.in_flight > 0)
    --st.in_flight;
  if (outcome.ok()) {
    ++status.fires;
    status.last_fired = st.env->now();
    st.failing = false;
  } else {
    ++status.failures;
    if (!st.failing)
      log(log_level::warn, "fire of ", st.record.trigger.qualified(), " failed: ", outcome.error,
          " (further failures are counted, not logged, until a fire succeeds)");
    st.failing = true;
  }
  persist(self);
  release_idle_firer(self);
  if (st.remove_after_fire && outcome.ok())
    self->send(st.registry, remove_atom::value, st.record.trigger);
}

void on_child_down(trigger_pointer self, child_kind kind, const caf::error& reason) {
  auto& st = self->state;
  if (kind == child_kind::firer) {
    // Fires the crashed firer had accepted got no answer: count them as failed.
    st.record.status.failures += static_cast<std::int64_t>(st.in_flight);
    st.in_flight = 0;
  }
  if (!reason || st.record.status.state != registration_state::active)
    return;
  auto& policy = kind == child_kind::source ? st.source_restarts : st.firer_restarts;
  auto text = describe_child_error(reason);
  auto delay = policy.on_crash(self->clock().now());
  if (!delay) {
    log(log_level::warn, "disabling ", st.record.trigger.qualified(), ": its ", child_name(kind), " crashed too often: ",
        text);
    disable(self, 0, std::string{child_name(kind)} + " crashed more than " + std::to_string(st.env->restarts.max_restarts)
                       + " times within " + std::to_string(st.env->restarts.window.count() / 1000)
                       + " s; last error: " + text);
    return;
  }
  log(log_level::info, "restarting the ", child_name(kind), " of ", st.record.trigger.qualified(), " in ",
      delay->count(), " ms after: ", text);
  self->delayed_send(self, *delay, restart_atom::value, static_cast<int>(kind), st.generation);
}

void activate(trigger_pointer self) {
  auto& st = self->state;
  st.source_restarts.reset();
  st.firer_restarts.reset();
  set_state(self, registration_state::active, {});
  start_children(self);
}

caf::behavior trigger_impl(trigger_pointer self, caf::actor registry, trigger_env_ptr env,
                           registration_record record, std::optional<feed_config> config) {
  auto& st = self->state;
  st.registry = std::move(registry);
  st.env = std::move(env);
  st.record = std::move(record);
  st.config = std::move(config);
  st.source_restarts = restart_policy{st.env->restarts};
  st.firer_restarts = restart_policy{st.env->restarts};
  st.env->stats->record_state_change(std::nullopt, st.record.status.state);
  st.counted_state = std::make_shared<registration_state>(st.record.status.state);
  self->attach_functor([stats = st.env->stats, counted = st.counted_state] {
    stats->record_state_change(*counted, std::nullopt);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.source && msg.source == st.source.address()) {
      st.source = nullptr;
      on_child_down(self, child_kind::source, msg.reason);
    } else if (st.firer && msg.source == st.firer.address()) {
      st.firer = nullptr;
      on_child_down(self, child_kind::firer, msg.reason);
    } else if (msg.source == st.registry.address()) {
      self->quit(msg.reason);
    }
    // Anything else is a child released earlier whose exit was already queued: nothing to do.
  });
  if (st.record.status.state == registration_state::active && st.config)
    start_children(self);
  return {
    [self](status_atom) { return snapshot(self); },
    [self](pause_atom) {
      auto& st = self->state;
      if (st.record.status.state != registration_state::paused) {
        set_state(self, registration_state::paused, {reason_kind::user, 0, "paused by the owner"});
        stop_children(self);
        persist(self);
      }
      return snapshot(self);
    },
    [self](resume_atom) {
      auto& st = self->state;
      auto exhausted = st.record.status.triggers_left && *st.record.status.triggers_left <= 0;
      if (st.record.status.state != registration_state::active && st.config && !exhausted) {
        activate(self);
        persist(self);
      }
      return snapshot(self);
    },
    [self](update_atom, feed_config& config, std::string& params_json) {
      auto& st = self->state;
      st.record.params_json = std::move(params_json);
      auto max_changed = !st.config || st.config->alarm->max_triggers != config.alarm->max_triggers;
      st.config = std::move(config);
      if (max_changed)
        st.record.status.triggers_left = st.config->alarm->max_triggers;
      st.remove_after_fire = false;
      if (st.record.status.state == registration_state::active) {
        // The source restarts with the new schedule from the same position (last occurrence).
        ++st.generation;
        release(self, st.source);
        st.next_fire = std::nullopt;
        start_source(self);
      }
      persist_record(self);
      return snapshot(self);
    },
    [self](next_atom, std::int64_t next_ms) { self->state.next_fire = sys_ms{milliseconds{next_ms}}; },
    [self](occur_atom, std::int64_t occurrence_ms, std::int64_t next_ms) {
      std::optional<sys_ms> next;
      if (next_ms >= 0)
        next = sys_ms{milliseconds{next_ms}};
      on_occurrence(self, sys_ms{milliseconds{occurrence_ms}}, next);
    },
    [self](ended_atom) {
      auto& st = self->state;
      if (st.record.status.state == registration_state::active)
        disable(self, 0, schedule_end_reason(st));
    },
    [self](fired_atom, std::uint64_t, http_outcome& outcome) { on_fired(self, outcome); },
    [self](restart_atom, int kind, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.generation || st.record.status.state != registration_state::active)
        return;
      if (static_cast<child_kind>(kind) == child_kind::source && !st.source)
        start_source(self);
      else if (static_cast<child_kind>(kind) == child_kind::firer && !st.firer)
        start_firer(self);
    },
  };
}

} // namespace

caf::actor spawn_trigger(caf::local_actor* registry, trigger_env_ptr env, registration_record record,
                         std::optional<feed_config> config) {
  return registry->spawn<caf::linked>(trigger_impl, caf::actor_cast<caf::actor>(registry), std::move(env),
                                      std::move(record), std::move(config));
}

} // namespace feedrouter
