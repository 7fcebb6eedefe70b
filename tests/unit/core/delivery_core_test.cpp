#include "core/delivery_core.hpp"

#include <catch2/catch.hpp>

#include "delivery_core_support.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using state = delivery_core::state;

namespace {

/// Accepts stored events 1..n (their seqs are 1..n too) and returns the actions of the last.
delivery_actions accept_stored(delivery_core& core, std::int64_t from, std::int64_t to) {
  delivery_actions last;
  for (auto n = from; n <= to; ++n)
    last = core.accept(core.new_event(body_of_event(n), core_epoch, true));
  return last;
}

/// Returns the numbers of the events each fire carries.
std::vector<std::vector<std::int64_t>> fired_events(const std::vector<fire_unit>& fires) {
  std::vector<std::vector<std::int64_t>> result;
  for (const auto& f : fires)
    result.push_back(events_in(f.body));
  return result;
}

} // namespace

// -- starting and stopping ---------------------------------------------------------------

TEST_CASE("a stopped core holds the events it accepts and sends nothing until it is started", "[delivery_core]") {
  delivery_core core{default_delivery()};
  CHECK(core.current() == state::stopped);
  auto out = accept_stored(core, 1, 2);
  CHECK(out.fires.empty());
  CHECK(core.buffered() == 2);
  out = core.start();
  CHECK(core.current() == state::running);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(1));
  CHECK(core.in_flight() == 1);
}

TEST_CASE("a running core sends an accepted event at once as a fire of its body", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto out = core.accept(core.new_event(body_of_event(1), core_epoch, true));
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(1));
  CHECK(out.fires[0].id != 0);
  CHECK(out.fires[0].attempt == 1);
}

TEST_CASE("with a window of 1 the next fire goes out only once the one on the wire is answered", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto first = accept_stored(core, 1, 3);
  CHECK(first.fires.empty()); // the fire of event 1 went out with its own accept
  CHECK(core.in_flight() == 1);
  CHECK(core.buffered() == 3);
}

TEST_CASE("a 2xx settles the fire: the stored event is erased, the fire counted and the next one sent",
          "[delivery_core]") {
  auto status = GENERATE(200, 202, 204);
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  core.accept(core.new_event(body_of_event(2), core_epoch, true));
  auto out = core.on_outcome(id, answer(status), core_epoch, half_jitter);
  CHECK(out.erase == std::vector<std::uint64_t>{1});
  CHECK(out.fired == 1);
  CHECK(out.failed == 0);
  CHECK(out.dead_letters.empty());
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{2}});
  CHECK(core.buffered() == 1);
}

TEST_CASE("a fired event's source position becomes the checkpoint", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, false, "cp-1")).fires.at(0).id;
  auto out = core.on_outcome(id, answer(202), core_epoch, half_jitter);
  CHECK(out.checkpoint == "cp-1");
  CHECK(out.erase.empty()); // it was never stored
  CHECK(core.idle());
}

TEST_CASE("with a window of 3 three fires are on the wire and answers out of order settle in sequence",
          "[delivery_core]") {
  auto settings = default_delivery();
  settings.window = 3;
  delivery_core core{settings};
  core.start();
  std::vector<std::uint64_t> ids;
  for (int n = 1; n <= 4; ++n) {
    auto out = core.accept(core.new_event(body_of_event(n), core_epoch, false, "cp-" + std::to_string(n)));
    for (const auto& f : out.fires)
      ids.push_back(f.id);
  }
  REQUIRE(ids.size() == 3);
  CHECK(core.in_flight() == 3);
  // The third answers first: nothing settles, since events 1 and 2 are not done; event 4 takes the free place.
  auto out = core.on_outcome(ids[2], answer(202), core_epoch, half_jitter);
  CHECK_FALSE(out.checkpoint);
  CHECK(out.fired == 0);
  CHECK(out.fired_events == 0);
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{4}});
  // The first answers: event 1 settles alone.
  out = core.on_outcome(ids[0], answer(202), core_epoch, half_jitter);
  CHECK(out.checkpoint == "cp-1");
  CHECK(out.fired == 1);
  CHECK(out.fired_events == 1);
  // The second answers: events 2 and 3 settle together.
  out = core.on_outcome(ids[1], answer(202), core_epoch, half_jitter);
  CHECK(out.checkpoint == "cp-3");
  CHECK(out.fired == 2);
  CHECK(out.fired_events == 2);
}

