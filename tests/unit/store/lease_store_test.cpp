// The lease store of a PostgreSQL store (store/lease_store.hpp): heartbeats, acquisitions, renewals, releases and
// their notifications, against a real server.

#include "store/lease_store.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "core/shard.hpp"
#include "store_backends.hpp"
#include "store_records.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// A lease store of `id` on the backend's database, whose leases last `ttl`.
lease_store_ptr open_leases(const postgres_backend& backend, const std::string& id,
                            std::chrono::milliseconds ttl = 10'000ms) {
  lease_store_options opts;
  opts.instance_id = id;
  opts.url = "http://" + id + ".test:8080";
  opts.timing.ttl = ttl;
  return open_lease_store(backend.spec(), backend.options(), opts);
}

std::vector<shard_lease_ref> leases_of(const std::vector<acquired_lease>& acquired) {
  std::vector<shard_lease_ref> result;
  for (const auto& x : acquired)
    result.push_back(x.lease);
  return result;
}

/// Makes every lease `owner` holds expire now.
void expire_leases_of(const postgres_backend& backend, const std::string& owner) {
  backend.exec("UPDATE shard_lease SET expires_at = now() - interval '1 second' WHERE owner = '" + owner + "'");
}

} // namespace

TEST_CASE("a heartbeat adds the instance with its URL, and a later one keeps its start", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto a = open_leases(backend, "a");
  REQUIRE_FALSE(a->heartbeat());
  auto started = backend.query_value("SELECT started_at FROM instances WHERE id = 'a'");
  REQUIRE_FALSE(a->heartbeat());
  CHECK(backend.query_value("SELECT started_at FROM instances WHERE id = 'a'") == started);
  auto picture = a->picture();
  REQUIRE(picture);
  REQUIRE(picture.value->instances.size() == 1);
  CHECK(picture.value->instances[0].id == "a");
  CHECK(picture.value->instances[0].url == "http://a.test:8080");
  CHECK(picture.value->instances[0].heartbeat_age < 10s);
  CHECK(picture.value->shards.size() == shard_count);
}

TEST_CASE("a heartbeat forgets instances silent for longer than forget_after, never its own", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  backend.exec("INSERT INTO instances VALUES ('gone', 'http://gone', now() - interval '3 hours', "
               "now() - interval '2 hours'), ('recent', 'http://recent', now(), now() - interval '1 minute')");
  auto a = open_leases(backend, "a");
  REQUIRE_FALSE(a->heartbeat());
  CHECK(backend.query_value("SELECT string_agg(id, ',' ORDER BY id) FROM instances") == "a,recent");
}

TEST_CASE("an acquisition takes free shards, lowest first, each at the next epoch", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto a = open_leases(backend, "a");
  auto taken = a->acquire(3);
  REQUIRE(taken);
  REQUIRE(taken.value->size() == 3);
  CHECK(leases_of(*taken.value) == std::vector<shard_lease_ref>{{0, 1}, {1, 1}, {2, 1}});
  for (const auto& x : *taken.value)
    CHECK_FALSE(x.taken_over);
  CHECK(backend.query_value("SELECT count(*) FROM shard_lease WHERE owner = 'a' AND expires_at > now() + interval "
                            "'9 seconds'")
        == "3");
  // Held shards are not taken again, by anyone.
  auto b = open_leases(backend, "b");
  auto more = b->acquire(2);
  REQUIRE(more);
  CHECK(leases_of(*more.value) == std::vector<shard_lease_ref>{{3, 1}, {4, 1}});
  CHECK(a->acquire(0).value->empty());
}

TEST_CASE("instances acquiring at once never take the same shard", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  constexpr int instances = 4;
  std::vector<lease_store_ptr> stores;
  for (int i = 0; i < instances; ++i)
    stores.push_back(open_leases(backend, "i" + std::to_string(i)));
  std::vector<std::future<lease_reply<std::vector<acquired_lease>>>> taking;
  for (auto& store : stores)
    taking.push_back(std::async(std::launch::async, [&store] { return store->acquire(100); }));
  std::set<std::uint32_t> all;
  std::size_t total = 0;
  for (auto& x : taking) {
    auto taken = x.get();
    REQUIRE(taken);
    total += taken.value->size();
    for (const auto& lease : *taken.value)
      all.insert(lease.lease.shard);
  }
  CHECK(total == all.size());
  CHECK(all.size() == shard_count);
  CHECK(backend.query_value("SELECT count(*) FROM shard_lease WHERE owner IS NULL") == "0");
}

