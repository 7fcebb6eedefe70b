#pragma once

// The state of a trigger actor and the functions its files share: actors/trigger.cpp (supervision, the glue around
// the delivery core, the behavior), actors/alarm_schedule.cpp, actors/webhook_intake.cpp and
// actors/dead_letter_replay.cpp. Private to actors/.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/firer.hpp"
#include "actors/messages.hpp"
#include "actors/source_protocol.hpp"
#include "actors/trigger.hpp"
#include "core/delivery_core.hpp"
#include "core/replay_window.hpp"
#include "core/restart_policy.hpp"

namespace feedrouter {

/// The children a trigger supervises.
enum class child_kind : int { source, firer };

/// The trigger with what its children, the timer wheel and it itself send it: fire answers, source events, and its
/// timers and notes (one message type, trigger_wakeup: each handler of a behavior costs every registration about 40
/// bytes). Only trigger_actor is public; the rest reaches it from its firer, its source, the wheel and itself.
using trigger_private = trigger_actor::extend_with<fire_listener, source_listener, wakeup_listener>;

/// deleteAfterFire: deleting the OpenWhisk trigger (with its rules first for "rules") once the one fire of a one-shot
/// alarm was accepted, then removing the registration (actors/trigger_deletion.cpp).
struct trigger_deletion {
  enum class step {
    idle,             ///< not begun
    reading_rules,    ///< GET of the trigger, for its rules
    deleting_rules,   ///< DELETE of each rule in `rules`
    deleting_trigger, ///< DELETE of the trigger
    removing,         ///< the registry removes the registration
    failed,           ///< refused, or retried as long as fires are: the registration stays disabled, saying why
  };

  step now = step::idle;
  std::vector<std::string> rules; ///< rules still to delete, "ns/rule"
  int failures = 0;               ///< failed attempts of the current step in a row
  sys_ms started{};               ///< when the deletion began, for the retries' age limit
  std::uint64_t attempt = 0;      ///< tells the current request's answer and timer from stale ones
};

/// A webhook event whose sender waits for its answer: 202 once the event is stored or fired, whichever comes first
/// (actors/webhook_intake.cpp).
struct unanswered_hook {
  std::uint64_t seq = 0;
  caf::typed_response_promise<api_result> promise;
  bool answered = false;
  /// Its put failed: only its fire can acknowledge it now (or a dead letter tell the sender to send it again).
  bool unstored = false;
  /// The sender's delivery id, if any: forgotten when the sender is told to send the event again.
  std::string delivery_id;
};

struct trigger_state {
  trigger_owner registry;
  trigger_env_ptr env;
  registration_record record;
  std::optional<feed_config> config;
  /// An alarm's fire body, shared by all its occurrences however many wait.
  std::shared_ptr<const std::string> alarm_body;
  source_actor source;
  /// Spawned when there is something to fire, released once the delivery core is idle (trigger.cpp).
  firer_actor firer;
  std::uint64_t fires_handed = 0; ///< fire units handed to a firer so far
  bool idle_check_armed = false;  ///< a check whether the firer stayed idle is on the timer wheel
  /// The restart policies of the source and the firer, made at the first crash of either: most registrations never
  /// see one, and the two policies cost each of 100 000 registrations 112 bytes.
  std::unique_ptr<std::pair<restart_policy, restart_policy>> restarts;
  std::optional<sys_ms> next_fire;
  /// Bumped whenever children are released, so timers armed before no longer apply.
  std::uint64_t generation = 0;
  /// deleteAfterFire: where deleting the OpenWhisk trigger is.
  trigger_deletion deletion;
  /// The alarm schedule has no further occurrence: the registration is disabled, and still fires what it holds (what
  /// was queued, replayed dead letters), since firing does not depend on the schedule.
  bool source_ended = false;
  /// The last fire failed; the next failure is not logged again until a fire succeeds.
  bool failing = false;
  /// The state as the metrics count it, shared with the exit hook that uncounts it (which outlives this struct).
  std::shared_ptr<registration_state> counted_state;
  /// The pipeline of the registration's events (docs/architecture.md section 5).
  delivery_core delivery;
  /// Checkpoint of the newest event the running source sent: a restarted source goes on from there, since the
  /// events before it are held here already. Cleared when those events are dropped (the source then starts from the
  /// stored checkpoint, which only moves past events that are done).
  std::string accepted_checkpoint;
  bool replaying = false;         ///< a replay of dead letters is under way; a second one would load the same letters
  std::int64_t source_errors = 0; ///< failed attempts of the source (polls), shown in status
  std::string source_error;       ///< the last one's error; cleared when the source works again
  /// Webhooks with a delivery id header: the ids of the latest deliveries, made on the first one or from those the
  /// store kept (a registration without the header, and one that never got a delivery, pay nothing for it).
  std::unique_ptr<replay_window> replays;
  /// Webhook events whose senders wait for their answer, in seq order; made on the first event (most registrations
  /// take none, and an empty deque allocates).
  std::unique_ptr<std::deque<unanswered_hook>> unanswered_hooks;
  /// When the alarm schedule last (re)started: a catchUp registration's occurrence due before it was missed while no
  /// instance ran the registration, and fires with "late": true.
  sys_ms schedule_started{};
  /// Cluster mode: the lease the trigger runs under, carried by every change it stores.
  std::optional<fencing_token> fence;
  /// The store refused a change because that lease moved on: the trigger stopped and stores nothing more.
  bool fenced = false;

