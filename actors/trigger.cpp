// The trigger actor: a registration's supervisor and the glue around its delivery core. The core decides what happens
// to events (core/delivery_core.hpp); this file feeds it what arrives (events, fire answers, timers, state changes)
// and carries out the actions it returns. The alarm schedule and webhook intake are in files of their own.

#include "actors/trigger.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/child_error.hpp"
#include "actors/detail/trigger_state.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

constexpr std::string_view child_name(child_kind kind) {
  return kind == child_kind::source ? "source" : "firer";
}

trigger_snapshot snapshot(trigger_pointer self) {
  auto& st = self->state;
  live_status live;
  live.next_fire = st.next_fire;
  live.pending_events = static_cast<std::int64_t>(st.delivery.buffered());
  live.retrying = st.delivery.current() == delivery_core::state::backing_off;
  live.source_errors = st.source_errors;
  live.source_error = st.source_error;
  if (st.config && st.config->webhook)
    live.hook_url = st.env->public_url + "/v1/hooks/" + st.config->webhook->hook_id;
  return {st.record.status, std::move(live)};
}

/// Stores the whole record: after an UPDATE, whose new parameters go together with the current status. Sent from
/// here, not the registry, so that it can never overtake or be overtaken by this trigger's status updates.
void persist_record(trigger_pointer self) {
  auto& st = self->state;
  if (st.fenced)
    return;
  auto on_error = [self](caf::error& err) {
    if (!stop_if_fenced(self, err))
      log(log_level::error, "cannot store the update of ", self->state.record.trigger.qualified(), ": ",
          describe_child_error(err));
  };
  if (st.fence)
    self->request(st.env->store, caf::infinite, put_atom::value, st.record, *st.fence)
      .then([](commit_atom) {}, on_error);
  else
    self->request(st.env->store, caf::infinite, put_atom::value, st.record).then([](commit_atom) {}, on_error);
}

/// Returns how the registration delivers: its batching and retry limits over the provider's defaults.
delivery_settings delivery_of(const trigger_env& env, const std::optional<feed_config>& config) {
  delivery_settings settings;
  settings.window = std::max<std::size_t>(env.fire_window, 1);
  settings.max_buffered = env.max_buffered_events;
  settings.retries = env.retries;
  if (!config)
    return settings;
  settings.batch_size = config->delivery.batch_size;
  settings.batch_window = config->delivery.batch_window;
  settings.envelope = config->delivery.envelope;
  if (config->delivery.max_attempts)
    settings.retries.max_attempts = *config->delivery.max_attempts;
  if (config->delivery.max_age)
    settings.retries.max_age = *config->delivery.max_age;
  return settings;
}

// -- children ---------------------------------------------------------------------------

void start_source(trigger_pointer self) {
  auto& st = self->state;
  // Webhook events arrive from the HTTP server through the registry: there is no source to run.
  if (!st.config || st.config->webhook)
    return;
  const auto& from = st.accepted_checkpoint.empty() ? st.record.status.checkpoint : st.accepted_checkpoint;
  source_args args{*st.config, st.record.created, st.record.status.last_occurrence, from};
  st.source = st.env->spawn_source(self, args);
  if (st.source)
    carry_out(self, st.delivery.source_started());
  else if (st.config->alarm)
    start_alarm(self);
}

/// Stops the registration's work: the source at once, the firer once nothing is on the wire (the delivery core says
/// when). Retries are called off; their events wait for the resume.
void stop_children(trigger_pointer self) {
  auto& st = self->state;
  ++st.generation;
  release(self, st.source);
  st.source_ended = false;
  st.next_fire = std::nullopt;
  carry_out(self, st.delivery.stop());
}

/// Disables the registration (AUTO): its children stop, its status is stored.
void stop_disabled(trigger_pointer self, int status_code, std::string message) {
  set_state(self, registration_state::disabled, {reason_kind::automatic, status_code, std::move(message)});
  stop_children(self);
  persist(self);
}

} // namespace

void disable(trigger_pointer self, int status_code, std::string message) {
  self->state.env->stats->count_auto_disable(self->state.record.feed);
  stop_disabled(self, status_code, std::move(message));
}

