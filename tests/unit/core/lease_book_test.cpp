#include "core/lease_book.hpp"

#include <catch2/catch.hpp>

#include "core/shard.hpp"

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

/// A point on a monotonic clock that starts at 0.
mono_time at(std::chrono::milliseconds t) {
  return mono_time{} + t;
}

const lease_timing ten_seconds{10'000ms};

} // namespace

// -- timing and shares ----------------------------------------------------------

TEST_CASE("a lease is renewed every third of its TTL and used for two thirds of it after each renewal", "[lease]") {
  CHECK(ten_seconds.renew_interval() == 3333ms);
  CHECK(ten_seconds.usable_for() == 6666ms);
  // The owner stops at least a third of the TTL before the server's expiry, counted from the same send.
  CHECK(ten_seconds.ttl - ten_seconds.usable_for() >= ten_seconds.renew_interval());
}

TEST_CASE("the fair share of an instance is the shard count divided by the live instances, rounded up", "[lease]") {
  CHECK(fair_share(256, 1) == 256);
  CHECK(fair_share(256, 2) == 128);
  CHECK(fair_share(256, 3) == 86);
  CHECK(fair_share(256, 4) == 64);
  CHECK(fair_share(256, 300) == 1);
  // An instance whose own heartbeat is not counted yet still counts itself.
  CHECK(fair_share(256, 0) == 256);
}

TEST_CASE("the shares of every live instance cover every shard", "[lease]") {
  for (std::size_t live = 1; live <= 300; ++live)
    CHECK(fair_share(shard_count, live) * live >= shard_count);
}

TEST_CASE("an instance below its share acquires what is available up to it, one above releases the excess",
          "[lease]") {
  SECTION("alone on a fresh cluster it takes every shard") {
    auto plan = plan_share(256, 1, 0, 256);
    CHECK(plan.acquire == 256);
    CHECK(plan.release == 0);
  }
  SECTION("a joiner takes what is free, up to its share") {
    CHECK(plan_share(256, 3, 0, 40).acquire == 40);
    CHECK(plan_share(256, 3, 0, 200).acquire == 86);
  }
  SECTION("a holder above its share releases the rest and takes nothing") {
    auto plan = plan_share(256, 3, 128, 10);
    CHECK(plan.acquire == 0);
    CHECK(plan.release == 42);
  }
  SECTION("a holder at its share neither takes nor releases") {
    auto plan = plan_share(256, 4, 64, 30);
    CHECK(plan.acquire == 0);
    CHECK(plan.release == 0);
  }
}

TEST_CASE("instances joining one by one end up with every shard held and no one above its share", "[lease]") {
  // Each round, every instance plans on the same picture; those giving away go first, as releases come before the
  // joiner's acquisition (NOTIFY).
  for (std::size_t instances = 1; instances <= 7; ++instances) {
    std::vector<std::size_t> held(instances, 0);
    std::size_t free = shard_count;
    for (int round = 0; round < 4; ++round) {
      for (auto& h : held) {
        auto plan = plan_share(shard_count, instances, h, free);
        h -= plan.release;
        free += plan.release;
      }
      for (auto& h : held) {
        auto plan = plan_share(shard_count, instances, h, free);
        h += plan.acquire;
        free -= plan.acquire;
      }
    }
    INFO(instances << " instances");
    CHECK(free == 0);
    for (auto h : held)
      CHECK(h <= fair_share(shard_count, instances));
  }
}

// -- the lease book -----------------------------------------------------------------

TEST_CASE("an acquired lease is usable until two thirds of the TTL after the acquisition was sent", "[lease]") {
  lease_book book{ten_seconds};
  book.acquired({{3, 7}, {9, 1}}, at(1000ms));
  CHECK(book.holds(3));
  CHECK(book.holding() == 2);
  CHECK(book.deadline_of(3) == at(7666ms));
  CHECK(book.next_deadline() == at(7666ms));
  CHECK(book.leases() == std::vector<shard_lease_ref>{{3, 7}, {9, 1}});
  CHECK(book.expire(at(7665ms)).empty());
  CHECK(book.expire(at(7666ms)) == std::vector<shard_lease_ref>{{3, 7}, {9, 1}});
  CHECK_FALSE(book.holds(3));
  CHECK_FALSE(book.next_deadline());
}

