#include "core/delivery_core.hpp"

#include <catch2/catch.hpp>

#include "delivery_core_support.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using state = delivery_core::state;

namespace {

/// Starts a core with `settings` and accepts stored events 1..n; returns the id of the first fire.
std::uint64_t start_with(delivery_core& core, std::int64_t n) {
  core.start();
  std::uint64_t first = 0;
  for (std::int64_t i = 1; i <= n; ++i)
    for (const auto& f : core.accept(core.new_event(body_of_event(i), core_epoch, true)).fires)
      first = first == 0 ? f.id : first;
  return first;
}

} // namespace

TEST_CASE("408, 409, 429, 5xx and transport errors are retried", "[delivery_core]") {
  auto status = GENERATE(408, 409, 429, 500, 502, 503, 504, 599, 0);
  CAPTURE(status);
  delivery_core core{default_delivery()};
  auto id = start_with(core, 1);
  auto out = core.on_outcome(id, answer(status), core_epoch, half_jitter);
  CHECK(core.current() == state::backing_off);
  CHECK(out.timers.size() == 1);
  CHECK(out.dead_letters.empty());
  CHECK(out.failed == 0);
  CHECK_FALSE(out.refusal);
}

TEST_CASE("400, 401, 403 and 404 refuse: the registration is disabled and its events kept", "[delivery_core]") {
  auto status = GENERATE(400, 401, 403, 404);
  CAPTURE(status);
  delivery_core core{default_delivery()};
  auto id = start_with(core, 2);
  auto out = core.on_outcome(id, answer(status), core_epoch, half_jitter);
  REQUIRE(out.refusal);
  CHECK(out.refusal->status_code == status);
  CHECK(out.refusal->error == "HTTP " + std::to_string(status));
  CHECK(out.refusal->attempts == 1);
  CHECK(out.failed == 1);
  CHECK(out.release_firer);
  CHECK(out.dead_letters.empty());
  CHECK(out.erase.empty());
  CHECK(out.fires.empty());
  CHECK(core.current() == state::stopped);
  CHECK(core.buffered() == 2);
  // The resume fires the refused event first.
  auto resumed = core.start();
  REQUIRE(resumed.fires.size() == 1);
  CHECK(resumed.fires[0].body == body_of_event(1));
}

TEST_CASE("a 413 on a single event dead-letters that event only", "[delivery_core]") {
  delivery_core core{default_delivery()};
  auto id = start_with(core, 2);
  auto out = core.on_outcome(id, answer(413), core_epoch + 1s, half_jitter);
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(out.dead_letters[0].event.seq == 1);
  CHECK(out.dead_letters[0].status_code == 413);
  CHECK(out.dead_letters[0].error == "HTTP 413");
  CHECK(out.dead_letters[0].attempts == 1);
  CHECK(out.dead_letters[0].failed == core_epoch + 1s);
  CHECK(out.erase == std::vector<std::uint64_t>{1});
  CHECK(out.failed == 1);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(2));
}

TEST_CASE("a 413 on a batch halves it until it fits and dead-letters only a single event still too large",
          "[delivery_core]") {
  auto settings = default_delivery();
  settings.batch_size = 4;
  settings.batch_window = 100ms;
  delivery_core core{settings};
  core.start();
  std::vector<fire_unit> fires;
  for (int n = 1; n <= 4; ++n)
    for (auto& f : core.accept(core.new_event(body_of_event(n), core_epoch, true)).fires)
      fires.push_back(f);
  REQUIRE(fires.size() == 1);
  // Event 2 is too large: [1,2,3,4] -> [1,2] -> [1] fired, [2] dead -> [3,4] fired.
  std::vector<std::vector<std::int64_t>> sent;
  std::vector<dead_letter> letters;
  std::int64_t fired = 0;
  while (!fires.empty()) {
    auto unit = fires.front();
    fires.erase(fires.begin());
    auto events = events_in(unit.body);
    sent.push_back(events);
    auto too_large = std::find(events.begin(), events.end(), 2) != events.end();
    auto out = core.on_outcome(unit.id, answer(too_large ? 413 : 202), core_epoch, half_jitter);
    fires.insert(fires.end(), out.fires.begin(), out.fires.end());
    letters.insert(letters.end(), out.dead_letters.begin(), out.dead_letters.end());
    fired += out.fired;
  }
  CHECK(sent == std::vector<std::vector<std::int64_t>>{{1, 2, 3, 4}, {1, 2}, {1}, {2}, {3, 4}});
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].event.seq == 2);
  CHECK(fired == 2);
  CHECK(core.idle());
}

