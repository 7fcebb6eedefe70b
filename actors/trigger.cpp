#include "actors/trigger.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/firer.hpp"
#include "actors/lazy_fifo.hpp"
#include "actors/messages.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/status_json.hpp"
#include "core/webhook_signature.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

enum class child_kind : int { source, firer };

constexpr std::string_view child_name(child_kind kind) {
  return kind == child_kind::source ? "source" : "firer";
}

/// Dead letters one replay moves back at most; a larger backlog takes several replays.
constexpr std::size_t replay_limit = 10'000;

constexpr char signature_header[] = "X-Hub-Signature-256";
constexpr char token_header[] = "X-Feedrouter-Token";

struct trigger_state {
  caf::actor registry;
  trigger_env_ptr env;
  registration_record record;
  std::optional<feed_config> config;
  caf::actor source;
  caf::actor firer;
  restart_policy source_restarts;
  restart_policy firer_restarts;
  std::optional<sys_ms> next_fire;
  /// Bumped whenever children are released, so timers armed before no longer apply.
  std::uint64_t generation = 0;
  /// deleteAfterFire: remove the registration once the fire of its one occurrence succeeded.
  bool remove_after_fire = false;
  /// The last fire failed; the next failure is not logged again until a fire succeeds.
  bool failing = false;
  /// The state as the metrics count it, shared with the exit hook that uncounts it (which outlives this struct).
  std::shared_ptr<registration_state> counted_state;

  // -- delivery ---------------------------------------------------------------

  lazy_fifo<feed_event> queue;              ///< accepted, not yet part of a fire
  lazy_fifo<std::vector<feed_event>> ready; ///< batches split after a 413; fired before the queue
  std::vector<feed_event> in_flight;         ///< the events of the fire at the firer
  std::uint64_t fire_id = 0;                 ///< id of the fire in flight
  bool firing = false;
  bool backing_off = false;
  std::uint64_t next_seq = 1;
  std::int64_t credit = 0;    ///< events the source may still send
  std::size_t storing = 0;    ///< webhook events and counted occurrences whose store write is under way
  std::uint64_t batch_timer = 0;
  bool batch_timer_armed = false;
  bool batch_due = false;     ///< the window of the partial batch at the queue's front has passed
  /// The schedule ended: what is queued still goes out, then the firer is released.
  bool draining = false;
  /// Checkpoint of the newest event the running source sent: a restarted source goes on from there, since the
  /// events before it are queued here already. Cleared when those events are dropped (the source then starts from
  /// the stored checkpoint, which only moves past events that are done).
  std::string accepted_checkpoint;
  bool replaying = false; ///< a replay of dead letters is under way; a second one would load the same letters
  std::int64_t source_errors = 0; ///< failed attempts of the source (polls), shown in status
  std::string source_error;       ///< the last one's error; cleared when the source works again

  static inline const char* name = "trigger";
};

using trigger_pointer = caf::stateful_actor<trigger_state>*;

std::size_t buffered(const trigger_state& st) {
  auto n = st.queue.size() + st.in_flight.size() + st.storing;
  for (const auto& batch : st.ready)
    n += batch.size();
  return n;
}

trigger_snapshot snapshot(trigger_pointer self) {
  auto& st = self->state;
  live_status live;
  live.next_fire = st.next_fire;
  live.pending_events = static_cast<std::int64_t>(buffered(st));
  live.retrying = st.backing_off;
  live.source_errors = st.source_errors;
  live.source_error = st.source_error;
  if (st.config && st.config->webhook)
    live.hook_url = st.env->public_url + "/v1/hooks/" + st.config->webhook->hook_id;
  return {st.record.status, std::move(live)};
}

void persist(trigger_pointer self) {
  auto& st = self->state;
  self->send(st.env->store, status_atom::value, st.record.trigger, st.record.status);
}

/// Returns a store change of `kind` for this registration.
store_op make_op(const trigger_state& st, store_op::kind kind) {
  store_op op;
  op.op = kind;
  op.record.trigger = st.record.trigger;
  return op;
}

/// Returns the store change that records the current status.
store_op status_op(const trigger_state& st) {
  auto op = make_op(st, store_op::kind::put_status);
  op.record.status = st.record.status;
  return op;
}

/// Returns the store change that stores `event` as pending.
store_op put_event_op(const trigger_state& st, const stored_event& event) {
  auto op = make_op(st, store_op::kind::put_event);
  op.event = event;
  return op;
}

