// The batch envelope of the delivery core: the member that holds the events, single events wrapped, the byte bound
// of one fire, and the members added beside the events (how `kafka` fires {"messages": [...]}).

#include "core/delivery_core.hpp"

#include <catch2/catch.hpp>

#include "delivery_core_support.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// Settings as a kafka registration has them by default: batches of up to 1000, no window, every fire wrapped.
delivery_settings messages_delivery(std::size_t max_bytes) {
  auto settings = default_delivery();
  settings.batch_size = 1000;
  settings.batch_window = 0ms;
  settings.max_buffered = 1000;
  settings.envelope.key = "messages";
  settings.envelope.wrap_single = true;
  settings.envelope.max_bytes = max_bytes;
  return settings;
}

/// Returns the body of test event `n` padded with a string member to exactly `size` bytes.
std::string sized_event(std::int64_t n, std::size_t size) {
  auto body = R"({"n":)" + std::to_string(n) + R"(,"p":"")" + "}";
  body.insert(body.size() - 2, std::string(size - body.size(), 'x'));
  return body;
}

feed_event source_event(delivery_core& core, std::string body, std::string checkpoint = {}) {
  return core.new_event(std::move(body), core_epoch, false, std::move(checkpoint));
}

/// Returns the actions of the batch window that falls due after `out`: the window is 0 ms, so the batch goes out
/// once the owner's timer message comes back.
delivery_actions window_passes(delivery_core& core, const delivery_actions& out) {
  REQUIRE(out.timers.size() == 1);
  CHECK(out.timers[0].delay == 0ms);
  return core.on_timer(out.timers[0].id);
}

} // namespace

TEST_CASE("with wrap_single one event goes out wrapped in the envelope's member", "[delivery_core]") {
  auto settings = default_delivery();
  settings.envelope.key = "messages";
  settings.envelope.wrap_single = true;
  delivery_core core{settings};
  core.start();
  auto out = core.accept(source_event(core, body_of_event(1)));
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == R"({"messages":[{"n":1}]})");
}

TEST_CASE("the envelope's members follow the events, without one of the envelope's own name", "[delivery_core]") {
  auto settings = default_delivery();
  settings.batch_size = 2;
  settings.batch_window = 100ms;
  settings.envelope.key = "messages";
  settings.envelope.members = {{"team", R"("a")"}, {"messages", "[]"}, {"n", "7"}};
  delivery_core core{settings};
  core.start();
  core.accept(source_event(core, body_of_event(1)));
  auto out = core.accept(source_event(core, body_of_event(2)));
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == R"({"messages":[{"n":1},{"n":2}],"team":"a","n":7})");
}

TEST_CASE("a batch takes events only while their bytes fit max_bytes, commas counted", "[delivery_core]") {
  // Three events of 20 bytes: two with their comma are 41 bytes.
  delivery_core core{messages_delivery(41)};
  core.start();
  core.source_started();
  auto first = core.accept_from_source(source_event(core, sized_event(1, 20)));
  for (int n = 2; n <= 3; ++n)
    core.accept_from_source(source_event(core, sized_event(n, 20)));
  auto out = window_passes(core, first);
  REQUIRE(out.fires.size() == 1);
  CHECK(events_in(out.fires[0].body) == std::vector<std::int64_t>{1, 2});
  out = window_passes(core, core.on_outcome(out.fires[0].id, answer(202), core_epoch, half_jitter));
  REQUIRE(out.fires.size() == 1);
  CHECK(events_in(out.fires[0].body) == std::vector<std::int64_t>{3});
}

TEST_CASE("an event larger than max_bytes is dead-lettered without a fire, and the checkpoint moves past it in turn",
          "[delivery_core]") {
  delivery_core core{messages_delivery(100)};
  core.start();
  core.source_started();
  auto first = core.accept_from_source(source_event(core, sized_event(1, 50), "after-1"));
  core.accept_from_source(source_event(core, sized_event(2, 101), "after-2"));
  core.accept_from_source(source_event(core, sized_event(3, 50), "after-3"));
  auto out = window_passes(core, first);
  // Event 1 goes out alone: event 2 does not fit beside it.
  REQUIRE(out.fires.size() == 1);
  CHECK(events_in(out.fires[0].body) == std::vector<std::int64_t>{1});
  CHECK(out.dead_letters.empty());
  CHECK_FALSE(out.checkpoint);
  out = core.on_outcome(out.fires[0].id, answer(202), core_epoch, half_jitter);
  CHECK(out.fired == 1);
  CHECK(out.checkpoint == std::string{"after-1"});
  // Events 2 and 3 are a partial batch: once its window passed, event 2 is given up and event 3 goes out.
  out = window_passes(core, out);
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(events_in(out.dead_letters[0].event.body) == std::vector<std::int64_t>{2});
  CHECK(out.dead_letters[0].error == "the event's 101 bytes exceed the 100 bytes one fire may carry");
  CHECK(out.dead_letters[0].attempts == 0);
  CHECK(out.checkpoint == std::string{"after-2"});
  CHECK(out.failed == 1);
  REQUIRE(out.fires.size() == 1);
  CHECK(events_in(out.fires[0].body) == std::vector<std::int64_t>{3});
  out = core.on_outcome(out.fires[0].id, answer(202), core_epoch, half_jitter);
  CHECK(out.checkpoint == std::string{"after-3"});
  CHECK(core.idle());
}

TEST_CASE("an oversized event at the front settles at once when nothing is before it", "[delivery_core]") {
  delivery_core core{messages_delivery(100)};
  core.start();
  core.source_started();
  auto out = window_passes(core, core.accept_from_source(source_event(core, sized_event(1, 500), "after-1")));
  CHECK(out.fires.empty());
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(out.checkpoint == std::string{"after-1"});
  CHECK(core.idle());
}