void disable_at_max_triggers(trigger_pointer self, std::string message) {
  stop_disabled(self, 0, std::move(message));
}

namespace {

void activate(trigger_pointer self) {
  auto& st = self->state;
  st.restarts.reset();
  set_state(self, registration_state::active, {});
  st.source_ended = false;
  start_source(self);
  carry_out(self, st.delivery.start());
}

void on_child_down(trigger_pointer self, child_kind kind, const caf::error& reason) {
  auto& st = self->state;
  if (kind == child_kind::firer)
    carry_out(self, st.delivery.firer_lost());
  else
    st.delivery.source_stopped();
  auto restart = reason && st.record.status.state == registration_state::active;
  if (!restart) {
    if (kind == child_kind::firer)
      carry_out(self, st.delivery.firer_ready());
    return;
  }
  if (!st.restarts)
    st.restarts = std::make_unique<std::pair<restart_policy, restart_policy>>(restart_policy{st.env->restarts},
                                                                              restart_policy{st.env->restarts});
  auto& policy = kind == child_kind::source ? st.restarts->first : st.restarts->second;
  auto text = describe_child_error(reason);
  auto delay = policy.on_crash(self->clock().now());
  if (!delay) {
    log(log_level::warn, "disabling ", st.record.trigger.qualified(), ": its ", child_name(kind),
        " crashed too often: ", text);
    disable(self, 0,
            std::string{child_name(kind)} + " crashed more than " + std::to_string(st.env->restarts.max_restarts)
              + " times within " + std::to_string(st.env->restarts.window.count() / 1000) + " s; last error: " + text);
    if (kind == child_kind::firer)
      carry_out(self, st.delivery.firer_ready());
    return;
  }
  log(log_level::info, "restarting the ", child_name(kind), " of ", st.record.trigger.qualified(), " in ",
      delay->count(), " ms after: ", text);
  using wakeup = trigger_wakeup::kind;
  arm_timer(self, *delay, {kind == child_kind::source ? wakeup::restart_source : wakeup::restart_firer, st.generation});
}

void on_restart(trigger_pointer self, child_kind kind, std::uint64_t generation) {
  auto& st = self->state;
  if (generation != st.generation || st.record.status.state != registration_state::active)
    return;
  if (kind == child_kind::source && !st.source)
    start_source(self);
  else if (kind == child_kind::firer)
    carry_out(self, st.delivery.firer_ready());
}

// -- carrying out the delivery core's actions ---------------------------------------------

/// Returns the store changes of the outcomes in `out`: stored events erased, dead letters put.
std::vector<store_op> store_ops(const trigger_state& st, delivery_actions& out) {
  std::vector<store_op> ops;
  ops.reserve(out.erase.size() + out.dead_letters.size() + 1);
  for (auto seq : out.erase) {
    auto op = make_op(st, store_op::kind::erase_event);
    op.event.seq = seq;
    ops.push_back(std::move(op));
  }
  for (auto& letter : out.dead_letters) {
    auto op = make_op(st, store_op::kind::put_dead_letter);
    op.letter = std::move(letter);
    ops.push_back(std::move(op));
  }
  return ops;
}

void note_failures(trigger_pointer self, const delivery_actions& out) {
  auto& st = self->state;
  st.record.status.failures += out.failed;
  if (st.failing)
    return;
  st.failing = true;
  std::string error;
  int attempts = 0;
  if (out.refusal) {
    error = out.refusal->error;
    attempts = out.refusal->attempts;
  } else if (!out.dead_letters.empty()) {
    error = out.dead_letters.back().error;
    attempts = static_cast<int>(out.dead_letters.back().attempts);
  }
  log(log_level::warn, "fire of ", st.record.trigger.qualified(), " failed after ", attempts, " attempt(s): ", error,
      " (further failures are counted, not logged, until a fire succeeds)");
}

/// Applies the settled outcomes to the status and the store: events that are done leave the pending ones, dead
/// letters are put, the checkpoint moves, all in one transaction with the status. Each event is counted in the
/// metrics here, once, when its outcome settles, however many fires are in flight.
void record_outcomes(trigger_pointer self, delivery_actions& out) {
  auto& st = self->state;
  auto& status = st.record.status;
  if (out.fired_events > 0)
    st.env->stats->count_events(event_outcome::fired, st.record.feed, out.fired_events);
  if (!out.dead_letters.empty())
    st.env->stats->count_events(event_outcome::dead_lettered, st.record.feed, out.dead_letters.size());
  if (out.fired > 0) {
    status.fires += out.fired;
    status.last_fired = st.env->now();
    st.failing = false;
  }
  if (out.failed > 0)
    note_failures(self, out);
  status.dead_letters += static_cast<std::int64_t>(out.dead_letters.size());
  if (out.checkpoint)
    status.checkpoint = std::move(*out.checkpoint);
  if (out.dropped > 0)
    st.accepted_checkpoint.clear();
  answer_fired_hooks(st, out);
  if (out.changes_store())
    write(self, store_ops(st, out));
  else if (out.changes_status())
    // Without events to erase or letters to add, the status alone changed: the coalescing path is cheaper.
    persist(self);
}

} // namespace