/// Commits `ops` together with the current status, in one transaction.
void write(trigger_pointer self, std::vector<store_op> ops) {
  auto& st = self->state;
  ops.push_back(status_op(st));
  self->request(st.env->store, caf::infinite, write_atom::value, std::move(ops))
    .then([](commit_atom) {},
          [trigger = st.record.trigger](caf::error& err) {
            log(log_level::error, "cannot store the delivery state of ", trigger.qualified(), ": ",
                describe_child_error(err));
          });
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

void set_state(trigger_pointer self, registration_state state, state_reason reason) {
  auto& status = self->state.record.status;
  if (status.state != state)
    self->state.env->stats->record_state_change(status.state, state);
  status.state = state;
  *self->state.counted_state = state;
  status.reason = std::move(reason);
  status.date_changed = self->state.env->now();
}

retry_options effective_retries(const trigger_state& st) {
  auto retries = st.env->retries;
  if (st.config && st.config->delivery.max_attempts)
    retries.max_attempts = *st.config->delivery.max_attempts;
  if (st.config && st.config->delivery.max_age)
    retries.max_age = *st.config->delivery.max_age;
  return retries;
}

// -- children ---------------------------------------------------------------------

void start_alarm(trigger_pointer self);

void start_source(trigger_pointer self) {
  auto& st = self->state;
  // Webhook events arrive from the HTTP server through the registry: there is no source to run.
  if (!st.config || st.config->webhook)
    return;
  const auto& from = st.accepted_checkpoint.empty() ? st.record.status.checkpoint : st.accepted_checkpoint;
  source_args args{*st.config, st.record.created, st.record.status.last_occurrence, from};
  st.source = st.env->spawn_source(self, args);
  st.credit = 0;
  if (!st.source && st.config->alarm)
    start_alarm(self);
}

void start_firer(trigger_pointer self) {
  auto& st = self->state;
  st.firer = spawn_firer(self, st.env, st.record.trigger, st.record.auth_key, effective_retries(st));
}

/// Grants the source what the buffer bound allows, unless the controller is being retried: a slow controller then
/// throttles the source instead of filling memory.
void grant_credit(trigger_pointer self) {
  auto& st = self->state;
  if (!st.source || st.backing_off || st.record.status.state != registration_state::active)
    return;
  auto limit = static_cast<std::int64_t>(st.env->max_buffered_events);
  auto room = limit - static_cast<std::int64_t>(buffered(st)) - st.credit;
  // Top up in large steps, not one message per event.
  if (room <= 0 || (st.credit > 0 && room < limit / 2))
    return;
  st.credit += room;
  self->send(st.source, credit_atom::value, room);
}

/// Takes the fire in flight back (its events go first next time) and forgets events that need not survive a stop:
/// a source that can replay (from its checkpoint) sends them again, and alarm occurrences are not fired late.
void recall_events(trigger_pointer self) {
  auto& st = self->state;
  if (!st.in_flight.empty())
    st.ready.push_front(std::move(st.in_flight));
  st.in_flight.clear();
  st.firing = false;
  st.backing_off = false;
  auto unstored = [](const feed_event& e) { return !e.stored; };
  st.queue.remove_if(unstored);
  st.accepted_checkpoint.clear();
  for (auto& batch : st.ready)
    batch.erase(std::remove_if(batch.begin(), batch.end(), unstored), batch.end());
  st.ready.remove_if([](const auto& batch) { return batch.empty(); });
}

/// Stops the registration's work: the source at once; the firer too, unless a request is on the wire, whose answer
/// is awaited (and counted) first. A fire waiting for a retry is taken back.
void stop_children(trigger_pointer self) {
  auto& st = self->state;
  ++st.generation;
  release(self, st.source);
  st.draining = false;
  st.next_fire = std::nullopt;
  st.credit = 0;
  st.batch_timer_armed = false;
  if (st.firing && !st.backing_off)
    return;
  release(self, st.firer);
  recall_events(self);
}

void disable(trigger_pointer self, int status_code, std::string message) {
  set_state(self, registration_state::disabled, {reason_kind::automatic, status_code, std::move(message)});
  stop_children(self);
  persist(self);
}

// -- firing ---------------------------------------------------------------------------

std::string batch_body(const std::vector<feed_event>& events) {
  json_writer out;
  out.begin_object().key("events").begin_array();
  for (const auto& e : events)
    out.raw(e.event.body);
  out.end_array().end_object();
  return out.take();
}

void send_fire(trigger_pointer self, std::vector<feed_event> events) {
  auto& st = self->state;
  if (!st.firer)
    start_firer(self);
  fire_unit unit;
  unit.id = ++st.fire_id;
  unit.body = st.config->delivery.batch_size > 1 ? batch_body(events) : events.front().event.body;
  unit.oldest_accepted = events.front().event.accepted;
  st.in_flight = std::move(events);
  st.firing = true;
  self->send(st.firer, fire_atom::value, std::move(unit));
}

/// Hands the next fire to the firer when it is free: split batches first, then the queue, batched by batchSize and
/// batchWindowMs.
void pump(trigger_pointer self) {
  auto& st = self->state;
  auto may_fire = st.record.status.state == registration_state::active || st.draining;
  if (st.firing || !st.config || !may_fire)
    return;
  if (!st.ready.empty()) {
    auto batch = std::move(st.ready.front());
    st.ready.pop_front();
    send_fire(self, std::move(batch));
    return;
  }
  if (st.queue.empty())
    return;
  auto size = st.config->delivery.batch_size;
  if (size > 1 && st.queue.size() < size && !st.batch_due) {
    if (!st.batch_timer_armed) {
      st.batch_timer_armed = true;
      self->delayed_send(self, st.config->delivery.batch_window, batch_atom::value, ++st.batch_timer);
    }
    return;
  }
  // The window belonged to the batch that goes out now; a later partial batch gets a window of its own.
  st.batch_due = false;
  st.batch_timer_armed = false;
  ++st.batch_timer;
  auto take = std::min(size, st.queue.size());
  std::vector<feed_event> events;
  events.reserve(take);
  for (std::size_t i = 0; i < take; ++i) {
    events.push_back(std::move(st.queue.front()));
    st.queue.pop_front();
  }
  send_fire(self, std::move(events));
}

void accept(trigger_pointer self, feed_event event) {
  self->state.queue.push_back(std::move(event));
  pump(self);
}

/// Records that `events` are done: stored ones leave the store and the checkpoint moves past them.
void finish(trigger_pointer self, const std::vector<feed_event>& events, std::vector<store_op> ops) {
  auto& st = self->state;
  for (const auto& e : events) {
    if (e.stored) {
      auto erase = make_op(st, store_op::kind::erase_event);
      erase.event.seq = e.event.seq;
      ops.push_back(std::move(erase));
    }
    if (!e.checkpoint.empty())
      st.record.status.checkpoint = e.checkpoint;
  }
  // Without events to erase or letters to add, the status alone changed: the coalescing path is cheaper.
  if (ops.empty())
    persist(self);
  else
    write(self, std::move(ops));
}

void note_failure(trigger_pointer self, const fire_report& report) {
  auto& st = self->state;
  ++st.record.status.failures;
  if (!st.failing)
    log(log_level::warn, "fire of ", st.record.trigger.qualified(), " failed after ", report.attempts,
        " attempt(s): ", report.error, " (further failures are counted, not logged, until a fire succeeds)");
  st.failing = true;
}

void dead_letter_events(trigger_pointer self, std::vector<feed_event> events, const fire_report& report) {
  auto& st = self->state;
  note_failure(self, report);
  std::vector<store_op> ops;
  auto now = st.env->now();
  for (const auto& e : events) {
    auto op = make_op(st, store_op::kind::put_dead_letter);
    op.letter = dead_letter{e.event, now, report.status_code, report.error, report.attempts};
    ops.push_back(std::move(op));
  }
  st.record.status.dead_letters += static_cast<std::int64_t>(events.size());
  finish(self, events, std::move(ops));
}

void on_fired(trigger_pointer self, std::uint64_t id, fire_report& report) {
  // Released when this returns, after the outcome's store changes went to the store actor (see wire_token).
  auto in_flight = std::move(report.in_flight);
  auto& st = self->state;
  if (!st.firing || id != st.fire_id)
    return;
  st.firing = false;
  st.backing_off = false;
  auto events = std::move(st.in_flight);
  st.in_flight.clear();
  switch (report.verdict) {
    case fire_verdict::fired:
      ++st.record.status.fires;
      st.record.status.last_fired = st.env->now();
      st.failing = false;
      finish(self, events, {});
      if (st.remove_after_fire)
        self->send(st.registry, remove_atom::value, st.record.trigger);
      break;
    case fire_verdict::too_large:
      if (events.size() > 1) {
        // Halve the batch until it fits; only a single event that is still too big is dead-lettered.
        auto half = events.begin() + static_cast<std::ptrdiff_t>(events.size() / 2);
        st.ready.push_front(std::vector<feed_event>(std::make_move_iterator(half), std::make_move_iterator(events.end())));
        st.ready.push_front(std::vector<feed_event>(std::make_move_iterator(events.begin()), std::make_move_iterator(half)));
      } else {
        dead_letter_events(self, std::move(events), report);
      }
      break;
    case fire_verdict::dead:
      dead_letter_events(self, std::move(events), report);
      break;
    case fire_verdict::disable:
      note_failure(self, report);
      st.in_flight = std::move(events);
      disable(self, report.status_code, "the controller refused the fire: " + report.error);
      return;
    case fire_verdict::retry:
      break;
  }
  pump(self);
  grant_credit(self);
  if (st.draining && !st.firing)
    st.draining = false;
  if (!st.firing && !st.draining && st.record.status.state != registration_state::active) {
    release(self, st.firer);
    recall_events(self);
  }
}

// -- sources --------------------------------------------------------------------------

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

feed_event new_event(trigger_pointer self, std::string body, bool stored, std::string checkpoint) {
  auto& st = self->state;
  return {stored_event{st.next_seq++, std::move(body), st.env->now()}, stored, std::move(checkpoint)};
}

/// The schedule has no further occurrence: the registration becomes disabled, and fires already queued still go out.
void end_schedule(trigger_pointer self) {
  auto& st = self->state;
  set_state(self, registration_state::disabled, {reason_kind::automatic, 0, schedule_end_reason(st)});
  ++st.generation;
  release(self, st.source);
  st.next_fire = std::nullopt;
  persist(self);
  st.draining = true;
  pump(self);
  // A counted occurrence still being stored fires once it is; its fire's outcome ends the draining.
  if (!st.firing && st.storing == 0) {
    st.draining = false;
    release(self, st.firer);
  }
}

/// Fires the event of an occurrence of a schedule with maxTriggers once the count it took is stored: a crash in
/// between must not give the occurrence back (delivery rule 5.4), as a count stored after the fire would.
void accept_counted(trigger_pointer self, feed_event event) {
  auto& st = self->state;
  ++st.storing;
  self->request(st.env->store, caf::infinite, write_atom::value, std::vector<store_op>{status_op(st)})
    .then(
      [self, event = std::move(event)](commit_atom) mutable {
        auto& st = self->state;
        --st.storing;
        // Paused or replaced meanwhile: the occurrence is dropped, as a queued one would be.
        if (st.record.status.state == registration_state::active || st.draining)
          accept(self, std::move(event));
        if (st.draining && !st.firing && st.storing == 0) {
          st.draining = false;
          release(self, st.firer);
        }
      },
      [self, trigger = st.record.trigger](caf::error& err) {
        --self->state.storing;
        log(log_level::error, "occurrence of ", trigger.qualified(), " not fired: its count cannot be stored: ",
            describe_child_error(err));
      });
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
      end_schedule(self);
      return;
    }
    --*status.triggers_left;
  }
  if (st.config->alarm->delete_after_fire)
    st.remove_after_fire = true;
  auto event = new_event(self, st.config->fire_body, false, {});
  if (buffered(st) >= st.env->max_buffered_events) {
    // The controller has not kept up for a while: this occurrence goes to dead letters, visibly, not into memory.
    auto error = "not fired: " + std::to_string(buffered(st)) + " earlier fires are still waiting for the controller";
    dead_letter_events(self, {std::move(event)}, fire_report{fire_verdict::dead, 0, std::move(error), 0, {}});
  } else if (status.triggers_left) {
    // A count of maxTriggers must be stored before the fire. last_occurrence needs no haste: it is persisted with
    // the fire's outcome, since an occurrence that has passed is never taken again after a restart.
    accept_counted(self, std::move(event));
  } else {
    accept(self, std::move(event));
  }
  if (status.triggers_left && *status.triggers_left <= 0)
    end_schedule(self);
}

