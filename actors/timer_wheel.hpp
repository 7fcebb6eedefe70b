#pragma once

#include <cstdint>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "core/time_format.hpp"

namespace feedrouter {

/// Something a trigger waited for: one of its timers fell due (armed on the timer wheel), or a note it gets from
/// elsewhere (the byte budget has room, its alarm schedule ended).
struct trigger_wakeup {
  enum class kind : std::uint8_t {
    occurrence,     ///< timer: an alarm occurrence, `at`, of the children of generation `id`
    schedule_end,   ///< note: the alarm schedule of generation `id` has no further occurrence
    delivery,       ///< timer: the delivery core's timer `id` (a batch window, a retry back-off, a load retry)
    budget,         ///< note: the byte budget may have what the delivery core waits for
    restart_source, ///< timer: restart the crashed source of generation `id`
    restart_firer,  ///< timer: the crashed firer of generation `id` may be replaced
    deletion,       ///< timer: retry attempt `id` of deleting the OpenWhisk trigger (deleteAfterFire)
    firer_idle,     ///< timer: release the firer unless it fired since it was fire number `id`
  };

  kind what = kind::delivery;
  std::uint64_t id = 0;
  sys_ms at{}; ///< occurrence only
};

/// A trigger, as the timer wheel reaches it.
using wakeup_listener = caf::typed_actor<
  /// A timer the trigger armed fell due, or something else it waited for happened.
  caf::reacts_to<wakeup_atom, trigger_wakeup>>;

/// The one timer service of every trigger (docs/architecture.md section 2). A CAF timer per trigger kept an entry in
/// CAF's clock (a map node and a message, about 240 bytes) for each of 100 000 alarms, and woke the clock's thread on
/// every arm; the wheel keeps 48 bytes per timer in a heap and a timer on the actor clock for its earliest deadline
/// (and one for a timer armed earlier than that). It runs on the actor clock, so simulated time reaches it in tests.
///
/// A timer holds its trigger weakly: a trigger that is gone when its timer falls due is skipped. Timers are not
/// cancelled; a trigger ignores one that no longer applies (by generation, timer id or attempt), as it did with CAF's.
using timer_wheel_actor = caf::typed_actor<
  /// Wakes the sender, which must be a wakeup_listener, with `wakeup` once `delay` has passed.
  caf::reacts_to<arm_atom, caf::timespan, trigger_wakeup>>;

/// Spawns the timer wheel. It wakes at most once per `quantum`: timers that fall due within a quantum after a wake-up
/// wait for the next one (late by less than the quantum) and are handled together.
timer_wheel_actor spawn_timer_wheel(caf::actor_system& sys, caf::timespan quantum = caf::timespan{0});

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_wakeup)
