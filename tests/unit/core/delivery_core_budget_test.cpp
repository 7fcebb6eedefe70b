// The delivery core on a byte budget (docs/delivery.md "Memory"): bodies beyond it wait in the store and come back
// through load actions, in order.

#include "core/delivery_core.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "delivery_core_support.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using state = delivery_core::state;

namespace {

/// Padding that makes a test event's body 500 bytes or a little more.
constexpr std::size_t pad_500 = 490;

/// A core on a budget of 8 KiB (a share and a reserve of 1 KiB each) and the pending events its store holds.
struct budgeted_core {
  budgeted_core() {
    budget = std::make_shared<byte_budget>(byte_budget::limits_for(8 * 1024));
    core.use_budget(byte_account{budget, [this] { woken = true; }});
  }

  /// Stores event `n` (about 500 bytes) and accepts it, as a webhook's intake does.
  delivery_actions accept_stored(std::int64_t n) {
    auto event = core.new_event(body_of_event(n, pad_500), core_epoch, true);
    store[event.event.seq] = event.event;
    return core.accept(std::move(event));
  }

  /// Answers `request` as the store does.
  delivery_actions load(const load_request& request) {
    pending_page page;
    std::size_t bytes = 0;
    for (auto i = store.lower_bound(request.from_seq); i != store.end() && page.events.size() < request.max_rows; ++i) {
      if (bytes + i->second.body.size() > request.max_bytes) {
        page.next_bytes = i->second.body.size();
        break;
      }
      bytes += i->second.body.size();
      page.events.push_back(i->second);
    }
    return core.on_loaded(std::move(page));
  }

  /// Applies the erasures of `out` to the store.
  void erase(const delivery_actions& out) {
    for (auto seq : out.erase)
      store.erase(seq);
  }

  std::shared_ptr<byte_budget> budget;
  delivery_core core{default_delivery()};
  std::map<std::uint64_t, stored_event> store;
  bool woken = false;
};

} // namespace

TEST_CASE("stored events beyond a registration's share wait in the store and are loaded back, in order",
          "[delivery_core][budget]") {
  budgeted_core b;
  b.core.start();
  auto first = b.accept_stored(1).fires.at(0);
  CHECK(events_in(first.body) == std::vector<std::int64_t>{1});
  b.accept_stored(2);
  b.accept_stored(3);
  b.accept_stored(4);
  // The first is in its fire, the second in memory; the share (1 KiB) is used up, so the rest wait in the store.
  CHECK(b.core.buffered() == 4);
  CHECK(b.core.spilled() == 2);
  CHECK(b.core.bytes_held() == 2 * body_of_event(1, pad_500).size());
  auto out = b.core.on_outcome(first.id, answer(202), core_epoch, half_jitter);
  b.erase(out);
  REQUIRE(out.fires.size() == 1);
  CHECK(events_in(out.fires[0].body) == std::vector<std::int64_t>{2});
  // With room again, the spill is read ahead of need.
  REQUIRE(out.load.has_value());
  CHECK(out.load->from_seq == 3);
  CHECK(out.load->max_rows == 2);
  auto loaded = b.load(*out.load);
  CHECK(loaded.fires.empty()); // the window is full
  CHECK(b.core.spilled() == 1);
  out = b.core.on_outcome(out.fires[0].id, answer(202), core_epoch, half_jitter);
  b.erase(out);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(3, pad_500));
  REQUIRE(out.load.has_value());
  CHECK(out.load->from_seq == 4);
  b.load(*out.load);
  out = b.core.on_outcome(out.fires[0].id, answer(202), core_epoch, half_jitter);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(4, pad_500));
}

TEST_CASE("a stored event's body moves into its fire and is loaded back for the retry", "[delivery_core][budget]") {
  budgeted_core b;
  b.core.start();
  auto fire = b.accept_stored(1).fires.at(0);
  auto size = fire.body.size();
  CHECK(b.core.bytes_held() == size);
  auto out = b.core.on_outcome(fire.id, answer(503), core_epoch, half_jitter);
  // The answer ends the fire and its body: nothing is held while the retry waits.
  CHECK(b.core.bytes_held() == 0);
  REQUIRE(out.timers.size() == 1);
  out = b.core.on_timer(out.timers[0].id);
  CHECK(out.fires.empty());
  REQUIRE(out.load.has_value());
  CHECK(out.load->from_seq == 1);
  CHECK(out.load->max_rows == 1);
  CHECK(out.load->max_bytes == size);
  out = b.load(*out.load);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(1, pad_500));
}

