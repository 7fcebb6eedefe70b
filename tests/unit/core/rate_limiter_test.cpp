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

TEST_CASE("a key with a share gets that part of the rate and of the burst, the others all of it",
          "[rate_limiter][cluster]") {
  rate_limiter limiter{10.0, 4.0};
  limiter.set_shares({{"split", 0.5}});
  CHECK(limiter.share_of("split") == 0.5);
  CHECK(limiter.share_of("whole") == 1.0);
  // Half of 10 per second with half of a burst of 4: two at once, then one every 200 ms.
  CHECK(limiter.reserve("split", t0) == 0ms);
  CHECK(limiter.reserve("split", t0) == 0ms);
  CHECK(limiter.reserve("split", t0) == 200ms);
  CHECK(limiter.reserve("split", t0) == 400ms);
  for (int i = 0; i < 4; ++i)
    CHECK(limiter.reserve("whole", t0) == 0ms);
  CHECK(limiter.reserve("whole", t0) == 100ms);
}

TEST_CASE("the shares of the instances running a namespace's registrations add up to the namespace's rate",
          "[rate_limiter][cluster]") {
  // Three instances run 1, 2 and 3 of a namespace's 6 registrations: over a minute of steady demand on every one, the
  // namespace fires at most its rate, plus each instance's burst.
  constexpr double rate = 6.0;
  constexpr double burst = 6.0;
  std::vector<double> shares{1.0 / 6, 2.0 / 6, 3.0 / 6};
  std::size_t sent = 0;
  for (auto share : shares) {
    // Each instance's callers wait as they are told and send at once when their token is due.
    rate_limiter limiter{rate, burst};
    limiter.set_shares({{"ns", share}});
    auto due = t0;
    while (true) {
      due += limiter.reserve("ns", due);
      if (due >= t0 + 60s)
        break;
      ++sent;
    }
  }
  CHECK(sent <= static_cast<std::size_t>(rate * 60 + burst));
  CHECK(sent >= static_cast<std::size_t>(rate * 60 - shares.size()));
}

TEST_CASE("new shares replace the old ones, a share not above 0 counts as the whole rate, and a tiny one as the "
          "slowest rate accepted",
          "[rate_limiter][cluster]") {
  rate_limiter limiter{2.0, 1.0};
  limiter.set_shares({{"a", 0.5}, {"b", 0.0}, {"c", 1e-12}});
  CHECK(limiter.share_of("b") == 1.0);
  CHECK(limiter.reserve("b", t0) == 0ms);
  CHECK(limiter.reserve("b", t0) == 500ms);
  CHECK(limiter.reserve("a", t0) == 0ms);
  CHECK(limiter.reserve("a", t0) == 1000ms);
  CHECK(limiter.reserve("c", t0) == 0ms);
  CHECK(limiter.reserve("c", t0) == std::chrono::duration_cast<milliseconds>(24h));
  limiter.set_shares({});
  CHECK(limiter.share_of("a") == 1.0);
  // "a"'s bucket goes on from where the half rate left it (full again at t0 + 2 s), then at the whole rate.
  CHECK(limiter.reserve("a", t0) == 2000ms);
  CHECK(limiter.reserve("a", t0) == 2500ms);
}