void arm_timer(trigger_pointer self, std::chrono::milliseconds delay, trigger_wakeup wakeup) {
  self->send(self->state.env->timers, arm_atom::value, caf::timespan{delay}, wakeup);
}

bool may_fire(const trigger_state& st) {
  return st.record.status.state == registration_state::active || st.source_ended;
}

bool fire_after_schedule_end(trigger_pointer self) {
  auto& st = self->state;
  const auto& status = st.record.status;
  if (st.source_ended || status.state != registration_state::disabled || !st.config)
    return st.source_ended;
  // Disabled by the provider without a controller's refusal, and the schedule is used up: the schedule's end, also
  // when it came before a restart.
  if (status.reason.kind != reason_kind::automatic || status.reason.status_code != 0 || !schedule_used_up(st))
    return false;
  st.source_ended = true;
  carry_out(self, st.delivery.start());
  return true;
}

/// Reads the bodies the delivery core needs back from the store; the answer goes into the core. A failed read is
/// logged by the store and tried again by the core.
void load_bodies(trigger_pointer self, const load_request& load) {
  auto& st = self->state;
  self
    ->request(st.env->store, caf::infinite, pending_atom::value, st.record.trigger, load.from_seq, load.max_rows,
              load.max_bytes)
    .then([self](pending_page& page) { carry_out(self, self->state.delivery.on_loaded(std::move(page))); },
          [self](caf::error&) { carry_out(self, self->state.delivery.on_load_failed()); });
}

namespace {

/// How long an idle firer is kept for a next fire before it is released. A registration that fires every second keeps
/// its firer; a minute alarm, or a webhook with an event now and then, holds none in between (an actor costs about
/// 1.3 KiB of each of 100 000 registrations), and spawns one when it fires.
constexpr std::chrono::milliseconds firer_idle_linger{2000};

/// Releases the firer once the delivery core is idle: at once when the alarm schedule's next fire is further away
/// than firer_idle_linger, otherwise after the linger unless the registration fired meanwhile. One check is armed at
/// a time, not one per fire: a busy webhook fires thousands of times within a linger.
void release_idle_firer(trigger_pointer self) {
  auto& st = self->state;
  if (!st.firer || !st.delivery.idle() || st.idle_check_armed)
    return;
  if (st.next_fire && *st.next_fire - st.env->now() > firer_idle_linger) {
    release(self, st.firer);
    return;
  }
  st.idle_check_armed = true;
  arm_timer(self, firer_idle_linger, {trigger_wakeup::kind::firer_idle, st.fires_handed});
}

/// The idle check of the firer fell due: releases it unless it fired since the check was armed or holds something;
/// then checks again once it is idle.
void on_idle_check(trigger_pointer self, std::uint64_t fires_handed) {
  auto& st = self->state;
  st.idle_check_armed = false;
  if (fires_handed == st.fires_handed && st.delivery.idle())
    release(self, st.firer);
  else
    release_idle_firer(self);
}

} // namespace