TEST_CASE("a settled batch counts each of its events as fired, and a dead one none", "[delivery_core]") {
  auto settings = default_delivery();
  settings.batch_size = 3;
  settings.retries.max_attempts = 1;
  delivery_core core{settings};
  core.start();
  auto id = accept_stored(core, 1, 3).fires.at(0).id;
  auto out = core.on_outcome(id, answer(202), core_epoch, half_jitter);
  CHECK(out.fired == 1);
  CHECK(out.fired_events == 3);
  id = accept_stored(core, 4, 6).fires.at(0).id;
  out = core.on_outcome(id, answer(503), core_epoch, half_jitter);
  CHECK(out.failed == 1);
  CHECK(out.dead_letters.size() == 3);
  CHECK(out.fired_events == 0);
}

TEST_CASE("stop with nothing on the wire stops at once and releases the firer", "[delivery_core]") {
  delivery_core core{default_delivery()};
  auto out = core.start();
  CHECK_FALSE(out.release_firer);
  out = core.stop();
  CHECK(core.current() == state::stopped);
  CHECK(out.release_firer);
}

TEST_CASE("stop with a fire on the wire waits for its answer, which settles as usual", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  accept_stored(core, 2, 2);
  auto out = core.stop();
  CHECK(core.current() == state::stopping);
  CHECK_FALSE(out.release_firer);
  out = core.on_outcome(id, answer(202), core_epoch, half_jitter);
  CHECK(core.current() == state::stopped);
  CHECK(out.release_firer);
  CHECK(out.erase == std::vector<std::uint64_t>{1});
  CHECK(out.fires.empty()); // event 2 waits for the next start
  CHECK(core.buffered() == 1);
}

TEST_CASE("a fire on the wire that fails while stopping is taken back and goes out first at the next start",
          "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  accept_stored(core, 2, 2);
  core.stop();
  auto out = core.on_outcome(id, answer(503), core_epoch, half_jitter);
  CHECK(core.current() == state::stopped);
  CHECK(out.timers.empty()); // no retry is scheduled for a stopped registration
  CHECK(out.failed == 0);
  out = core.start();
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{1}});
}

TEST_CASE("a stop drops the events that were not stored once nothing is on the wire, and keeps the stored ones",
          "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.accept(core.new_event(body_of_event(1), core_epoch, false, "cp-1"));
  core.accept(core.new_event(body_of_event(2), core_epoch, true));
  core.accept(core.new_event(body_of_event(3), core_epoch, false));
  auto id = core.start().fires.at(0).id;
  auto out = core.stop();
  CHECK(out.dropped == 0); // a start before the answer goes on with every event
  CHECK(core.buffered() == 3);
  out = core.on_outcome(id, answer(503), core_epoch, half_jitter);
  CHECK(out.dropped == 2); // events 1 and 3; their source sends them again from its checkpoint
  CHECK(core.buffered() == 1);
}

TEST_CASE("events after one dropped at a stop lose their checkpoint, so the stored position does not pass it",
          "[delivery_core]") {
  auto settings = default_delivery();
  settings.window = 2;
  delivery_core core{settings};
  core.start();
  std::vector<std::uint64_t> ids;
  for (int n = 1; n <= 2; ++n)
    for (const auto& f : core.accept(core.new_event(body_of_event(n), core_epoch, false, "cp-" + std::to_string(n)))
                           .fires)
      ids.push_back(f.id);
  REQUIRE(ids.size() == 2);
  core.stop();
  // Event 1 fails and is dropped (its source sends it again); event 2 is fired but must not store its position.
  auto out = core.on_outcome(ids[0], answer(503), core_epoch, half_jitter);
  CHECK_FALSE(out.checkpoint);
  out = core.on_outcome(ids[1], answer(202), core_epoch, half_jitter);
  CHECK(out.fired == 1);
  CHECK_FALSE(out.checkpoint);
  CHECK(core.idle());
}

TEST_CASE("start while stopping goes on with the fires on the wire and sends the rest", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  accept_stored(core, 2, 2);
  core.stop();
  auto out = core.start();
  CHECK(core.current() == state::running);
  CHECK(out.fires.empty()); // the window is full
  out = core.on_outcome(id, answer(202), core_epoch, half_jitter);
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{2}});
}

// -- retries ------------------------------------------------------------------------------