/// An event from a source that can replay it from its checkpoint (not stored: the checkpoint is its safety).
void on_source_event(trigger_pointer self, std::string body, std::string checkpoint) {
  auto& st = self->state;
  if (st.record.status.state != registration_state::active || self->current_sender() != st.source.address())
    return;
  --st.credit;
  if (!checkpoint.empty())
    st.accepted_checkpoint = checkpoint;
  accept(self, new_event(self, std::move(body), false, std::move(checkpoint)));
}

/// Takes events from a source that cannot replay them (a poll's new items): they and the source's new checkpoint are
/// stored in one transaction before the source is told to go on, so a crash neither loses nor repeats them.
caf::result<commit_atom> on_source_items(trigger_pointer self, std::vector<std::string>& bodies,
                                         std::string& checkpoint) {
  auto& st = self->state;
  if (st.record.status.state != registration_state::active || self->current_sender() != st.source.address())
    return caf::make_error(caf::sec::request_receiver_down);
  if (buffered(st) + bodies.size() > st.env->max_buffered_events)
    return caf::make_error(caf::sec::runtime_error, std::string{"too many events are waiting for the controller"});
  std::vector<store_op> ops;
  std::vector<feed_event> events;
  for (auto& body : bodies) {
    auto event = new_event(self, std::move(body), true, {});
    ops.push_back(put_event_op(st, event.event));
    events.push_back(std::move(event));
  }
  auto previous_checkpoint = std::exchange(st.record.status.checkpoint, std::move(checkpoint));
  ops.push_back(status_op(st));
  st.storing += events.size();
  auto rp = self->make_response_promise<commit_atom>();
  auto count = events.size();
  self->request(st.env->store, caf::infinite, write_atom::value, std::move(ops))
    .then(
      [self, rp, events = std::move(events)](commit_atom) mutable {
        self->state.storing -= events.size();
        for (auto& event : events)
          self->state.queue.push_back(std::move(event));
        pump(self);
        rp.deliver(commit_atom::value);
      },
      [self, rp, count, previous_checkpoint](caf::error& err) mutable {
        // Nothing was stored: the source keeps its old position and polls these items again.
        self->state.storing -= count;
        self->state.record.status.checkpoint = previous_checkpoint;
        rp.deliver(err);
      });
  return rp;
}