void carry_out(trigger_pointer self, delivery_actions out) {
  auto& st = self->state;
  record_outcomes(self, out);
  if (out.refusal) {
    log(log_level::warn, "disabling ", st.record.trigger.qualified(), ": the controller refused a fire");
    disable(self, out.refusal->status_code, "the controller refused the fire: " + out.refusal->error);
  }
  if (!out.fires.empty() && !st.firer)
    st.firer = spawn_firer(self, self, st.env, st.record.trigger, st.record.auth_key, st.record.feed);
  st.fires_handed += out.fires.size();
  for (auto& unit : out.fires)
    self->send(st.firer, fire_atom::value, std::move(unit));
  for (const auto& timer : out.timers)
    arm_timer(self, timer.delay, {trigger_wakeup::kind::delivery, timer.id});
  if (out.load)
    load_bodies(self, *out.load);
  if (out.credit > 0 && st.source)
    self->send(st.source, credit_atom::value, out.credit);
  // A registration whose schedule ended keeps its firer only while it has something to fire.
  if (out.release_firer || (st.source_ended && st.delivery.idle()))
    release(self, st.firer);
  else
    release_idle_firer(self);
  if (out.fired > 0)
    on_fires_accepted(self, out.fired);
}

void set_state(trigger_pointer self, registration_state state, state_reason reason) {
  auto& status = self->state.record.status;
  if (status.state != state)
    self->state.env->stats->record_state_change(self->state.record.feed, status.state, state);
  status.state = state;
  *self->state.counted_state = state;
  status.reason = std::move(reason);
  status.date_changed = self->state.env->now();
  self->send(self->state.registry, status_atom::value, self->state.record.trigger, status);
  if (state != registration_state::active)
    refuse_unstored_hooks(self->state);
}

void persist(trigger_pointer self) {
  auto& st = self->state;
  if (st.fenced)
    return;
  if (st.fence)
    self->send(st.env->store, status_atom::value, st.record.trigger, st.record.status, *st.fence);
  else
    self->send(st.env->store, status_atom::value, st.record.trigger, st.record.status);
}

store_op make_op(const trigger_state& st, store_op::kind kind) {
  store_op op;
  op.op = kind;
  op.record.trigger = st.record.trigger;
  op.fence = st.fence;
  return op;
}

bool stop_if_fenced(trigger_pointer self, const caf::error& err) {
  auto& st = self->state;
  if (!is_fenced(err))
    return false;
  if (st.fenced)
    return true;
  st.fenced = true;
  log(log_level::info, "stopping ", st.record.trigger.qualified(), " here: its shard ", st.fence ? st.fence->shard : 0,
      " runs on another instance now (the store refused a change under lease epoch ",
      st.fence ? st.fence->epoch : 0, ")");
  stop_children(self);
  return true;
}

store_op put_event_op(const trigger_state& st, const stored_event& event) {
  auto op = make_op(st, store_op::kind::put_event);
  op.event = event;
  return op;
}

void set_config(trigger_pointer self, std::optional<feed_config> config) {
  auto& st = self->state;
  st.config = std::move(config);
  // The trigger and its source read the specs made from the parameters, never the parameters themselves (the record
  // keeps them as params_json): their parsed copy cost each of 100 000 alarms about 150 bytes.
  if (st.config)
    json_members{}.swap(st.config->params);
  // Most alarms fire an empty object: they share one, instead of a string each.
  static const auto empty_object = std::make_shared<const std::string>("{}");
  if (!st.config || !st.config->alarm)
    st.alarm_body = nullptr;
  else if (st.config->fire_body == *empty_object)
    st.alarm_body = empty_object;
  else
    st.alarm_body = std::make_shared<const std::string>(st.config->fire_body);
}

void write(trigger_pointer self, std::vector<store_op> ops) {
  auto& st = self->state;
  if (st.fenced)
    return;
  auto status = make_op(st, store_op::kind::put_status);
  status.record.status = st.record.status;
  ops.push_back(std::move(status));
  // No fire waits for these: they may linger for others to share their commit (the erase of an event fired before
  // its own put was committed cancels both).
  self->request(st.env->store, caf::infinite, write_atom::value, std::move(ops), linger_atom::value)
    .then([](commit_atom) {},
          [self](caf::error& err) {
            if (!stop_if_fenced(self, err))
              log(log_level::error, "cannot store the delivery state of ", self->state.record.trigger.qualified(),
                  ": ", describe_child_error(err));
          });
}