TEST_CASE("a retried fire backs off: a jittered timer, the same body again, nothing new meanwhile",
          "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  accept_stored(core, 2, 2);
  auto out = core.on_outcome(id, answer(503), core_epoch, half_jitter);
  CHECK(core.current() == state::backing_off);
  REQUIRE(out.timers.size() == 1);
  CHECK(out.timers[0].delay == 250ms); // half of the first ceiling, 500 ms
  CHECK(out.fires.empty());
  out = core.on_timer(out.timers[0].id);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(1));
  CHECK(out.fires[0].id != id);
  CHECK(out.fires[0].attempt == 2); // for the fire's log line
  CHECK(core.current() == state::backing_off); // until the retried fire is done
  out = core.on_outcome(out.fires[0].id, answer(202), core_epoch + 250ms, half_jitter);
  CHECK(core.current() == state::running);
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{2}});
}

TEST_CASE("the back-off ceiling doubles with each attempt and Retry-After raises it", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  auto out = core.on_outcome(id, answer(503), core_epoch, half_jitter);
  CHECK(out.timers.at(0).delay == 250ms);
  id = core.on_timer(out.timers[0].id).fires.at(0).id;
  out = core.on_outcome(id, answer(503), core_epoch, half_jitter);
  CHECK(out.timers.at(0).delay == 500ms);
  id = core.on_timer(out.timers[0].id).fires.at(0).id;
  out = core.on_outcome(id, answer(429, 30s), core_epoch, half_jitter);
  CHECK(out.timers.at(0).delay == 30s);
}

TEST_CASE("a retry timer voided by a stop fires nothing", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  auto timer = core.on_outcome(id, answer(503), core_epoch, half_jitter).timers.at(0).id;
  auto out = core.stop();
  CHECK(core.current() == state::stopped);
  CHECK(out.release_firer);
  CHECK(core.on_timer(timer).fires.empty());
  // The event is kept and goes out, with fresh attempts, at the next start.
  CHECK(fired_events(core.start().fires) == std::vector<std::vector<std::int64_t>>{{1}});
}

// -- batches -------------------------------------------------------------------------------

TEST_CASE("a full batch goes out at once as {\"events\": [...]}", "[delivery_core]") {
  auto settings = default_delivery();
  settings.batch_size = 3;
  settings.batch_window = 100ms;
  delivery_core core{settings};
  core.start();
  auto out = accept_stored(core, 1, 3);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == R"({"events":[{"n":1},{"n":2},{"n":3}]})");
}

TEST_CASE("a partial batch arms its window and goes out when the timer falls due", "[delivery_core]") {
  auto settings = default_delivery();
  settings.batch_size = 3;
  settings.batch_window = 100ms;
  delivery_core core{settings};
  core.start();
  auto out = core.accept(core.new_event(body_of_event(1), core_epoch, true));
  CHECK(out.fires.empty());
  REQUIRE(out.timers.size() == 1);
  CHECK(out.timers[0].delay == 100ms);
  // A second event does not arm another window.
  CHECK(core.accept(core.new_event(body_of_event(2), core_epoch, true)).timers.empty());
  out = core.on_timer(out.timers[0].id);
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{1, 2}});
}

TEST_CASE("the window timer of a batch that left full is void for the next partial batch", "[delivery_core]") {
  auto settings = default_delivery();
  settings.batch_size = 2;
  settings.batch_window = 100ms;
  settings.window = 2;
  delivery_core core{settings};
  core.start();
  auto old_timer = core.accept(core.new_event(body_of_event(1), core_epoch, true)).timers.at(0).id;
  CHECK(core.accept(core.new_event(body_of_event(2), core_epoch, true)).fires.size() == 1);
  auto out = core.accept(core.new_event(body_of_event(3), core_epoch, true));
  REQUIRE(out.timers.size() == 1);
  CHECK(core.on_timer(old_timer).fires.empty());
  CHECK(fired_events(core.on_timer(out.timers[0].id).fires) == std::vector<std::vector<std::int64_t>>{{3}});
}

TEST_CASE("a batch size set by an update applies to the fires cut afterwards", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  accept_stored(core, 1, 1);
  auto settings = default_delivery();
  settings.batch_size = 2;
  settings.batch_window = 100ms;
  core.configure(settings);
  accept_stored(core, 2, 3);
  CHECK(core.in_flight() == 1);
  CHECK(core.settings().batch_size == 2);
}

// -- credit --------------------------------------------------------------------------------

