// The lease manager's decisions, transition by transition, on a manual clock: what actors/lease_manager.cpp carries out
// against the store (docs/cluster.md, "Shards, leases and fencing").

#include "core/lease_keeper.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/shard.hpp"

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

const lease_timing ten_seconds{10'000ms};

/// A point on a monotonic clock that starts at 0.
mono_time at(std::chrono::milliseconds t) {
  return mono_time{} + t;
}

/// A lease keeper of instance "me" whose clock the test sets.
struct keeper_fixture {
  mono_time now = at(0ms);
  lease_keeper keeper{"me", ten_seconds, [this] { return now; }};
};

/// A picture of the leases as the store would report it: every shard free until the test says otherwise.
struct picture_builder {
  lease_picture picture;

  picture_builder() {
    for (std::uint32_t shard = 0; shard < shard_count; ++shard)
      picture.shards.push_back({shard, "", 0, 0ms});
  }

  /// An instance whose last heartbeat reached the server `age` ago.
  picture_builder& instance(std::string id, std::chrono::milliseconds age = 1'000ms) {
    auto url = "http://" + id;
    picture.instances.push_back({std::move(id), std::move(url), {}, age});
    return *this;
  }

  /// Shards [first, last] held by `owner` at `epoch`, for `remaining` more on the server's clock.
  picture_builder& held(std::uint32_t first, std::uint32_t last, const std::string& owner, std::int64_t epoch = 1,
                        std::chrono::milliseconds remaining = 8'000ms) {
    for (auto shard = first; shard <= last; ++shard)
      picture.shards[shard] = {shard, owner, epoch, remaining};
    return *this;
  }

  operator const lease_picture&() const {
    return picture;
  }
};

/// The leases of shards [first, last] at `epoch`.
std::vector<shard_lease_ref> leases(std::uint32_t first, std::uint32_t last, std::int64_t epoch = 1) {
  std::vector<shard_lease_ref> result;
  for (auto shard = first; shard <= last; ++shard)
    result.push_back({shard, epoch});
  return result;
}

/// The same leases as an acquisition answers them; `taken_over` marks each one as taken from an expired holder.
std::vector<acquired_lease> taken(const std::vector<shard_lease_ref>& refs, bool taken_over = false) {
  std::vector<acquired_lease> result;
  for (const auto& ref : refs)
    result.push_back({ref, taken_over});
  return result;
}

/// Has `k` acquire shards [first, last] at `epoch`, sent at the clock's time.
void acquire(keeper_fixture& k, std::uint32_t first, std::uint32_t last, std::int64_t epoch = 1) {
  auto ticket = k.keeper.start_acquisition(last - first + 1);
  k.keeper.finish_acquisition(ticket, taken(leases(first, last, epoch)));
}

/// Returns `refs` in shard order.
std::vector<shard_lease_ref> sorted(std::vector<shard_lease_ref> refs) {
  std::sort(refs.begin(), refs.end(), [](const auto& x, const auto& y) { return x.shard < y.shard; });
  return refs;
}

std::vector<shard_lease_ref> refs_of(const std::vector<usable_lease>& usable) {
  std::vector<shard_lease_ref> result;
  for (const auto& x : usable)
    result.push_back(x.lease);
  return result;
}

} // namespace

// -- acquiring --------------------------------------------------------------------------