void on_child_down(trigger_pointer self, child_kind kind, const caf::error& reason) {
  auto& st = self->state;
  if (kind == child_kind::firer)
    recall_events(self);
  if (kind == child_kind::source)
    st.credit = 0;
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
  start_source(self);
  grant_credit(self);
  pump(self);
}

// -- the alarm schedule -----------------------------------------------------------------
//
// An alarm owns no connection, so its schedule runs here rather than in a source actor of its own (docs/architecture.md
// section 2): an actor per alarm would cost about 1.6 KiB of each of 100 000 registrations. Each occurrence is a
// delayed (tick_atom, generation, occurrence) to the trigger itself; stopping the children bumps the generation,
// which makes the ticks armed before it void.

void arm_alarm(trigger_pointer self, sys_ms occurrence) {
  auto& st = self->state;
  st.next_fire = occurrence;
  auto delay = std::max(milliseconds{0}, occurrence - st.env->now());
  self->delayed_send(self, delay, tick_atom::value, st.generation, occurrence.time_since_epoch().count());
}

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

// -- webhooks -------------------------------------------------------------------------

api_reply hook_error(int status, std::string_view message, std::string_view field = {}) {
  return {status, render_error(message, field)};
}

bool signature_ok(const webhook_spec& spec, const api_command& call) {
  if (spec.signature == webhook_spec::signature_kind::token)
    return verify_token(spec.secret, find_field(call.fields, token_header));
  return verify_hmac_sha256(spec.secret, call.body, find_field(call.fields, signature_header));
}