TEST_CASE("a started source gets the whole bound as credit, and more only once half of it is free",
          "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto out = core.source_started();
  CHECK(out.credit == 10);
  std::vector<std::uint64_t> ids;
  for (int n = 1; n <= 10; ++n)
    for (const auto& f : core.accept_from_source(core.new_event(body_of_event(n), core_epoch, false)).fires)
      ids.push_back(f.id);
  CHECK(core.credit() == 0);
  REQUIRE(ids.size() == 1);
  out = core.on_outcome(ids[0], answer(202), core_epoch, half_jitter);
  CHECK(out.credit == 1);
}

TEST_CASE("a source gets no credit while the core is stopped or backing off", "[delivery_core]") {
  delivery_core core{default_delivery()};
  CHECK(core.source_started().credit == 0);
  core.start();
  auto out = core.source_started();
  CHECK(out.credit == 10);
  auto id = core.accept_from_source(core.new_event(body_of_event(1), core_epoch, false)).fires.at(0).id;
  out = core.on_outcome(id, answer(503), core_epoch, half_jitter);
  CHECK(core.current() == state::backing_off);
  CHECK(out.credit == 0);
  CHECK(core.source_started().credit == 0);
}

TEST_CASE("room is reserved for events being stored and counts as held", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  CHECK(core.has_room(10));
  core.reserve(4);
  CHECK(core.buffered() == 4);
  CHECK_FALSE(core.has_room(7));
  core.cancel_reservation(1);
  CHECK(core.buffered() == 3);
  std::vector<feed_event> events;
  for (int n = 1; n <= 3; ++n)
    events.push_back(core.new_event(body_of_event(n), core_epoch, true));
  auto out = core.accept_reserved(std::move(events));
  CHECK(core.buffered() == 3);
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{1}});
}

// -- the rest --------------------------------------------------------------------------------

TEST_CASE("a restored core reads its pending events back from the store, fires them first and numbers new ones "
          "after the last seq", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.restore(pending_span{7, 2}, 12);
  CHECK(core.buffered() == 2);
  CHECK(core.new_event(body_of_event(13), core_epoch, true).event.seq == 13);
  auto out = core.start();
  CHECK(out.fires.empty());
  REQUIRE(out.load.has_value());
  CHECK(out.load->from_seq == 7);
  CHECK(out.load->max_rows == 2);
  pending_page page;
  page.events = {stored_event{7, body_of_event(7), core_epoch}, stored_event{9, body_of_event(9), core_epoch}};
  out = core.on_loaded(std::move(page));
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{7}});
  out = core.on_outcome(out.fires[0].id, answer(200), core_epoch, half_jitter);
  CHECK(out.erase == std::vector<std::uint64_t>{7});
  CHECK(fired_events(out.fires) == std::vector<std::vector<std::int64_t>>{{9}});
}

TEST_CASE("an event rejected for want of room is dead-lettered at once", "[delivery_core]") {
  delivery_core core{default_delivery()};
  auto out = core.reject(core.new_event(body_of_event(1), core_epoch, false), core_epoch + 5s, "buffer full");
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(out.dead_letters[0].event.seq == 1);
  CHECK(out.dead_letters[0].failed == core_epoch + 5s);
  CHECK(out.dead_letters[0].error == "buffer full");
  CHECK(out.failed == 1);
  CHECK(out.erase.empty());
  CHECK(core.buffered() == 0);
}

TEST_CASE("a lost firer's fires go out again once a firer is ready, the lost answers are ignored",
          "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  auto id = core.accept(core.new_event(body_of_event(1), core_epoch, true)).fires.at(0).id;
  CHECK(core.firer_lost().fires.empty());
  CHECK(core.in_flight() == 0);
  CHECK(core.accept(core.new_event(body_of_event(2), core_epoch, true)).fires.empty());
  CHECK(core.on_outcome(id, answer(202), core_epoch, half_jitter).fired == 0);
  auto out = core.firer_ready();
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(1));
  CHECK(out.fires[0].id != id);
}

TEST_CASE("an answer to a fire the core does not know changes nothing", "[delivery_core]") {
  delivery_core core{default_delivery()};
  core.start();
  core.accept(core.new_event(body_of_event(1), core_epoch, true));
  auto out = core.on_outcome(999, answer(202), core_epoch, half_jitter);
  CHECK_FALSE(out.changes_status());
  CHECK(out.fires.empty());
  CHECK(core.in_flight() == 1);
}

TEST_CASE("each state has a name", "[delivery_core]") {
  CHECK(to_string(state::stopped) == "stopped");
  CHECK(to_string(state::running) == "running");
  CHECK(to_string(state::backing_off) == "backing_off");
  CHECK(to_string(state::stopping) == "stopping");
}