namespace {

// -- events from the source ----------------------------------------------------------------

bool from_running_source(trigger_pointer self) {
  auto& st = self->state;
  return st.record.status.state == registration_state::active && st.source
         && self->current_sender() == st.source.address();
}

/// An event from a source that can send it again from its checkpoint (not stored: the checkpoint is its safety).
void on_source_event(trigger_pointer self, std::string& body, std::string& checkpoint) {
  auto& st = self->state;
  if (!from_running_source(self))
    return;
  if (!checkpoint.empty())
    st.accepted_checkpoint = checkpoint;
  auto event = st.delivery.new_event(std::move(body), st.env->now(), false, std::move(checkpoint));
  st.env->stats->count_events(event_outcome::accepted, st.record.feed);
  carry_out(self, st.delivery.accept_from_source(std::move(event)));
}

/// Takes events from a source that cannot send them again (a poll's new items): they and the source's new checkpoint
/// are stored in one transaction before the source is told to go on, so a crash neither loses nor repeats them.
caf::result<commit_atom> on_source_items(trigger_pointer self, std::vector<std::string>& bodies,
                                         std::string& checkpoint) {
  auto& st = self->state;
  if (!from_running_source(self))
    return caf::make_error(caf::sec::request_receiver_down);
  if (!st.delivery.has_room(bodies.size()))
    return caf::make_error(caf::sec::runtime_error, std::string{"too many events are waiting for the controller"});
  std::vector<store_op> ops;
  std::vector<feed_event> events;
  auto now = st.env->now();
  for (auto& body : bodies) {
    auto event = st.delivery.new_event(std::move(body), now, true);
    ops.push_back(put_event_op(st, event.event));
    events.push_back(std::move(event));
  }
  auto previous_checkpoint = std::exchange(st.record.status.checkpoint, std::move(checkpoint));
  auto status = make_op(st, store_op::kind::put_status);
  status.record.status = st.record.status;
  ops.push_back(std::move(status));
  st.delivery.reserve(events.size());
  auto count = events.size();
  auto rp = self->make_response_promise<commit_atom>();
  self->request(st.env->store, caf::infinite, write_atom::value, std::move(ops))
    .then(
      [self, rp, events = std::move(events)](commit_atom) mutable {
        auto& st = self->state;
        st.env->stats->count_events(event_outcome::accepted, st.record.feed, events.size());
        carry_out(self, st.delivery.accept_reserved(std::move(events)));
        rp.deliver(commit_atom::value);
      },
      [self, rp, count, previous_checkpoint](caf::error& err) mutable {
        // Nothing was stored: the source keeps its old position and polls these items again.
        self->state.delivery.cancel_reservation(count);
        self->state.record.status.checkpoint = previous_checkpoint;
        stop_if_fenced(self, err);
        rp.deliver(err);
      });
  return rp;
}

// -- the registry's requests ---------------------------------------------------------------------

/// Returns whether an operator disabled the registration: then only an operator may change its state.
bool held_by_admin(const trigger_state& st) {
  return st.record.status.state == registration_state::disabled && st.record.status.reason.kind == reason_kind::admin;
}

trigger_snapshot on_pause(trigger_pointer self) {
  auto& st = self->state;
  if (st.record.status.state != registration_state::paused && !held_by_admin(st)) {
    set_state(self, registration_state::paused, {reason_kind::user, 0, "paused by the owner"});
    stop_children(self);
    persist(self);
  }
  return snapshot(self);
}

/// Activates the registration unless it is active, cannot run (invalid stored parameters) or used up its schedule.
trigger_snapshot enable(trigger_pointer self) {
  auto& st = self->state;
  auto exhausted = st.record.status.triggers_left && *st.record.status.triggers_left <= 0;
  if (st.record.status.state != registration_state::active && st.config && !exhausted) {
    activate(self);
    persist(self);
  }
  return snapshot(self);
}

trigger_snapshot on_resume(trigger_pointer self) {
  // The registry refuses an owner's resume of an ADMIN disable; one that passed it as the disable was under way
  // ends here.
  if (held_by_admin(self->state))
    return snapshot(self);
  return enable(self);
}

/// Disables on an operator's behalf, also a registration that only fires what its ended schedule left; a second
/// disable replaces the message.
trigger_snapshot on_admin_disable(trigger_pointer self, std::string& message) {
  set_state(self, registration_state::disabled, {reason_kind::admin, 0, std::move(message)});
  stop_children(self);
  persist(self);
  return snapshot(self);
}

/// UPDATE: takes the new parameters and restarts the children with them, from the same position (last occurrence or
/// checkpoint), or from the update's checkpoint when the registry prepared a new one. A registration the provider
/// disabled (AUTO) runs again when the new parameters can, with a fresh maxTriggers count, as OpenWhisk's UPDATE
/// re-enables a trigger; one the owner paused stays paused.
trigger_snapshot reconfigure(trigger_pointer self, trigger_update& update) {
  auto& st = self->state;
  st.record.params_json = std::move(update.params_json);
  auto max_changed = !st.config || st.config->max_triggers() != update.config.max_triggers();
  auto auto_disabled = st.record.status.state == registration_state::disabled
                       && st.record.status.reason.kind == reason_kind::automatic;
  set_config(self, std::move(update.config));
  st.delivery.configure(delivery_of(*st.env, st.config));
  if (max_changed || auto_disabled)
    st.record.status.triggers_left = st.config->max_triggers();
  if (update.checkpoint) {
    // Another database (the registry read where it ends): events from the old one, queued or not, no longer apply.
    st.record.status.checkpoint = std::move(*update.checkpoint);
    st.accepted_checkpoint.clear();
  }
  using deletion_step = trigger_deletion::step;
  auto busy_deleting = st.deletion.now != deletion_step::idle && st.deletion.now != deletion_step::failed;
  // A deletion that gave up is for the parameters before: the next one-shot fire begins a new one.
  if (!busy_deleting)
    reset_trigger_deletion(self);
  if (auto_disabled && !busy_deleting && !schedule_used_up(st)) {
    stop_children(self);
    activate(self);
  } else if (st.record.status.state == registration_state::active) {
    // The children restart with the new settings; the source from the same position (last occurrence or
    // checkpoint).
    stop_children(self);
    activate(self);
  }
  persist_record(self);
  return snapshot(self);
}

// -- the behavior ------------------------------------------------------------------------------

/// Returns what the byte budget calls when bytes the trigger waits for may fit: a message to the trigger, if it is
/// still there (the budget holds no strong reference to it).
std::function<void()> budget_waker(trigger_pointer self) {
  return [trigger = caf::actor_cast<caf::actor_addr>(self)] {
    if (auto alive = caf::actor_cast<wakeup_listener>(trigger))
      caf::anon_send(alive, wakeup_atom::value, trigger_wakeup{trigger_wakeup::kind::budget});
  };
}

/// Takes what a trigger waited for: a timer of the alarm schedule, the delivery core, a restart or a deletion, or a note.
void on_wakeup(trigger_pointer self, const trigger_wakeup& wakeup) {
  auto& st = self->state;
  using kind = trigger_wakeup::kind;
  switch (wakeup.what) {
    case kind::occurrence:
      on_alarm_tick(self, wakeup.id, wakeup.at);
      break;
    case kind::schedule_end:
      if (wakeup.id == st.generation && st.record.status.state == registration_state::active)
        end_schedule(self);
      break;
    case kind::delivery:
      carry_out(self, st.delivery.on_timer(wakeup.id));
      break;
    case kind::budget:
      carry_out(self, st.delivery.on_budget());
      break;
    case kind::restart_source:
      on_restart(self, child_kind::source, wakeup.id);
      break;
    case kind::restart_firer:
      on_restart(self, child_kind::firer, wakeup.id);
      break;
    case kind::deletion:
      on_deletion_timer(self, wakeup.id);
      break;
    case kind::firer_idle:
      on_idle_check(self, wakeup.id);
      break;
  }
}

void on_exit(trigger_pointer self, caf::exit_msg& msg) {
  auto& st = self->state;
  if (st.source && msg.source == st.source.address()) {
    st.source = nullptr;
    on_child_down(self, child_kind::source, msg.reason);
  } else if (st.firer && msg.source == st.firer.address()) {
    st.firer = nullptr;
    on_child_down(self, child_kind::firer, msg.reason);
  } else if (msg.source == st.registry.address() || msg.source == self->address()) {
    // From the registry, or sent anonymously (anon_send_exit names the receiver as the source), as the registry's
    // state does when the registry ends.
    self->quit(msg.reason);
  }
  // Anything else is a child released earlier whose exit was already queued: nothing to do.
}

trigger_private::behavior_type trigger_impl(trigger_pointer self, caf::actor registry, trigger_env_ptr env,
                                            registration_record record, std::optional<feed_config> config,
                                            std::optional<fencing_token> fence) {
  auto& st = self->state;
  st.fence = fence;
  st.registry = caf::actor_cast<trigger_owner>(std::move(registry));
  st.env = std::move(env);
  st.delivery.configure(delivery_of(*st.env, config));
  if (st.env->budget)
    st.delivery.use_budget(byte_account{st.env->budget, budget_waker(self)});
  st.delivery.restore(record.pending, record.last_seq);
  record.pending = {};
  seed_replay_window(st, std::move(record.deliveries));
  st.record = std::move(record);
  set_config(self, std::move(config));
  st.env->stats->record_state_change(st.record.feed, std::nullopt, st.record.status.state);
  st.counted_state = std::make_shared<registration_state>(st.record.status.state);
  self->attach_functor([stats = st.env->stats, counted = st.counted_state, feed = st.record.feed] {
    stats->record_state_change(feed, *counted, std::nullopt);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) { on_exit(self, msg); });
  if (st.record.status.state == registration_state::active && st.config) {
    start_source(self);
    carry_out(self, st.delivery.start());
  } else if (st.delivery.buffered() > 0) {
    // Stored with events left after its schedule ended (replayed dead letters): they still go out.
    fire_after_schedule_end(self);
  }
  resume_trigger_deletion(self);
  return {
    [self](snapshot_atom) { return snapshot(self); },
    [self](pause_atom) { return on_pause(self); },
    [self](resume_atom) { return on_resume(self); },
    [self](admin_disable_atom, std::string& message) { return on_admin_disable(self, message); },
    [self](admin_enable_atom) { return enable(self); },
    [self](update_atom, trigger_update& update) { return reconfigure(self, update); },
    [self](hook_atom, webhook_delivery& delivery) { return take_webhook(self, delivery); },
    [self](replay_atom) { return replay_dead_letters(self); },
    [self](fired_atom, fire_result& result) {
      // Released when this returns, after the outcome's store changes went to the store actor (see wire_token).
      auto in_flight = std::move(result.in_flight);
      auto& st = self->state;
      carry_out(self, st.delivery.on_outcome(result.id, result.outcome, st.env->now(), st.env->random()));
    },
    [self](event_atom, std::string& body, std::string& checkpoint) { on_source_event(self, body, checkpoint); },
    [self](items_atom, std::vector<std::string>& bodies, std::string& checkpoint) {
      return on_source_items(self, bodies, checkpoint);
    },
    [self](disable_atom, int status_code, std::string& message) {
      // A source released earlier may still have this in the mailbox: only the running one speaks for the registration.
      if (!from_running_source(self))
        return;
      log(log_level::warn, "disabling ", self->state.record.trigger.qualified(), ": ", message);
      disable(self, status_code, std::move(message));
    },
    [self](source_status_atom, std::string& error) {
      auto& st = self->state;
      if (!st.source || self->current_sender() != st.source.address())
        return;
      if (!error.empty())
        ++st.source_errors;
      st.env->stats->record_source_report(st.record.feed, !st.source_error.empty(), !error.empty());
      st.source_error = std::move(error);
    },
    [self](wakeup_atom, const trigger_wakeup& wakeup) { on_wakeup(self, wakeup); },
  };
}

} // namespace

trigger_actor spawn_trigger(caf::local_actor* registry, trigger_env_ptr env, registration_record record,
                            std::optional<feed_config> config, std::optional<fencing_token> fence) {
  return registry->spawn(trigger_impl, caf::actor_cast<caf::actor>(registry), std::move(env), std::move(record),
                         std::move(config), fence);
}

} // namespace feedrouter