/// Takes one webhook request: checks its signature first, then stores the event before answering 202, so that a
/// crash after the answer still fires it.
caf::result<api_reply> on_hook(trigger_pointer self, api_command& call) {
  auto& st = self->state;
  if (!st.config)
    return hook_error(503, "the registration is disabled: " + st.record.status.reason.message);
  if (!st.config->webhook)
    return hook_error(404, "no webhook registration has this id", "hookId");
  const auto& spec = *st.config->webhook;
  if (!signature_ok(spec, call)) {
    auto header = spec.signature == webhook_spec::signature_kind::token ? token_header : signature_header;
    return hook_error(401, std::string{"missing or wrong "} + header, header);
  }
  if (st.record.status.state != registration_state::active) {
    auto why = st.record.status.reason.message.empty() ? std::string{to_string(st.record.status.state)}
                                                       : st.record.status.reason.message;
    return hook_error(503, "the registration is " + std::string{to_string(st.record.status.state)} + ": " + why);
  }
  std::string_view event_value;
  if (!spec.event_header.empty()) {
    event_value = find_field(call.fields, spec.event_header);
    if (!spec.events.empty() && std::find(spec.events.begin(), spec.events.end(), event_value) == spec.events.end())
      return api_reply{202, R"({"ignored":true})"};
  }
  if (buffered(st) >= st.env->max_buffered_events)
    return hook_error(429, "too many events are waiting for the controller; retry later");
  auto payload = webhook_payload(call.body, event_value, !spec.event_header.empty());
  auto event = new_event(self, merge_object_defaults(payload, st.config->fire_body), true, {});
  ++st.storing;
  auto rp = self->make_response_promise<api_reply>();
  self->request(st.env->store, caf::infinite, write_atom::value, std::vector<store_op>{put_event_op(st, event.event)})
    .then(
      [self, rp, event](commit_atom) mutable {
        --self->state.storing;
        auto seq = event.event.seq;
        accept(self, std::move(event));
        json_writer out;
        out.begin_object().key("accepted").value(true).key("seq").value(static_cast<std::int64_t>(seq)).end_object();
        rp.deliver(api_reply{202, out.take()});
      },
      [self, rp](caf::error& err) mutable {
        --self->state.storing;
        rp.deliver(hook_error(503, "cannot store the event: " + describe_child_error(err)));
      });
  return rp;
}

