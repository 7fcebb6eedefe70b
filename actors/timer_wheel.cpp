#include "actors/timer_wheel.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace feedrouter {

namespace {

using time_point = caf::actor_clock::time_point;

/// The wheel with its own timer, which is no part of its public protocol.
using timer_wheel_private = timer_wheel_actor::extend<caf::reacts_to<tick_atom>>;

struct timer_entry {
  time_point due;
  std::uint64_t seq = 0; ///< arming order: timers due at the same instant fall due in the order they were armed
  caf::actor_addr target;
  trigger_wakeup wakeup;
};

/// Orders the heap's earliest entry first.
struct later {
  bool operator()(const timer_entry& x, const timer_entry& y) const noexcept {
    return x.due != y.due ? x.due > y.due : x.seq > y.seq;
  }
};

struct timer_wheel_state {
  std::vector<timer_entry> heap; ///< a min-heap by (due, seq)
  std::uint64_t next_seq = 0;
  /// When the wheel's timers on the actor clock fall due. CAF cannot cancel one, so an entry armed earlier than the
  /// earliest timer gets a timer of its own, and the later one stays; an entry no earlier than some timer waits for it.
  std::multiset<time_point> ticks;
  /// The wheel wakes no more often than this: what falls due within it after a tick waits for the next tick.
  caf::timespan quantum{0};
  time_point next_tick_allowed{};

  static inline const char* name = "timer_wheel";
};

using wheel_pointer = timer_wheel_private::stateful_pointer<timer_wheel_state>;

/// Arms a timer on the actor clock for the earliest entry, unless one falls due at that instant or before.
void arm_earliest(wheel_pointer self) {
  auto& st = self->state;
  if (st.heap.empty())
    return;
  auto due = std::max(st.heap.front().due, st.next_tick_allowed);
  if (!st.ticks.empty() && *st.ticks.begin() <= due)
    return;
  st.ticks.insert(due);
  auto delay = std::max<caf::timespan>(due - self->clock().now(), caf::timespan::zero());
  self->delayed_send(self, delay, tick_atom::value);
}

void on_arm(wheel_pointer self, caf::timespan delay, const trigger_wakeup& wakeup) {
  auto& st = self->state;
  auto due = self->clock().now() + std::max(delay, caf::timespan::zero());
  st.heap.push_back({due, st.next_seq++, caf::actor_cast<caf::actor_addr>(self->current_sender()), wakeup});
  std::push_heap(st.heap.begin(), st.heap.end(), later{});
  arm_earliest(self);
}

/// Wakes the target of every entry that is due, in order, then arms the timer for the next one.
void on_tick(wheel_pointer self) {
  auto& st = self->state;
  // The actor clock delivers timers in deadline order: this is the earliest.
  if (!st.ticks.empty())
    st.ticks.erase(st.ticks.begin());
  auto now = self->clock().now();
  st.next_tick_allowed = now + st.quantum;
  while (!st.heap.empty() && st.heap.front().due <= now) {
    std::pop_heap(st.heap.begin(), st.heap.end(), later{});
    auto entry = std::move(st.heap.back());
    st.heap.pop_back();
    if (auto target = caf::actor_cast<wakeup_listener>(entry.target))
      self->send(target, wakeup_atom::value, entry.wakeup);
  }
  // Shrinks the heap after a burst (100 000 registrations deleted) instead of keeping its peak for good.
  if (st.heap.capacity() > 2 * st.heap.size() + 1024)
    st.heap.shrink_to_fit();
  arm_earliest(self);
}

timer_wheel_private::behavior_type timer_wheel_impl(wheel_pointer self, caf::timespan quantum) {
  self->state.quantum = quantum;
  return {
    [self](arm_atom, caf::timespan delay, const trigger_wakeup& wakeup) { on_arm(self, delay, wakeup); },
    [self](tick_atom) { on_tick(self); },
  };
}

} // namespace

timer_wheel_actor spawn_timer_wheel(caf::actor_system& sys, caf::timespan quantum) {
  return sys.spawn(timer_wheel_impl, quantum);
}

} // namespace feedrouter