TEST_CASE("a dead letter keeps its body: read back from the store before the letter is written",
          "[delivery_core][budget]") {
  budgeted_core b;
  b.core.start();
  auto fire = b.accept_stored(1).fires.at(0);
  auto out = b.core.on_outcome(fire.id, answer(410), core_epoch, half_jitter);
  CHECK(out.dead_letters.empty());
  REQUIRE(out.load.has_value());
  out = b.load(*out.load);
  REQUIRE(out.dead_letters.size() == 1);
  CHECK(out.dead_letters[0].event.body == body_of_event(1, pad_500));
  CHECK(out.erase == std::vector<std::uint64_t>{1});
  CHECK(b.core.bytes_held() == 0);
}

TEST_CASE("a failed load is tried again after a delay", "[delivery_core][budget]") {
  budgeted_core b;
  b.core.start();
  auto fire = b.accept_stored(1).fires.at(0);
  auto out = b.core.on_timer(b.core.on_outcome(fire.id, answer(503), core_epoch, half_jitter).timers.at(0).id);
  REQUIRE(out.load.has_value());
  out = b.core.on_load_failed();
  CHECK(b.core.bytes_held() == 0);
  REQUIRE(out.timers.size() == 1);
  CHECK(out.timers[0].delay == delivery_core::load_retry_delay);
  out = b.core.on_timer(out.timers[0].id);
  REQUIRE(out.load.has_value());
  out = b.load(*out.load);
  CHECK(out.fires.size() == 1);
}

TEST_CASE("a stopped registration's bodies wait in the store, not in the budget", "[delivery_core][budget]") {
  budgeted_core b;
  b.core.start();
  auto fire = b.accept_stored(1).fires.at(0);
  b.accept_stored(2);
  CHECK(b.core.bytes_held() > 0);
  auto out = b.core.stop();
  CHECK(b.core.current() == state::stopping);
  out = b.core.on_outcome(fire.id, answer(202), core_epoch, half_jitter);
  b.erase(out);
  CHECK(b.core.current() == state::stopped);
  CHECK(b.core.bytes_held() == 0);
  CHECK(b.core.buffered() == 1);
  CHECK(b.core.spilled() == 1);
  out = b.core.start();
  REQUIRE(out.load.has_value());
  out = b.load(*out.load);
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == body_of_event(2, pad_500));
}

TEST_CASE("while a fire is retried the queue's bodies wait in the store", "[delivery_core][budget]") {
  budgeted_core b;
  b.core.start();
  auto fire = b.accept_stored(1).fires.at(0);
  b.accept_stored(2);
  auto out = b.core.on_outcome(fire.id, answer(429), core_epoch, half_jitter);
  CHECK(b.core.current() == state::backing_off);
  CHECK(b.core.bytes_held() == 0);
  // New events wait in the store too.
  b.accept_stored(3);
  CHECK(b.core.bytes_held() == 0);
  CHECK(b.core.spilled() == 2);
}

TEST_CASE("restored events wait in the store until the started core loads them", "[delivery_core][budget]") {
  budgeted_core b;
  for (std::uint64_t seq = 1; seq <= 3; ++seq)
    b.store[seq] = stored_event{seq, body_of_event(static_cast<std::int64_t>(seq), pad_500), core_epoch};
  b.core.restore(pending_span{1, 3}, 3);
  CHECK(b.core.buffered() == 3);
  CHECK(b.core.bytes_held() == 0);
  CHECK(b.core.spilled() == 3);
  auto out = b.core.start();
  REQUIRE(out.load.has_value());
  CHECK(out.load->from_seq == 1);
  out = b.load(*out.load);
  REQUIRE(out.fires.size() == 1);
  CHECK(events_in(out.fires[0].body) == std::vector<std::int64_t>{1});
}

TEST_CASE("a restored backlog six times the budget is read back in order and fired once each, never holding more "
          "than the budget", "[delivery_core][budget]") {
  budgeted_core b;
  constexpr std::uint64_t backlog = 100; // of about 500 bytes each: 50 KB against a budget of 8 KiB
  for (std::uint64_t seq = 1; seq <= backlog; ++seq)
    b.store[seq] = stored_event{seq, body_of_event(static_cast<std::int64_t>(seq), pad_500), core_epoch};
  b.core.restore(pending_span{1, backlog}, backlog);
  CHECK(b.core.bytes_held() == 0);
  std::vector<std::int64_t> fired;
  std::size_t most_held = 0;
  std::deque<delivery_actions> todo{b.core.start()};
  for (int step = 0; !todo.empty() && step < 10'000; ++step) {
    auto out = std::move(todo.front());
    todo.pop_front();
    most_held = std::max(most_held, b.core.bytes_held());
    if (out.load)
      todo.push_back(b.load(*out.load));
    for (const auto& fire : out.fires) {
      for (auto n : events_in(fire.body))
        fired.push_back(n);
      auto answered = b.core.on_outcome(fire.id, answer(202), core_epoch, half_jitter);
      b.erase(answered);
      todo.push_back(std::move(answered));
    }
    if (std::exchange(b.woken, false))
      todo.push_back(b.core.on_budget());
  }
  std::vector<std::int64_t> expected;
  for (std::uint64_t seq = 1; seq <= backlog; ++seq)
    expected.push_back(static_cast<std::int64_t>(seq));
  CHECK(fired == expected);
  CHECK(most_held <= b.budget->bounds().total);
  CHECK(b.core.buffered() == 0);
  CHECK(b.store.empty());
}