TEST_CASE("a renewal extends only the leases still held at their epoch and not expired", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto a = open_leases(backend, "a");
  auto taken = a->acquire(4);
  REQUIRE(taken);
  auto held = leases_of(*taken.value);
  // Shard 1 expired and was taken over by b; shard 2 expired and nobody took it yet; shard 3 is asked for at a stale
  // epoch.
  backend.exec("UPDATE shard_lease SET owner = 'b', epoch = epoch + 1 WHERE shard = 1");
  backend.exec("UPDATE shard_lease SET expires_at = now() - interval '1 second' WHERE shard = 2");
  held[3].epoch = 0;
  auto renewed = a->renew(held);
  REQUIRE(renewed);
  CHECK(*renewed.value == std::vector<shard_lease_ref>{{0, 1}});
  CHECK(a->renew({}).value->empty());
}

TEST_CASE("an acquisition takes over an expired lease at the next epoch and says so", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto a = open_leases(backend, "a");
  auto b = open_leases(backend, "b");
  REQUIRE(a->acquire(shard_count));
  CHECK(b->acquire(10).value->empty());
  expire_leases_of(backend, "a");
  auto taken = b->acquire(2);
  REQUIRE(taken);
  REQUIRE(taken.value->size() == 2);
  CHECK(taken.value->at(0).lease == shard_lease_ref{0, 2});
  CHECK(taken.value->at(0).taken_over);
  // a's renewal no longer finds them.
  auto renewed = a->renew({{0, 1}, {1, 1}});
  REQUIRE(renewed);
  CHECK(renewed.value->empty());
}

TEST_CASE("a released lease is free at once, keeps its epoch, and the release is notified", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto a = open_leases(backend, "a");
  auto listener = open_lease_listener(backend.spec(), backend.options());
  auto taken = a->acquire(2);
  REQUIRE(taken);
  // The acquisition notifies too: take its notification first, so that the next one is the release's.
  CHECK(listener->wait(30s) == lease_listener::wake::notified);
  CHECK(listener->wait(0ms) == lease_listener::wake::timeout);
  REQUIRE_FALSE(a->release({{0, 1}, {1, 7}})); // shard 1 at a stale epoch stays
  CHECK(listener->wait(30s) == lease_listener::wake::notified);
  CHECK(backend.query_value("SELECT coalesce(owner, '-') || ' ' || epoch FROM shard_lease WHERE shard = 0") == "- 1");
  CHECK(backend.query_value("SELECT owner FROM shard_lease WHERE shard = 1") == "a");
  auto b = open_leases(backend, "b");
  auto again = b->acquire(1);
  REQUIRE(again);
  REQUIRE(again.value->size() == 1);
  CHECK(again.value->at(0).lease == shard_lease_ref{0, 2});
  CHECK_FALSE(again.value->at(0).taken_over);
}

TEST_CASE("joining and leaving are notified, and leaving removes the instance", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto listener = open_lease_listener(backend.spec(), backend.options());
  auto a = open_leases(backend, "a");
  REQUIRE_FALSE(a->heartbeat());
  REQUIRE_FALSE(a->announce());
  CHECK(listener->wait(30s) == lease_listener::wake::notified);
  REQUIRE_FALSE(a->leave());
  CHECK(listener->wait(30s) == lease_listener::wake::notified);
  CHECK(backend.query_value("SELECT count(*) FROM instances") == "0");
}

TEST_CASE("a listener's wait ends when interrupted from another thread", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto listener = open_lease_listener(backend.spec(), backend.options());
  auto waiting = std::async(std::launch::async, [&] { return listener->wait(60s); });
  listener->interrupt();
  CHECK(waiting.get() == lease_listener::wake::interrupted);
}

