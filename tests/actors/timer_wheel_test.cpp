#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actor_fixture.hpp"
#include "actors/timer_wheel.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// What a listener got: (its name, the wakeup's id) in arrival order, over all listeners.
using wakeup_log = std::shared_ptr<std::vector<std::pair<int, std::uint64_t>>>;

struct listener_state {
  static inline const char* name = "wakeup_listener";
};

/// A stand-in trigger: arms the timers it is told to on `wheel` as it starts, then logs each wakeup.
wakeup_listener::behavior_type listener_impl(wakeup_listener::stateful_pointer<listener_state> self,
                                             timer_wheel_actor wheel, int name, wakeup_log log,
                                             std::vector<std::pair<caf::timespan, std::uint64_t>> timers) {
  for (const auto& [delay, id] : timers)
    self->send(wheel, arm_atom::value, delay, trigger_wakeup{trigger_wakeup::kind::delivery, id});
  return {
    [log, name](wakeup_atom, const trigger_wakeup& wakeup) { log->emplace_back(name, wakeup.id); },
  };
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "the timer wheel wakes each listener when its timer is due, in deadline order and in "
                                "arming order at one instant, with one actor-clock timer at a time",
                 "[timer_wheel]") {
  auto wheel = spawn_timer_wheel(sys);
  stop_at_teardown(caf::actor_cast<caf::actor>(wheel));
  auto log = std::make_shared<std::vector<std::pair<int, std::uint64_t>>>();
  auto a = sys.spawn(listener_impl, wheel, 1, log,
                     std::vector<std::pair<caf::timespan, std::uint64_t>>{{300ms, 13}, {100ms, 11}, {200ms, 12}});
  auto b = sys.spawn(listener_impl, wheel, 2, log,
                     std::vector<std::pair<caf::timespan, std::uint64_t>>{{100ms, 21}, {0ms, 20}});
  stop_at_teardown(caf::actor_cast<caf::actor>(a));
  stop_at_teardown(caf::actor_cast<caf::actor>(b));
  run();
  // The zero delay fell due at once; the rest waits for its time.
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{2, 20}});
  log->clear();
  // Five timers are armed on the wheel, which keeps one timer of its own on the actor clock.
  CHECK(sched.clock().advance_time(99ms) == 0);
  CHECK(sched.clock().advance_time(1ms) == 1);
  run();
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{1, 11}, {2, 21}});
  log->clear();
  advance(100ms);
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{1, 12}});
  log->clear();
  advance(100ms);
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{1, 13}});
  log->clear();
  advance(1s);
  CHECK(log->empty());
}

TEST_CASE_METHOD(actor_fixture, "the timer wheel skips a timer whose listener is gone and wakes the others",
                 "[timer_wheel]") {
  auto wheel = spawn_timer_wheel(sys);
  stop_at_teardown(caf::actor_cast<caf::actor>(wheel));
  auto log = std::make_shared<std::vector<std::pair<int, std::uint64_t>>>();
  auto gone = sys.spawn(listener_impl, wheel, 1, log, std::vector<std::pair<caf::timespan, std::uint64_t>>{{50ms, 1}});
  auto stays = sys.spawn(listener_impl, wheel, 2, log, std::vector<std::pair<caf::timespan, std::uint64_t>>{{50ms, 2}});
  stop_at_teardown(caf::actor_cast<caf::actor>(stays));
  run();
  caf::anon_send_exit(gone, caf::exit_reason::user_shutdown);
  gone = nullptr;
  run();
  advance(50ms);
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{2, 2}});
}

TEST_CASE_METHOD(actor_fixture, "a timer wheel with a quantum wakes at most once per quantum and fires what fell due "
                                "within it together, late by less than the quantum", "[timer_wheel]") {
  auto wheel = spawn_timer_wheel(sys, 5ms);
  stop_at_teardown(caf::actor_cast<caf::actor>(wheel));
  auto log = std::make_shared<std::vector<std::pair<int, std::uint64_t>>>();
  auto a = sys.spawn(listener_impl, wheel, 1, log,
                     std::vector<std::pair<caf::timespan, std::uint64_t>>{{10ms, 1}, {11ms, 2}, {14ms, 3}, {30ms, 4}});
  stop_at_teardown(caf::actor_cast<caf::actor>(a));
  run();
  // The first falls due on time.
  CHECK(sched.clock().advance_time(10ms) == 1);
  run();
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{1, 1}});
  log->clear();
  // The two due 1 ms and 4 ms later wait for the end of the quantum, and come together.
  advance(4ms, 1ms);
  CHECK(log->empty());
  CHECK(sched.clock().advance_time(1ms) == 1);
  run();
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{1, 2}, {1, 3}});
  log->clear();
  // One due long after the quantum is on time.
  advance(14ms, 1ms);
  CHECK(log->empty());
  advance(1ms, 1ms);
  CHECK(*log == std::vector<std::pair<int, std::uint64_t>>{{1, 4}});
}