/// Moves dead letters back into the queue (stored as pending again, in their order) and answers how many.
caf::result<std::size_t> on_replay(trigger_pointer self) {
  auto& st = self->state;
  if (st.replaying)
    return caf::make_error(caf::sec::runtime_error, std::string{"a replay of this registration is already under way"});
  st.replaying = true;
  auto rp = self->make_response_promise<std::size_t>();
  self->request(st.env->store, caf::infinite, load_atom::value, st.record.trigger, replay_limit)
    .then(
      [self, rp](std::vector<dead_letter>& letters) mutable {
        auto& st = self->state;
        std::vector<store_op> ops;
        std::vector<feed_event> events;
        for (auto& letter : letters) {
          auto erase = make_op(st, store_op::kind::erase_dead_letter);
          erase.letter.event.seq = letter.event.seq;
          ops.push_back(std::move(erase));
          auto event = new_event(self, std::move(letter.event.body), true, {});
          ops.push_back(put_event_op(st, event.event));
          events.push_back(std::move(event));
        }
        st.record.status.dead_letters -= static_cast<std::int64_t>(events.size());
        st.storing += events.size();
        auto count = events.size();
        ops.push_back(status_op(st));
        self->request(st.env->store, caf::infinite, write_atom::value, std::move(ops))
          .then(
            [self, rp, events = std::move(events)](commit_atom) mutable {
              self->state.replaying = false;
              self->state.storing -= events.size();
              auto count = events.size();
              for (auto& event : events)
                self->state.queue.push_back(std::move(event));
              pump(self);
              rp.deliver(count);
            },
            [self, rp, count](caf::error& err) mutable {
              self->state.replaying = false;
              self->state.storing -= count;
              self->state.record.status.dead_letters += static_cast<std::int64_t>(count);
              rp.deliver(err);
            });
      },
      [self, rp](caf::error& err) mutable {
        self->state.replaying = false;
        rp.deliver(err);
      });
  return rp;
}

// -- behavior ---------------------------------------------------------------------------

void restore(trigger_pointer self, registration_record& record) {
  auto& st = self->state;
  for (auto& event : record.pending)
    st.queue.push_back(feed_event{std::move(event), true, {}});
  record.pending.clear();
  st.next_seq = record.last_seq + 1;
}

