#include "core/rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

/// An arbitrary fixed instant; the limiter only ever compares time points it was given.
const rate_limiter::clock::time_point t0{1'000h};

} // namespace

TEST_CASE("reservations at the same instant are spaced one interval apart", "[rate_limiter]") {
  rate_limiter limiter{10.0, 1.0};
  for (int i = 0; i < 20; ++i) {
    INFO("reservation " << i);
    CHECK(limiter.reserve("guest", t0) == milliseconds{100 * i});
  }
}

TEST_CASE("a full bucket lets a burst through before spacing begins", "[rate_limiter]") {
  rate_limiter limiter{5.0, 3.0};
  CHECK(limiter.reserve("guest", t0) == 0ms);
  CHECK(limiter.reserve("guest", t0) == 0ms);
  CHECK(limiter.reserve("guest", t0) == 0ms);
  CHECK(limiter.reserve("guest", t0) == 200ms);
  CHECK(limiter.reserve("guest", t0) == 400ms);
}

TEST_CASE("tokens refill at the rate up to the burst", "[rate_limiter]") {
  rate_limiter limiter{10.0, 2.0};
  CHECK(limiter.reserve("guest", t0) == 0ms);
  CHECK(limiter.reserve("guest", t0) == 0ms);
  CHECK(limiter.reserve("guest", t0) == 100ms);
  // The reserved token is due at t0 + 100 ms; one more token refilled 100 ms later.
  CHECK(limiter.reserve("guest", t0 + 200ms) == 0ms);
  CHECK(limiter.reserve("guest", t0 + 200ms) == 100ms);
  // A long pause refills the bucket, but only to the burst.
  CHECK(limiter.reserve("guest", t0 + 10s) == 0ms);
  CHECK(limiter.reserve("guest", t0 + 10s) == 0ms);
  CHECK(limiter.reserve("guest", t0 + 10s) == 100ms);
}

TEST_CASE("a caller that waited as told finds its token ready", "[rate_limiter]") {
  rate_limiter limiter{4.0, 1.0};
  auto now = t0;
  for (int i = 0; i < 10; ++i) {
    CHECK(limiter.reserve("guest", now) == 0ms);
    now += 250ms;
  }
}

TEST_CASE("waits are rounded up to whole milliseconds", "[rate_limiter]") {
  rate_limiter limiter{3.0, 1.0};
  CHECK(limiter.reserve("guest", t0) == 0ms);
  CHECK(limiter.reserve("guest", t0) == 334ms);
  CHECK(limiter.reserve("guest", t0) == 667ms);
  CHECK(limiter.reserve("guest", t0) == 1'000ms);
}

TEST_CASE("keys have independent buckets", "[rate_limiter]") {
  rate_limiter limiter{1.0, 1.0};
  CHECK(limiter.reserve("alice", t0) == 0ms);
  CHECK(limiter.reserve("bob", t0) == 0ms);
  CHECK(limiter.reserve("alice", t0) == 1'000ms);
  CHECK(limiter.reserve("carol", t0) == 0ms);
  CHECK(limiter.reserve("bob", t0) == 1'000ms);
  CHECK(limiter.reserve("alice", t0) == 2'000ms);
  CHECK(limiter.tracked_keys() == 3);
}

TEST_CASE("a clock reading older than an earlier one waits for the same due time", "[rate_limiter]") {
  rate_limiter limiter{10.0, 1.0};
  CHECK(limiter.reserve("guest", t0 + 50ms) == 0ms);
  // The next token is due at t0 + 150 ms, whichever caller's clock reading was earlier.
  CHECK(limiter.reserve("guest", t0) == 150ms);
}

TEST_CASE("prune forgets keys whose buckets are full again", "[rate_limiter]") {
  rate_limiter limiter{10.0, 1.0};
  limiter.reserve("idle", t0);
  limiter.reserve("busy", t0);
  limiter.reserve("busy", t0);
  limiter.reserve("busy", t0);
  CHECK(limiter.tracked_keys() == 2);
  limiter.prune(t0 + 100ms);
  CHECK(limiter.tracked_keys() == 1);
  // "busy" is still queued: its bucket is full again only at t0 + 300 ms.
  CHECK(limiter.reserve("busy", t0 + 100ms) == 200ms);
  limiter.prune(t0 + 1s);
  CHECK(limiter.tracked_keys() == 0);
  // A forgotten key starts with a full bucket, as a new one does.
  CHECK(limiter.reserve("busy", t0 + 1s) == 0ms);
}

TEST_CASE("reserve sweeps idle keys so memory stays bounded", "[rate_limiter]") {
  rate_limiter limiter{100.0, 1.0};
  auto now = t0;
  // Each second a fresh set of keys fires once; by the next second every one of them is idle.
  for (int round = 0; round < 10; ++round) {
    for (std::size_t i = 0; i < rate_limiter::sweep_threshold; ++i)
      limiter.reserve("ns-" + std::to_string(round) + "-" + std::to_string(i), now);
    CHECK(limiter.tracked_keys() <= 2 * rate_limiter::sweep_threshold);
    now += 1s;
  }
}

TEST_CASE("concurrent reservations each get their own slot", "[rate_limiter]") {
  constexpr int threads = 4;
  constexpr int per_thread = 250;
  rate_limiter limiter{1'000.0, 1.0};
  std::vector<std::vector<milliseconds>> waits(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&limiter, &mine = waits[t]] {
      for (int i = 0; i < per_thread; ++i)
        mine.push_back(limiter.reserve("guest", t0));
    });
  for (auto& worker : workers)
    worker.join();
  std::vector<milliseconds> all;
  for (const auto& mine : waits)
    all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  // Whatever the interleaving, the slots are 0, 1, 2, ... ms, each given out once.
  for (std::size_t i = 0; i < all.size(); ++i)
    REQUIRE(all[i] == milliseconds{static_cast<milliseconds::rep>(i)});
}