TEST_CASE("a renewal moves the deadline to two thirds of the TTL after it was sent", "[lease]") {
  lease_book book{ten_seconds};
  book.acquired({{3, 7}}, at(0ms));
  auto outcome = book.renewed({{3, 7}}, at(3333ms));
  CHECK(outcome.lost.empty());
  CHECK(outcome.orphaned.empty());
  CHECK(book.deadline_of(3) == at(9999ms));
  // The answer to an older renewal arriving late does not shorten it.
  book.renewed({{3, 7}}, at(2000ms));
  CHECK(book.deadline_of(3) == at(9999ms));
}

TEST_CASE("a lease the renewal does not return, or returns at another epoch, is lost", "[lease]") {
  lease_book book{ten_seconds};
  book.acquired({{1, 1}, {2, 5}, {3, 1}}, at(0ms));
  auto outcome = book.renewed({{1, 1}, {2, 6}}, at(3333ms));
  CHECK(outcome.lost == std::vector<shard_lease_ref>{{2, 5}, {3, 1}});
  CHECK(book.leases() == std::vector<shard_lease_ref>{{1, 1}});
  // A lost lease is gone for good: a later answer naming it again makes it an orphan to release, not held again.
  outcome = book.renewed({{1, 1}, {3, 1}}, at(6000ms));
  CHECK(outcome.orphaned == std::vector<shard_lease_ref>{{3, 1}});
  CHECK_FALSE(book.holds(3));
}

TEST_CASE("without renewals every lease expires at its deadline, before the server's TTL", "[lease]") {
  // The server could not be reached since the acquisition at 0: the server's lease ends at 10 s at the earliest.
  lease_book book{ten_seconds};
  book.acquired({{4, 2}}, at(0ms));
  CHECK(book.expire(at(3333ms)).empty());
  auto lost = book.expire(at(6666ms));
  REQUIRE(lost.size() == 1);
  CHECK(lost[0] == shard_lease_ref{4, 2});
  CHECK(at(6666ms) < at(ten_seconds.ttl));
}

TEST_CASE("a lease being released is still renewed but no longer counts towards the share", "[lease]") {
  lease_book book{ten_seconds};
  book.acquired({{1, 1}, {2, 1}, {3, 1}}, at(0ms));
  CHECK(book.pick_release(2) == std::vector<std::uint32_t>{3, 2});
  CHECK(book.begin_release(3) == shard_lease_ref{3, 1});
  CHECK_FALSE(book.begin_release(3));
  CHECK_FALSE(book.begin_release(8));
  CHECK(book.holding() == 2);
  CHECK(book.holds(3));
  CHECK(book.pick_release(5) == std::vector<std::uint32_t>{2, 1});
  CHECK(book.leases().size() == 3);
  book.renewed({{1, 1}, {2, 1}, {3, 1}}, at(3000ms));
  CHECK(book.deadline_of(3) == at(9666ms));
  CHECK(book.finish_release({3, 1}) == shard_lease_ref{3, 1});
  CHECK_FALSE(book.finish_release({3, 1}));
  CHECK(book.leases().size() == 2);
}

TEST_CASE("a lease lost while being released is not released again", "[lease]") {
  lease_book book{ten_seconds};
  book.acquired({{5, 3}}, at(0ms));
  book.begin_release(5);
  CHECK(book.expire(at(7000ms)) == std::vector<shard_lease_ref>{{5, 3}});
  CHECK_FALSE(book.finish_release({5, 3}));
  // Nor is the lease of the same shard acquired again meanwhile, under a new epoch.
  book.acquired({{5, 4}}, at(8000ms));
  CHECK_FALSE(book.finish_release({5, 3}));
  CHECK(book.holds(5));
}