/// UPDATE: takes the new parameters and restarts the children with them, from the same position (last occurrence or
/// checkpoint), or from `checkpoint` when the registry read a new one.
trigger_snapshot reconfigure(trigger_pointer self, feed_config& config, std::string& params_json,
                             std::optional<std::string> checkpoint) {
  auto& st = self->state;
  st.record.params_json = std::move(params_json);
  auto max_changed = !st.config || !st.config->alarm || !config.alarm
                     || st.config->alarm->max_triggers != config.alarm->max_triggers;
  st.config = std::move(config);
  if (max_changed && st.config->alarm)
    st.record.status.triggers_left = st.config->alarm->max_triggers;
  st.remove_after_fire = false;
  if (checkpoint) {
    // Another database (the registry read where it ends): events from the old one, queued or not, no longer apply.
    st.record.status.checkpoint = std::move(*checkpoint);
    st.accepted_checkpoint.clear();
  }
  if (st.record.status.state == registration_state::active) {
    // The children restart with the new settings; the source from the same position (last occurrence or
    // checkpoint), the firer with the new retry limits.
    stop_children(self);
    activate(self);
  }
  persist_record(self);
  return snapshot(self);
}

caf::behavior trigger_impl(trigger_pointer self, caf::actor registry, trigger_env_ptr env,
                           registration_record record, std::optional<feed_config> config) {
  auto& st = self->state;
  st.registry = std::move(registry);
  st.env = std::move(env);
  restore(self, record);
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
    } else if (msg.source == st.registry.address() || msg.source == self->address()) {
      // From the registry, or sent anonymously (anon_send_exit names the receiver as the source), as the registry's
      // state does when the registry ends.
      self->quit(msg.reason);
    }
    // Anything else is a child released earlier whose exit was already queued: nothing to do.
  });
  if (st.record.status.state == registration_state::active && st.config) {
    start_source(self);
    grant_credit(self);
    pump(self);
  }
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
      return reconfigure(self, config, params_json, std::nullopt);
    },
    [self](update_atom, feed_config& config, std::string& params_json, std::string& checkpoint) {
      return reconfigure(self, config, params_json, std::move(checkpoint));
    },
    [self](hook_atom, api_command& call) { return on_hook(self, call); },
    [self](replay_atom) { return on_replay(self); },
    [self](tick_atom, std::uint64_t generation, std::int64_t occurrence_ms) {
      on_alarm_tick(self, generation, sys_ms{milliseconds{occurrence_ms}});
    },
    [self](event_atom, std::string& body, std::string& checkpoint) {
      on_source_event(self, std::move(body), std::move(checkpoint));
    },
    [self](items_atom, std::vector<std::string>& bodies, std::string& checkpoint) {
      return on_source_items(self, bodies, checkpoint);
    },
    [self](disable_atom, int status_code, std::string& message) {
      auto& st = self->state;
      // A source released earlier may still have this in the mailbox: only the running one speaks for the registration.
      if (st.record.status.state != registration_state::active || !st.source
          || self->current_sender() != st.source.address())
        return;
      log(log_level::warn, "disabling ", st.record.trigger.qualified(), ": ", message);
      disable(self, status_code, std::move(message));
    },
    [self](source_status_atom, std::string& error) {
      auto& st = self->state;
      if (!st.source || self->current_sender() != st.source.address())
        return;
      if (!error.empty())
        ++st.source_errors;
      st.source_error = std::move(error);
    },
    [self](ended_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation == st.generation && st.record.status.state == registration_state::active)
        end_schedule(self);
    },
    [self](fired_atom, std::uint64_t id, fire_report& report) { on_fired(self, id, report); },
    [self](backoff_atom, std::uint64_t id, int, std::int64_t) {
      auto& st = self->state;
      if (!st.firing || id != st.fire_id)
        return;
      st.backing_off = true;
      // Stopped while its last request was on the wire: no retry, the fire waits for the resume.
      if (st.record.status.state != registration_state::active && !st.draining) {
        release(self, st.firer);
        recall_events(self);
      }
    },
    [self](batch_atom, std::uint64_t timer) {
      auto& st = self->state;
      if (timer != st.batch_timer)
        return;
      st.batch_timer_armed = false;
      st.batch_due = true;
      pump(self);
    },
    [self](restart_atom, int kind, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.generation || st.record.status.state != registration_state::active)
        return;
      if (static_cast<child_kind>(kind) == child_kind::source && !st.source) {
        start_source(self);
        grant_credit(self);
      } else if (static_cast<child_kind>(kind) == child_kind::firer && !st.firer) {
        start_firer(self);
        pump(self);
      }
    },
  };
}

} // namespace

caf::actor spawn_trigger(caf::local_actor* registry, trigger_env_ptr env, registration_record record,
                         std::optional<feed_config> config) {
  return registry->spawn(trigger_impl, caf::actor_cast<caf::actor>(registry), std::move(env),
                                      std::move(record), std::move(config));
}

} // namespace feedrouter