TEST_CASE("the picture shows each shard's owner and how long its lease lasts", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto a = open_leases(backend, "a", 60'000ms);
  REQUIRE(a->acquire(2));
  auto picture = a->picture();
  REQUIRE(picture);
  const auto& shards = picture.value->shards;
  REQUIRE(shards.size() == shard_count);
  CHECK(shards[0].owner == "a");
  CHECK(shards[0].epoch == 1);
  CHECK(shards[0].remaining > 30s);
  CHECK(shards[2].owner.empty());
  CHECK(shards[2].remaining <= 0ms);
}

TEST_CASE("registrations are counted by the instance holding their shard", "[store][pg][lease]") {
  postgres_backend backend;
  auto db = backend.open();
  std::vector<store_op> ops;
  for (int i = 0; i < 20; ++i) {
    store_op op;
    op.record = make_record("ns", "t" + std::to_string(i));
    ops.push_back(op);
  }
  REQUIRE_FALSE(db->commit(ops));
  auto a = open_leases(backend, "a");
  REQUIRE(a->acquire(shard_count / 2));
  auto counts = a->registrations_by_owner();
  REQUIRE(counts);
  std::size_t total = 0;
  for (const auto& [owner, n] : *counts.value) {
    CHECK((owner == "a" || owner.empty()));
    total += n;
  }
  CHECK(total == 20);
  std::size_t of_a = 0;
  for (const auto& op : ops)
    if (shard_of(op.record.trigger) < shard_count / 2)
      ++of_a;
  CHECK((*counts.value)["a"] == of_a);
}

TEST_CASE("a lease store gets its session back after the server ended it", "[store][pg][lease]") {
  postgres_backend backend;
  backend.open();
  auto a = open_leases(backend, "a");
  REQUIRE_FALSE(a->heartbeat());
  backend.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'feedrouter-leases'");
  // The first call after the end may fail (the session is found gone only when used); the next one works.
  a->heartbeat();
  CHECK_FALSE(a->heartbeat());
}

TEST_CASE("an unreachable server or a wrong password fails opening the lease store with one line",
          "[store][pg][lease][error]") {
  postgres_backend backend;
  backend.open();
  lease_store_options opts;
  opts.instance_id = "a";
  opts.url = "http://a";
  SECTION("wrong password") {
    auto spec = backend.spec();
    auto with_password = spec.replace(spec.find("@"), 1, ":wrong-password@");
    store_options store_opts;
    CHECK_THROWS_WITH(open_lease_store(with_password, store_opts, opts),
                      Catch::Contains("password authentication failed") && !Catch::Contains("wrong-password"));
  }
  SECTION("nothing listens") {
    CHECK_THROWS_WITH(open_lease_store("postgresql://feedrouter@127.0.0.1:1/db", backend.options(), opts),
                      Catch::StartsWith("cannot connect to store 'postgresql://feedrouter@127.0.0.1:1/db'"));
  }
}

TEST_CASE("a namespace's registrations are counted in the shards an instance holds and in all, for its fire rate",
          "[store][pg][lease]") {
  postgres_backend backend;
  auto db = backend.open();
  // "split": three registrations in the lower half of the shards, three in the upper; "other": two in the upper.
  std::vector<store_op> ops;
  auto add = [&](const std::string& ns, bool lower, int n) {
    for (int k = 0, added = 0; added < n; ++k) {
      auto rec = make_record(ns, "t" + std::to_string(k));
      if ((shard_of(rec.trigger) < shard_count / 2) != lower)
        continue;
      store_op op;
      op.record = std::move(rec);
      ops.push_back(std::move(op));
      ++added;
    }
  };
  add("split", true, 3);
  add("split", false, 3);
  add("other", false, 2);
  REQUIRE_FALSE(db->commit(ops));
  auto a = open_leases(backend, "a");
  auto taken = a->acquire(shard_count / 2);
  REQUIRE(taken);
  REQUIRE(taken.value->size() == shard_count / 2);
  auto splits = a->namespace_splits(leases_of(*taken.value));
  REQUIRE(splits);
  REQUIRE(splits.value->size() == 1);
  CHECK(splits.value->front().ns == "split");
  CHECK(splits.value->front().here == 3);
  CHECK(splits.value->front().total == 6);
  auto none = a->namespace_splits({});
  REQUIRE(none);
  CHECK(none.value->empty());
}