TEST_CASE("an instance alone acquires every free shard, each usable for two thirds of the TTL after the acquisition "
          "was sent",
          "[lease_keeper]") {
  keeper_fixture k;
  auto plan = k.keeper.balance(picture_builder{}.instance("me"));
  CHECK(plan.live == 1);
  CHECK(plan.acquire == shard_count);
  CHECK(plan.give_away.empty());
  CHECK(plan.orphans.empty());
  k.now = at(1'000ms);
  auto ticket = k.keeper.start_acquisition(plan.acquire);
  // The store's answer comes later; the deadline counts from the sending.
  k.now = at(1'400ms);
  auto effects = k.keeper.finish_acquisition(ticket, taken(leases(0, shard_count - 1)));
  REQUIRE(effects.gained.size() == shard_count);
  CHECK(effects.takeovers == 0);
  for (const auto& usable : effects.gained)
    CHECK(usable.deadline == at(1'000ms + 6'666ms));
  CHECK(k.keeper.holding() == shard_count);
  CHECK(k.keeper.next_deadline() == at(7'666ms));
  // At its share, it takes no more.
  auto again = k.keeper.balance(picture_builder{}.instance("me").held(0, shard_count - 1, "me"));
  CHECK(again.acquire == 0);
  CHECK(again.give_away.empty());
}

TEST_CASE("an acquisition counts the leases it took from instances that let them expire as takeovers",
          "[lease_keeper]") {
  keeper_fixture k;
  auto ticket = k.keeper.start_acquisition(4);
  auto answer = taken(leases(0, 1, 3), true);
  auto fresh = taken(leases(2, 3, 1));
  answer.insert(answer.end(), fresh.begin(), fresh.end());
  auto effects = k.keeper.finish_acquisition(ticket, answer);
  CHECK(effects.gained.size() == 4);
  CHECK(effects.takeovers == 2);
}

TEST_CASE("a joining instance takes only what is free or expired, up to its share", "[lease_keeper]") {
  keeper_fixture k;
  // Two others hold every shard; the third's heartbeat is fresh, the lease of shards 200..255 expired.
  picture_builder view;
  view.instance("a").instance("b").instance("me").held(0, 127, "a").held(128, 199, "b").held(200, 255, "b", 1, 0ms);
  auto plan = k.keeper.balance(view);
  CHECK(plan.live == 3);
  CHECK(plan.acquire == 56);
  // Once the others gave shards away, it takes up to ceil(256 / 3).
  picture_builder later;
  later.instance("a").instance("b").instance("me").held(0, 85, "a").held(86, 170, "b");
  CHECK(k.keeper.balance(later).acquire == 85);
}

// -- renewing and self-fencing ----------------------------------------------------------

TEST_CASE("a renewal extends each lease to two thirds of the TTL after it was sent, and a late one never shortens a "
          "deadline",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 2);
  k.now = at(3'333ms);
  auto ticket = k.keeper.start_renewal();
  CHECK(ticket.leases == leases(0, 2));
  CHECK(ticket.sent == at(3'333ms));
  k.now = at(3'900ms);
  auto effects = k.keeper.finish_renewal(ticket, leases(0, 2));
  CHECK(refs_of(effects.renewed) == leases(0, 2));
  CHECK(effects.renewed.front().deadline == at(3'333ms + 6'666ms));
  CHECK(effects.lost.empty());
  CHECK(effects.orphaned.empty());
  // An answer to an earlier renewal, arriving after a later one, leaves the later deadline.
  auto older = renewal_ticket{leases(0, 2), at(2'000ms)};
  auto late = k.keeper.finish_renewal(older, leases(0, 2));
  CHECK(late.renewed.front().deadline == at(3'333ms + 6'666ms));
}

TEST_CASE("a lease the store did not renew, or renewed for another epoch, is lost at once", "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 3, 5);
  auto ticket = k.keeper.start_renewal();
  // Shard 1 is gone (another instance took it), shard 2 comes back at a stale epoch.
  auto effects = k.keeper.finish_renewal(ticket, {{0, 5}, {2, 4}, {3, 5}});
  CHECK(effects.lost == std::vector<shard_lease_ref>{{1, 5}, {2, 5}});
  CHECK(refs_of(effects.renewed) == std::vector<shard_lease_ref>{{0, 5}, {3, 5}});
  CHECK_FALSE(k.keeper.holds(1));
  CHECK_FALSE(k.keeper.holds(2));
  CHECK(k.keeper.holding() == 2);
}

TEST_CASE("when renewals fail, every lease is given up at its deadline, a third of the TTL before the server may "
          "pass it on",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 9);
  k.now = at(3'333ms);
  auto ticket = k.keeper.start_renewal();
  k.keeper.finish_renewal(ticket, leases(0, 9));
  // From here on the store cannot be reached: the renewals sent get no answer.
  auto server_expiry = ticket.sent + ten_seconds.ttl; // at the earliest: the server ran the renewal after it was sent
  for (auto t : {5'000ms, 9'998ms}) {
    k.now = at(t);
    k.keeper.start_renewal();
    CHECK(k.keeper.expire().empty());
  }
  REQUIRE(k.keeper.next_deadline() == at(3'333ms + 6'666ms));
  k.now = at(3'333ms + 6'666ms - 1ms);
  CHECK(k.keeper.expire().empty());
  k.now = at(3'333ms + 6'666ms);
  CHECK(k.keeper.expire() == leases(0, 9));
  CHECK(server_expiry - k.now >= ten_seconds.ttl / 3);
  CHECK(k.keeper.held() == 0);
  CHECK_FALSE(k.keeper.next_deadline());
  // The store is back: the renewal of nothing loses nothing, and the instance takes its share again.
  auto effects = k.keeper.finish_renewal(k.keeper.start_renewal(), {});
  CHECK(effects.lost.empty());
  CHECK(k.keeper.balance(picture_builder{}.instance("me")).acquire == shard_count);
}

TEST_CASE("a lease renewed on the server after it was given up here at its deadline is released there",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 1);
  auto ticket = k.keeper.start_renewal();
  // The answer takes longer than the lease may be used.
  k.now = at(7'000ms);
  CHECK(k.keeper.expire() == leases(0, 1));
  auto effects = k.keeper.finish_renewal(ticket, leases(0, 1));
  CHECK(effects.orphaned == leases(0, 1));
  CHECK(effects.renewed.empty());
  CHECK(k.keeper.held() == 0);
}

TEST_CASE("a lease acquired while a renewal was on its way is not lost by that renewal's answer", "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 0);
  auto ticket = k.keeper.start_renewal();
  k.now = at(500ms);
  acquire(k, 1, 1);
  auto effects = k.keeper.finish_renewal(ticket, leases(0, 0));
  CHECK(effects.lost.empty());
  CHECK(k.keeper.holds(1));
  CHECK(k.keeper.next_deadline() == at(6'666ms));
}

// -- balancing ----------------------------------------------------------------------------

TEST_CASE("when another instance joins, one above its fair share gives its highest shards away, once at a time",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, shard_count - 1);
  picture_builder joined;
  joined.instance("me").instance("new").held(0, shard_count - 1, "me");
  auto plan = k.keeper.balance(joined);
  CHECK(plan.live == 2);
  CHECK(plan.acquire == 0);
  CHECK(sorted(plan.give_away) == leases(128, 255));
  // Being given away, they are still renewed, but no longer count towards the share.
  CHECK(k.keeper.holding() == 128);
  CHECK(k.keeper.held() == 256);
  CHECK(k.keeper.start_renewal().leases.size() == 256);
  CHECK(k.keeper.releasing() == 128);
  // The next look changes nothing while that give-away is under way, not even with a third instance.
  joined.instance("third");
  CHECK(k.keeper.balance(joined).give_away.empty());
  // The shards stopped and their writes are flushed: the leases are released at the store.
  CHECK(sorted(k.keeper.finish_release(plan.give_away)) == leases(128, 255));
  CHECK(k.keeper.releasing() == 0);
  CHECK(k.keeper.held() == 128);
  auto next = k.keeper.balance(joined);
  CHECK(sorted(next.give_away) == leases(86, 127));
}

TEST_CASE("when an instance leaves (its heartbeat older than the TTL), the others acquire up to their new share",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 127);
  picture_builder both;
  both.instance("me").instance("gone", 9'999ms).held(0, 127, "me").held(128, 255, "gone", 1, 1ms);
  CHECK(k.keeper.balance(both).acquire == 0);
  picture_builder left;
  left.instance("me").instance("gone", 10'000ms).held(0, 127, "me").held(128, 255, "gone", 1, 0ms);
  auto plan = k.keeper.balance(left);
  CHECK(plan.live == 1);
  CHECK(plan.acquire == 128);
}

TEST_CASE("the next look is due when another instance's lease runs out, if that is before the next heartbeat",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 127);
  // A live owner renews every third of the TTL, so its leases never run out within a renewal interval.
  picture_builder renewing;
  renewing.instance("me").instance("other").held(0, 127, "me").held(128, 255, "other", 1, 6'700ms);
  CHECK_FALSE(k.keeper.balance(renewing).expiry_elsewhere);
  // One that stopped renewing: the soonest of its leases says when the takeover can begin.
  picture_builder stopped;
  stopped.instance("me").instance("other", 8'000ms).held(0, 127, "me").held(128, 200, "other", 1, 2'000ms);
  stopped.held(201, 255, "other", 1, 1'200ms);
  CHECK(k.keeper.balance(stopped).expiry_elsewhere == 1'200ms);
  // Its own leases and free shards do not count.
  picture_builder own;
  own.instance("me").held(0, 127, "me", 1, 500ms);
  CHECK_FALSE(k.keeper.balance(own).expiry_elsewhere);
}

TEST_CASE("an instance counts itself live even before its own heartbeat reached the store", "[lease_keeper]") {
  keeper_fixture k;
  auto plan = k.keeper.balance(picture_builder{}.instance("other").held(0, 255, "other"));
  CHECK(plan.live == 2);
  CHECK(plan.acquire == 0);
  CHECK(k.keeper.balance(picture_builder{}).live == 1);
}

TEST_CASE("a lease the server says this instance holds and it does not is released as an orphan", "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 9);
  // Shard 10 was acquired, but the answer was lost.
  picture_builder view;
  view.instance("me").held(0, 10, "me", 1);
  auto plan = k.keeper.balance(view);
  CHECK(plan.orphans == std::vector<shard_lease_ref>{{10, 1}});
  CHECK_FALSE(k.keeper.holds(10));
}

TEST_CASE("a lease lost while being given away is not released, nor is the lease its shard was acquired under again",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 255);
  auto plan = k.keeper.balance(picture_builder{}.instance("me").instance("b").held(0, 255, "me"));
  REQUIRE(plan.give_away.size() == 128);
  // Shard 255 is lost while its triggers stop (a renewal without it), then acquired again at a new epoch.
  auto ticket = k.keeper.start_renewal();
  auto answer = leases(0, 254);
  auto effects = k.keeper.finish_renewal(ticket, answer);
  CHECK(effects.lost == std::vector<shard_lease_ref>{{255, 1}});
  acquire(k, 255, 255, 2);
  auto released = k.keeper.finish_release(plan.give_away);
  CHECK(released.size() == 127);
  CHECK(k.keeper.holds(255));
}

// -- leaving -----------------------------------------------------------------------------

TEST_CASE("an instance that leaves gives every lease away, plans nothing more, and is done once all are released",
          "[lease_keeper]") {
  keeper_fixture k;
  acquire(k, 0, 99);
  auto balance = k.keeper.balance(picture_builder{}.instance("me").instance("b").held(0, 99, "me"));
  CHECK(balance.acquire == 28);
  auto goes = k.keeper.leave();
  CHECK(sorted(goes) == leases(0, 99));
  CHECK(k.keeper.leaving());
  CHECK_FALSE(k.keeper.left());
  // No acquisition, no give-away, while leaving.
  auto plan = k.keeper.balance(picture_builder{}.instance("me"));
  CHECK(plan.acquire == 0);
  CHECK(plan.give_away.empty());
  // A lease lost meanwhile does not hold the leaving up.
  k.now = at(6'666ms);
  CHECK(k.keeper.expire().size() == 100);
  CHECK(k.keeper.finish_release(goes).empty());
  CHECK(k.keeper.left());
}

TEST_CASE("an instance that holds nothing has left as soon as it leaves", "[lease_keeper]") {
  keeper_fixture k;
  CHECK(k.keeper.leave().empty());
  CHECK(k.keeper.left());
}