  static inline const char* name = "trigger";
};

using trigger_pointer = trigger_private::stateful_pointer<trigger_state>;

// -- trigger.cpp ------------------------------------------------------------------------

/// Returns whether the registration may fire now: it is active, or its schedule ended and it fires what it holds.
bool may_fire(const trigger_state& st);

/// Arms a timer on the timer wheel: `wakeup` comes back after `delay`.
void arm_timer(trigger_pointer self, std::chrono::milliseconds delay, trigger_wakeup wakeup);

/// Lets a disabled registration fire what it holds when it was disabled by the end of its schedule (also one stored
/// before a restart); returns whether it may fire now.
bool fire_after_schedule_end(trigger_pointer self);

/// Carries out what the delivery core asked for: the store changes with the status (one transaction), the disabling
/// after a refusal, then the fires, timers and credit.
void carry_out(trigger_pointer self, delivery_actions out);

/// Changes the registration's state and reason, counted in the metrics and dated.
void set_state(trigger_pointer self, registration_state state, state_reason reason);

/// Disables the registration (AUTO) with `status_code` and `message`: its children stop, its status is stored.
void disable(trigger_pointer self, int status_code, std::string message);

/// Disables the registration (AUTO) with `message` because its `maxTriggers` fires are done: as disable(), but an
/// end the owner asked for, which the metrics do not count as the provider disabling it (as an ended schedule).
void disable_at_max_triggers(trigger_pointer self, std::string message);

/// Sends the status to the store (fire and forget, coalesced with other status updates there).
void persist(trigger_pointer self);

/// Commits `ops` together with the current status, in one transaction.
void write(trigger_pointer self, std::vector<store_op> ops);

/// Returns a store change of `kind` for this registration.
store_op make_op(const trigger_state& st, store_op::kind kind);

/// Returns the store change that stores `event` as pending.
store_op put_event_op(const trigger_state& st, const stored_event& event);

/// Returns whether `err`, a store's answer, says the trigger's lease moved on; then stops the trigger's work for good
/// (its shard runs on another instance now; the registry stops the trigger itself soon).
bool stop_if_fenced(trigger_pointer self, const caf::error& err);

/// Takes the registration's (new) parameters: the config, and what is derived from it once.
void set_config(trigger_pointer self, std::optional<feed_config> config);

/// Releases a child: unlinked first, so its exit is no crash to handle.
template <class Handle>
void release(trigger_pointer self, Handle& child) {
  if (!child)
    return;
  self->unlink_from(child);
  self->send_exit(child, caf::exit_reason::user_shutdown);
  child = nullptr;
}

// -- alarm_schedule.cpp -------------------------------------------------------------------

/// Starts an alarm's schedule: arms the first occurrence, or ends the schedule when none is left.
void start_alarm(trigger_pointer self);

/// An occurrence's timer fell due.
void on_alarm_tick(trigger_pointer self, std::uint64_t generation, sys_ms occurrence);

/// The schedule has no further occurrence: the registration becomes disabled, and what it holds still goes out.
void end_schedule(trigger_pointer self);

/// Returns whether a stored registration's alarm schedule is used up (no occurrence left, or maxTriggers reached):
/// then its disabling was the schedule's end, and what it holds may still fire.
bool schedule_used_up(const trigger_state& st);

// -- accepted_fires.cpp ----------------------------------------------------------------------

/// OpenWhisk accepted `fired` fires: they count against the `maxTriggers` of an event feed (an alarm counts its
/// occurrences instead), and the one fire of a one-shot alarm with deleteAfterFire starts deleting its trigger.
void on_fires_accepted(trigger_pointer self, std::int64_t fired);

/// Returns the reason message of a registration whose `maxTriggers` fires are done, in OpenWhisk's words.
std::string max_triggers_reached(std::int64_t max_triggers);

// -- trigger_deletion.cpp --------------------------------------------------------------------

/// Begins deleting the OpenWhisk trigger (and, for "rules", its rules first) with the owner's key; once it is gone the
/// registry removes the registration. Failures show in the status and are retried as fires are.
void begin_trigger_deletion(trigger_pointer self);

/// Begins again, at start-up, a deletion that a stop interrupted: a one-shot alarm with deleteAfterFire whose fire was
/// accepted and that is still stored.
void resume_trigger_deletion(trigger_pointer self);

/// The retry timer of a deletion step fell due.
void on_deletion_timer(trigger_pointer self, std::uint64_t attempt);

/// Forgets a deletion that gave up (UPDATE): its answers and timers no longer apply.
void reset_trigger_deletion(trigger_pointer self);

// -- dead_letter_replay.cpp ----------------------------------------------------------------

/// Moves dead letters back as pending events (stored as such, in their order) and has them fired; refused, with
/// nothing moved, when the registration cannot fire.
caf::result<api_result> replay_dead_letters(trigger_pointer self);

// -- webhook_intake.cpp -------------------------------------------------------------------

/// Takes one webhook request: checks its signature first, then hands the event to the delivery core and to the store
/// at once, and answers once it is stored or fired, whichever comes first: a crash after the answer loses nothing,
/// and the fire does not wait for the commit.
caf::result<api_result> take_webhook(trigger_pointer self, webhook_delivery& delivery);

/// Answers the senders of the webhook events that `out` settled and are not answered yet: a fire acknowledges an
/// event as its commit does; an event whose put failed and that went to dead letters is answered 503.
void answer_fired_hooks(trigger_state& st, const delivery_actions& out);

/// Answers 503 to the senders of the webhook events whose put failed and that are not fired yet: the registration
/// stopped firing (paused, disabled), so the fire that would acknowledge them may never come.
void refuse_unstored_hooks(trigger_state& st);

/// Makes the replay window from the deliveries the store kept (oldest first), so that a delivery taken before a
/// restart or a takeover is not taken again; nothing when there are none.
void seed_replay_window(trigger_state& st, std::vector<taken_delivery> deliveries);

} // namespace feedrouter