TEST_CASE("any other status goes to dead letters at once", "[delivery_core]") {
  auto status = GENERATE(410, 422, 451, 301, 302, 100, 600);
  CAPTURE(status);
  delivery_core core{default_delivery()};
  auto id = start_with(core, 1);
  auto out = core.on_outcome(id, answer(status), core_epoch, half_jitter);
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(out.dead_letters[0].status_code == status);
  CHECK(out.dead_letters[0].attempts == 1);
  CHECK(out.timers.empty());
  CHECK(core.current() == state::running);
}

TEST_CASE("a fire whose attempts are used up goes to dead letters with the last status, error and attempts",
          "[delivery_core]") {
  auto settings = default_delivery();
  settings.retries.max_attempts = 3;
  delivery_core core{settings};
  auto id = start_with(core, 1);
  auto out = core.on_outcome(id, answer(502), core_epoch, half_jitter);
  id = core.on_timer(out.timers.at(0).id).fires.at(0).id;
  out = core.on_outcome(id, answer(502), core_epoch + 250ms, half_jitter);
  id = core.on_timer(out.timers.at(0).id).fires.at(0).id;
  out = core.on_outcome(id, answer(0), core_epoch + 750ms, half_jitter);
  CHECK(out.timers.empty());
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(out.dead_letters[0].status_code == 0);
  CHECK(out.dead_letters[0].error == "connect: Connection refused");
  CHECK(out.dead_letters[0].attempts == 3);
  CHECK(out.dead_letters[0].failed == core_epoch + 750ms);
  CHECK(out.erase == std::vector<std::uint64_t>{1});
  CHECK(core.current() == state::running);
  CHECK(core.idle());
}

TEST_CASE("a fire whose next retry would be later than the age limit goes to dead letters", "[delivery_core]") {
  auto settings = default_delivery();
  settings.retries.max_age = 10s;
  delivery_core core{settings};
  auto id = start_with(core, 1);
  // The event is 9.9 s old; a back-off of 250 ms would retry it beyond 10 s.
  auto out = core.on_outcome(id, answer(503), core_epoch + 9900ms, half_jitter);
  CHECK(out.timers.empty());
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(out.dead_letters[0].status_code == 503);
}

TEST_CASE("a refusal while other fires are on the wire waits for them before the firer may go", "[delivery_core]") {
  auto settings = default_delivery();
  settings.window = 2;
  delivery_core core{settings};
  core.start();
  std::vector<std::uint64_t> ids;
  for (int n = 1; n <= 3; ++n)
    for (const auto& f : core.accept(core.new_event(body_of_event(n), core_epoch, true)).fires)
      ids.push_back(f.id);
  REQUIRE(ids.size() == 2);
  auto out = core.on_outcome(ids[0], answer(404), core_epoch, half_jitter);
  REQUIRE(out.refusal);
  CHECK_FALSE(out.release_firer);
  CHECK(core.current() == state::stopping);
  out = core.on_outcome(ids[1], answer(202), core_epoch, half_jitter);
  CHECK(out.release_firer);
  CHECK(core.current() == state::stopped);
  CHECK(out.fired == 0); // event 2 waits behind event 1, which is kept for the resume
  CHECK(core.buffered() == 3);
}