TEST_CASE("a load that stops before a body larger than it reserved asks again for that body's size",
          "[delivery_core][budget]") {
  budgeted_core b;
  // Room for a few bytes only: the other registrations hold the rest of the pool and the reserve.
  byte_account others{b.budget, [] {}};
  REQUIRE(others.take(b.budget->bounds().total - b.budget->bounds().reserve - 100, byte_account::wait::no));
  byte_account small{b.budget, [] {}};
  REQUIRE(small.take(b.budget->bounds().reserve, byte_account::wait::no));
  b.store[1] = stored_event{1, body_of_event(1, pad_500), core_epoch};
  b.core.restore(pending_span{1, 1}, 1);
  auto out = b.core.start();
  REQUIRE(out.load.has_value());
  CHECK(out.load->max_bytes == 100);
  out = b.load(*out.load);
  CHECK(out.fires.empty());
  // Now it knows the size, and waits in line for it.
  CHECK_FALSE(out.load.has_value());
  others.give_back(others.held());
  CHECK(b.woken);
  out = b.core.on_budget();
  REQUIRE(out.load.has_value());
  CHECK(out.load->max_bytes >= body_of_event(1, pad_500).size());
  out = b.load(*out.load);
  CHECK(out.fires.size() == 1);
}

TEST_CASE("alarm occurrences share one body and cost the budget nothing however many wait", "[delivery_core][budget]") {
  budgeted_core b;
  auto body = std::make_shared<const std::string>(body_of_event(7, 4000));
  for (int i = 0; i < 500; ++i)
    b.core.accept(b.core.new_shared_event(body, core_epoch));
  CHECK(b.core.buffered() == 500);
  CHECK(b.core.bytes_held() == 0);
  CHECK(b.budget->held() == 0);
  auto out = b.core.start();
  REQUIRE(out.fires.size() == 1);
  CHECK(out.fires[0].body == *body);
  CHECK(b.core.bytes_held() == 0);
}

TEST_CASE("a replayable source gets no credit while the budget is spent, and credit once bytes come back",
          "[delivery_core][budget]") {
  budgeted_core b;
  byte_account others{b.budget, [] {}};
  REQUIRE(others.take(b.budget->bounds().total - b.budget->bounds().reserve, byte_account::wait::no));
  byte_account small{b.budget, [] {}};
  REQUIRE(small.take(b.budget->bounds().reserve, byte_account::wait::no));
  b.core.start();
  auto out = b.core.source_started();
  CHECK(out.credit == 0);
  CHECK(b.budget->waiting() == 1);
  others.give_back(others.held());
  REQUIRE(b.woken);
  out = b.core.on_budget();
  CHECK(out.credit > 0);
  // Each credit reserves what an event may take: the credit is within what the budget holds for it.
  CHECK(static_cast<std::size_t>(out.credit) * delivery_core::credit_event_bytes <= b.core.bytes_held());
}

TEST_CASE("a batch is cut at the registration's share of the budget", "[delivery_core][budget]") {
  budgeted_core b;
  auto settings = default_delivery();
  settings.batch_size = 10;
  settings.batch_window = 0ms;
  b.core.configure(settings);
  b.core.start();
  // The first event goes alone (the window is due at once); the next ones queue behind its fire.
  auto first = b.accept_stored(1);
  REQUIRE(first.timers.size() == 1);
  auto out = b.core.on_timer(first.timers[0].id);
  REQUIRE(out.fires.size() == 1);
  b.accept_stored(2);
  b.accept_stored(3);
  b.accept_stored(4);
  out = b.core.on_outcome(out.fires[0].id, answer(202), core_epoch, half_jitter);
  b.erase(out);
  // A partial batch waits for its window; meanwhile the events in the store are read ahead.
  CHECK(out.fires.empty());
  REQUIRE(out.timers.size() == 1);
  REQUIRE(out.load.has_value());
  CHECK(b.load(*out.load).fires.empty());
  out = b.core.on_timer(out.timers[0].id);
  REQUIRE(out.fires.size() == 1);
  // A share of 1 KiB holds two bodies of about 500 bytes: the batch of three is cut to two.
  CHECK(events_in(out.fires[0].body) == std::vector<std::int64_t>{2, 3});
}
