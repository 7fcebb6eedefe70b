// The store conformance suite: every test runs against each store (store_backends.hpp).

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/replay_window.hpp"
#include "core/shard.hpp"
#include "store_backends.hpp"
#include "store_records.hpp"
#include "store_rows.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// A checkpoint as large as a poll source's seen ids may grow: about 100 KB of JSON.
std::string make_large_checkpoint() {
  std::string result = R"({"etag":"W/\"a1\"","seen":[)";
  for (int i = 0; i < 4000; ++i)
    result += (i == 0 ? "" : ",") + std::string{"\"id-"} + std::to_string(1'000'000 + i) + "-ü-abcdefghij\"";
  return result + "]}";
}

} // namespace

TEMPLATE_TEST_CASE("a new store holds no registrations", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  CHECK(db->load_all().empty());
}

TEMPLATE_TEST_CASE("a registration round-trips every field with optional values absent", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto rec = make_record("guest", "every-minute");
  REQUIRE_FALSE(rec.status.last_fired);
  REQUIRE_FALSE(rec.status.triggers_left);
  REQUIRE_FALSE(rec.status.last_occurrence);
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], rec);
}

TEMPLATE_TEST_CASE("a registration round-trips every field with optional values present", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto rec = make_full_record("guest", "every-minute");
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], rec);
}

TEMPLATE_TEST_CASE("every state and reason kind round-trips", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  std::vector<registration_record> recs;
  for (auto state : {registration_state::active, registration_state::paused, registration_state::disabled}) {
    for (auto kind : {reason_kind::none, reason_kind::automatic, reason_kind::admin, reason_kind::user}) {
      auto rec = make_record("guest", "t" + std::to_string(recs.size()));
      rec.status.state = state;
      rec.status.reason.kind = kind;
      recs.push_back(rec);
      REQUIRE(db->commit({put(rec)}) == std::nullopt);
    }
  }
  auto all = db->load_all();
  REQUIRE(all.size() == recs.size());
  for (const auto& rec : recs) {
    auto i = std::find_if(all.begin(), all.end(), [&](const auto& x) { return x.trigger == rec.trigger; });
    REQUIRE(i != all.end());
    check_same(*i, rec);
  }
}

TEMPLATE_TEST_CASE("triggers with the same name in different namespaces are separate registrations", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("alice", "tick");
  auto b = make_full_record("bob", "tick");
  REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 2);
  check_same(all[0], a); // load_all orders by namespace, then name
  check_same(all[1], b);
}

TEMPLATE_TEST_CASE("load_all orders by namespace, then name, whatever the order of storing", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  // Bytes above 0x7f sort after ASCII, as in SQLite's BINARY collation; "t10" sorts before "t2".
  std::vector<trigger_ref> stored{{"zed", "a"}, {"\xc3\xa9t\xc3\xa9", "a"}, {"guest", "t2"}, {"guest", "t10"},
                                  {"guest", "T"}, {"Guest", "z"}, {"guest", "\xc3\xa4"}};
  for (const auto& trigger : stored)
    REQUIRE(db->commit({put(make_record(trigger.ns, trigger.name))}) == std::nullopt);
  std::vector<std::string> keys;
  for (const auto& rec : db->load_all())
    keys.push_back(rec.trigger.key());
  CHECK(keys
        == std::vector<std::string>{"Guest/z", "guest/T", "guest/t10", "guest/t2", "guest/\xc3\xa4", "zed/a",
                                    "\xc3\xa9t\xc3\xa9/a"});
}

TEMPLATE_TEST_CASE("put_registration replaces the whole stored record", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  REQUIRE(db->commit({put(make_full_record("guest", "tick"))}) == std::nullopt);
  auto replacement = make_record("guest", "tick");
  replacement.feed = "changes";
  replacement.params_json = "{}";
  replacement.auth_key = "other:key";
  replacement.created = sys_ms{42ms};
  REQUIRE(db->commit({put(replacement)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], replacement);
  CHECK(all[0].auth_hash == db->key()->hash_auth_key("other:key"));
}

TEMPLATE_TEST_CASE("put_status changes only the status of a stored registration", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto rec = make_record("guest", "tick");
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto update = make_full_record("guest", "tick");
  update.feed = "ignored";
  update.params_json = "ignored";
  update.auth_key = "ignored";
  update.created = sys_ms{1ms};
  REQUIRE(db->commit({put_status(update)}) == std::nullopt);
  auto expected = rec;
  expected.status = update.status;
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], expected);
  CHECK(all[0].auth_hash == db->key()->hash_auth_key(rec.auth_key));
  SECTION("and clears optional values that became absent") {
    REQUIRE(db->commit({put_status(rec)}) == std::nullopt);
    all = db->load_all();
    REQUIRE(all.size() == 1);
    check_same(all[0], rec);
  }
}

TEMPLATE_TEST_CASE("put_status on a missing registration is a no-op", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto other = make_record("guest", "other");
  REQUIRE(db->commit({put(other)}) == std::nullopt);
  CHECK(db->commit({put_status(make_full_record("guest", "gone"))}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], other);
}

TEMPLATE_TEST_CASE("erase removes only the named registration", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("guest", "a");
  auto b = make_record("guest", "b");
  REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
  REQUIRE(db->commit({erase(a.trigger)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], b);
  SECTION("and erasing a missing registration is a no-op") {
    CHECK(db->commit({erase(a.trigger), erase({"nobody", "b"})}) == std::nullopt);
    all = db->load_all();
    REQUIRE(all.size() == 1);
    check_same(all[0], b);
  }
}

TEMPLATE_TEST_CASE("the operations of one batch apply in order", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("guest", "a");
  auto a_status = make_full_record("guest", "a");
  auto b = make_record("guest", "b");
  REQUIRE(db->commit({put(a), put_status(a_status), put(b), erase(b.trigger)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  auto expected = a;
  expected.status = a_status.status;
  check_same(all[0], expected);
}

TEMPLATE_TEST_CASE("an empty batch succeeds and changes nothing", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto rec = make_record("guest", "tick");
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  CHECK(db->commit({}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], rec);
}

TEMPLATE_TEST_CASE("registrations survive closing and reopening the store", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto a = make_record("guest", "a");
  auto b = make_full_record("guest", "b");
  {
    auto db = backend.open();
    REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
    REQUIRE(db->commit({put_status(a)}) == std::nullopt);
  }
  {
    auto db = backend.open();
    auto all = db->load_all();
    REQUIRE(all.size() == 2);
    check_same(all[0], a);
    check_same(all[1], b);
    REQUIRE(db->commit({erase(a.trigger)}) == std::nullopt);
  }
  auto db = backend.open();
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], b);
}

// -- status fields of the delivery ---------------------------------------------------

TEMPLATE_TEST_CASE("checkpoint and dead-letter count round-trip through put_registration", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto rec = make_full_record("guest", "poll");
  rec.status.dead_letters = 5'000'000'000;
  rec.status.checkpoint = make_large_checkpoint();
  REQUIRE(rec.status.checkpoint.size() > 100'000);
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], rec);
}

TEMPLATE_TEST_CASE("put_status writes checkpoint and dead-letter count", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto rec = make_record("guest", "poll");
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto update = rec;
  update.status.dead_letters = 2;
  update.status.checkpoint = R"({"since":"42-g1AAAA"})";
  REQUIRE(db->commit({put_status(update)}) == std::nullopt);
  check_same(find_loaded(*db, rec.trigger), update);
  SECTION("and a later put_status clears them again") {
    REQUIRE(db->commit({put_status(rec)}) == std::nullopt);
    check_same(find_loaded(*db, rec.trigger), rec);
  }
}

// -- pending events -------------------------------------------------------------------

TEMPLATE_TEST_CASE("a registration without events loads with no pending events and last_seq 0", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  REQUIRE(db->commit({put(make_record("guest", "tick"))}) == std::nullopt);
  auto loaded = find_loaded(*db, {"guest", "tick"});
  CHECK(loaded.pending.empty());
  CHECK(loaded.last_seq == 0);
}

TEMPLATE_TEST_CASE("pending events round-trip every field in seq order", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook"))}) == std::nullopt);
  auto big = make_event(10);
  big.body = make_large_checkpoint(); // bodies are opaque text too
  REQUIRE(db->commit({put_event(hook, make_event(3)), put_event(hook, big)}) == std::nullopt);
  REQUIRE(db->commit({put_event(hook, make_event(1)), put_event(hook, make_event(2))}) == std::nullopt);
  auto pending = pending_of(*db, hook);
  REQUIRE(seqs_of(pending) == std::vector<std::uint64_t>{1, 2, 3, 10});
  check_same(pending[0], make_event(1));
  check_same(pending[2], make_event(3));
  check_same(pending[3], big);
}

TEMPLATE_TEST_CASE("load_all tells a registration's pending events by their first seq and count, without a body",
                   "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook"))}) == std::nullopt);
  // Seqs with gaps (fired and dead-lettered events leave them); the delivery core reads from the first seq on.
  REQUIRE(db->commit({put_event(hook, make_event(3)), put_event(hook, make_event(5)), put_event(hook, make_event(9)),
                      put_dead_letter(hook, make_letter(12))})
          == std::nullopt);
  auto loaded = find_loaded(*db, hook);
  CHECK(loaded.pending.first_seq == 3);
  CHECK(loaded.pending.count == 3);
  CHECK(loaded.last_seq == 12);
  CHECK(seqs_of(pending_of(*db, hook)) == std::vector<std::uint64_t>{3, 5, 9});
  auto loaded_shard = db->load_shards({shard_of(hook)});
  REQUIRE(loaded_shard.size() == 1);
  CHECK(loaded_shard[0].pending == loaded.pending);
  CHECK(loaded_shard[0].last_seq == 12);
}

TEMPLATE_TEST_CASE("load_all gives each registration only its own events", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  // Same name in two namespaces, a name that is a prefix of another, registrations without events in between, and
  // two whose "ns/name" keys would be equal (the store does not validate names).
  std::vector<trigger_ref> triggers{{"a", "b/c"},   {"a/b", "c"}, {"alice", "a"}, {"alice", "ab"},
                                    {"alice", "b"}, {"bob", "a"}, {"bob", "c"}};
  std::vector<store_op> ops;
  for (const auto& trigger : triggers)
    ops.push_back(put(make_record(trigger.ns, trigger.name)));
  ops.push_back(put_event({"a/b", "c"}, make_event(4)));
  ops.push_back(put_dead_letter({"a", "b/c"}, make_letter(6)));
  ops.push_back(put_event({"alice", "a"}, make_event(1)));
  ops.push_back(put_event({"alice", "ab"}, make_event(7)));
  ops.push_back(put_event({"alice", "ab"}, make_event(8)));
  ops.push_back(put_event({"bob", "a"}, make_event(2)));
  REQUIRE(db->commit(ops) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == triggers.size());
  for (std::size_t i = 0; i < triggers.size(); ++i)
    REQUIRE(all[i].trigger == triggers[i]);
  CHECK(all[0].pending.empty());
  CHECK(all[1].pending == span_of({4}));
  CHECK(all[2].pending == span_of({1}));
  CHECK(all[3].pending == span_of({7, 8}));
  CHECK(all[4].pending.empty());
  CHECK(all[5].pending == span_of({2}));
  CHECK(all[6].pending.empty());
  CHECK(all[0].last_seq == 6);
  CHECK(all[1].last_seq == 4);
  CHECK(all[2].last_seq == 1);
  CHECK(all[3].last_seq == 8);
  CHECK(all[4].last_seq == 0);
  CHECK(all[5].last_seq == 2);
  CHECK(all[6].last_seq == 0);
}

TEMPLATE_TEST_CASE("erase_event removes only the named event", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref a{"guest", "a"};
  trigger_ref b{"guest", "b"};
  REQUIRE(db->commit({put(make_record("guest", "a")), put(make_record("guest", "b")), put_event(a, make_event(1)),
                      put_event(a, make_event(2)), put_event(b, make_event(1))})
          == std::nullopt);
  REQUIRE(db->commit({erase_event(a, 1)}) == std::nullopt);
  CHECK(find_loaded(*db, a).pending == span_of({2}));
  CHECK(find_loaded(*db, b).pending == span_of({1}));
  SECTION("and erasing a missing event is a no-op") {
    CHECK(db->commit({erase_event(a, 1), erase_event(a, 99), erase_event({"nobody", "a"}, 2)}) == std::nullopt);
    CHECK(find_loaded(*db, a).pending == span_of({2}));
    CHECK(find_loaded(*db, b).pending == span_of({1}));
  }
}

TEMPLATE_TEST_CASE("put_event for a missing registration stores nothing", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref gone{"guest", "gone"};
  SECTION("when it never existed") {
    REQUIRE(db->commit({put_event(gone, make_event(1)), put_dead_letter(gone, make_letter(2))}) == std::nullopt);
  }
  SECTION("when it was erased earlier in the same batch") {
    REQUIRE(db->commit({put(make_record("guest", "gone"))}) == std::nullopt);
    REQUIRE(db->commit({erase(gone), put_event(gone, make_event(1)), put_dead_letter(gone, make_letter(2))})
            == std::nullopt);
  }
  // A later registration of the same trigger must not inherit them.
  REQUIRE(db->commit({put(make_record("guest", "gone"))}) == std::nullopt);
  auto loaded = find_loaded(*db, gone);
  CHECK(loaded.pending.empty());
  CHECK(loaded.last_seq == 0);
  CHECK(db->load_dead_letters(gone, 10).empty());
}

TEMPLATE_TEST_CASE("put_registration keeps the registration's events and dead letters", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook")), put_event(hook, make_event(2)),
                      put_dead_letter(hook, make_letter(1))})
          == std::nullopt);
  auto updated = make_full_record("guest", "hook");
  updated.params_json = R"({"secret":"new"})";
  REQUIRE(db->commit({put(updated)}) == std::nullopt);
  auto loaded = find_loaded(*db, hook);
  CHECK(loaded.params_json == updated.params_json);
  CHECK(loaded.pending == span_of({2}));
  CHECK(seqs_of(db->load_dead_letters(hook, 10)) == std::vector<std::uint64_t>{1});
}

// -- webhook deliveries ---------------------------------------------------------------

TEMPLATE_TEST_CASE("a delivery id is remembered with its event and kept after the event is fired", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook"))}) == std::nullopt);
  REQUIRE(db->commit({put_event(hook, make_event(1)), put_delivery(hook, 1, "d-1")}) == std::nullopt);
  REQUIRE(db->commit({put_event(hook, make_event(2)), put_delivery(hook, 2, "8f0c1d2e-aaaa-bbbb-cccc-0123456789ab")})
          == std::nullopt);
  REQUIRE(db->commit({erase_event(hook, 1), erase_event(hook, 2)}) == std::nullopt);
  auto loaded = find_loaded(*db, hook);
  CHECK(loaded.pending.empty());
  CHECK(deliveries_of(loaded) == std::vector<std::string>{"1:d-1", "2:8f0c1d2e-aaaa-bbbb-cccc-0123456789ab"});
  // New events are numbered after them, though no event is pending.
  CHECK(loaded.last_seq == 2);
  auto in_shard = db->load_shards({shard_of(hook)});
  REQUIRE(in_shard.size() == 1);
  CHECK(deliveries_of(in_shard[0]) == deliveries_of(loaded));
  // A delivery of a seq taken again (a registration replaced by a CREATE numbers from 1 again) replaces the old one.
  REQUIRE(db->commit({put_delivery(hook, 1, "d-1-again")}) == std::nullopt);
  CHECK(deliveries_of(find_loaded(*db, hook)).front() == "1:d-1-again");
}

TEMPLATE_TEST_CASE("a registration keeps only its newest replay_window_capacity delivery ids", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  trigger_ref other{"guest", "other"};
  REQUIRE(db->commit({put(make_record("guest", "hook")), put(make_record("guest", "other")),
                      put_delivery(other, 1, "o-1")})
          == std::nullopt);
  constexpr std::uint64_t taken = replay_window_capacity + 10;
  std::vector<store_op> ops;
  for (std::uint64_t seq = 1; seq <= taken; ++seq)
    ops.push_back(put_delivery(hook, seq, "d-" + std::to_string(seq)));
  REQUIRE(db->commit(ops) == std::nullopt);
  auto loaded = find_loaded(*db, hook);
  REQUIRE(loaded.deliveries.size() == replay_window_capacity);
  CHECK(loaded.deliveries.front().seq == taken - replay_window_capacity + 1);
  CHECK(loaded.deliveries.back().seq == taken);
  CHECK(loaded.deliveries.back().id == "d-" + std::to_string(taken));
  // Another registration's are its own.
  CHECK(deliveries_of(find_loaded(*db, other)) == std::vector<std::string>{"1:o-1"});
}

TEMPLATE_TEST_CASE("delivery ids go with their registration and are not stored for one that is gone", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook")), put_delivery(hook, 1, "d-1")}) == std::nullopt);
  REQUIRE(db->commit({erase(hook), put_delivery(hook, 2, "d-2")}) == std::nullopt);
  REQUIRE(db->commit({put(make_record("guest", "hook"))}) == std::nullopt);
  CHECK(find_loaded(*db, hook).deliveries.empty());
  // What the reads a cluster answers from the store carry no deliveries.
  REQUIRE(db->commit({put_delivery(hook, 3, "d-3")}) == std::nullopt);
  auto one = db->load_registration(hook);
  REQUIRE(one);
  CHECK(one->deliveries.empty());
}

// -- dead letters ---------------------------------------------------------------------

TEMPLATE_TEST_CASE("a dead letter round-trips every field", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook"))}) == std::nullopt);
  auto letter = make_letter(4);
  SECTION("with a response") {
    letter.status_code = 413;
    letter.error = "Request Entity Too Large: 'payload' \"quoted\"";
  }
  SECTION("without a response") {
    letter.status_code = 0;
    letter.error = "connection refused";
    letter.attempts = 0;
    letter.event.body.clear();
  }
  REQUIRE(db->commit({put_dead_letter(hook, letter)}) == std::nullopt);
  auto loaded = db->load_dead_letters(hook, 10);
  REQUIRE(loaded.size() == 1);
  check_same(loaded[0], letter);
}

TEMPLATE_TEST_CASE("load_dead_letters returns the oldest first, up to the limit", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  trigger_ref other{"other", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook")), put(make_record("other", "hook"))}) == std::nullopt);
  for (std::uint64_t seq : {5, 2, 9, 1})
    REQUIRE(db->commit({put_dead_letter(hook, make_letter(seq))}) == std::nullopt);
  REQUIRE(db->commit({put_dead_letter(other, make_letter(3))}) == std::nullopt);
  CHECK(seqs_of(db->load_dead_letters(hook, 10)) == std::vector<std::uint64_t>{1, 2, 5, 9});
  CHECK(seqs_of(db->load_dead_letters(hook, 4)) == std::vector<std::uint64_t>{1, 2, 5, 9});
  CHECK(seqs_of(db->load_dead_letters(hook, 2)) == std::vector<std::uint64_t>{1, 2});
  CHECK(db->load_dead_letters(hook, 0).empty());
  CHECK(seqs_of(db->load_dead_letters(hook, std::numeric_limits<std::size_t>::max()))
        == std::vector<std::uint64_t>{1, 2, 5, 9});
  CHECK(seqs_of(db->load_dead_letters(other, 10)) == std::vector<std::uint64_t>{3});
  CHECK(db->load_dead_letters({"guest", "nobody"}, 10).empty());
}

TEMPLATE_TEST_CASE("load_pending reads a registration's pending events from a seq on, within rows and bytes", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  trigger_ref other{"other", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook")), put(make_record("other", "hook"))}) == std::nullopt);
  for (std::uint64_t seq : {7, 2, 4, 9})
    REQUIRE(db->commit({put_event(hook, make_event(seq))}) == std::nullopt);
  REQUIRE(db->commit({put_event(other, make_event(5))}) == std::nullopt);
  auto size = make_event(2).body.size();
  auto all = db->load_pending(hook, 0, 100, 100 * size);
  REQUIRE(all);
  CHECK(seqs_of(all->events) == std::vector<std::uint64_t>{2, 4, 7, 9});
  CHECK(all->next_bytes == 0);
  check_same(all->events[0], make_event(2));
  SECTION("from a seq on, at most so many rows") {
    auto page = db->load_pending(hook, 3, 2, 100 * size);
    REQUIRE(page);
    CHECK(seqs_of(page->events) == std::vector<std::uint64_t>{4, 7});
    CHECK(page->next_bytes == 0);
  }
  SECTION("the byte bound stops before the body that would pass it, and says how large that body is") {
    auto page = db->load_pending(hook, 0, 100, 2 * size + 1);
    REQUIRE(page);
    CHECK(seqs_of(page->events) == std::vector<std::uint64_t>{2, 4});
    CHECK(page->next_bytes == make_event(7).body.size());
    auto none = db->load_pending(hook, 0, 100, size - 1);
    REQUIRE(none);
    CHECK(none->events.empty());
    CHECK(none->next_bytes == size);
  }
  SECTION("no rows, a seq past the end, or another registration's events") {
    CHECK(db->load_pending(hook, 0, 0, 100 * size)->events.empty());
    CHECK(db->load_pending(hook, 10, 100, 100 * size)->events.empty());
    CHECK(db->load_pending(hook, std::numeric_limits<std::uint64_t>::max(), 100, 100 * size)->events.empty());
    CHECK(seqs_of(db->load_pending(other, 0, 100, 100 * size)->events) == std::vector<std::uint64_t>{5});
    CHECK(db->load_pending({"guest", "nobody"}, 0, 100, 100 * size)->events.empty());
  }
}

TEMPLATE_TEST_CASE("erase_dead_letter removes only the named letter", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook")), put_dead_letter(hook, make_letter(1)),
                      put_dead_letter(hook, make_letter(2))})
          == std::nullopt);
  REQUIRE(db->commit({erase_dead_letter(hook, 1)}) == std::nullopt);
  CHECK(seqs_of(db->load_dead_letters(hook, 10)) == std::vector<std::uint64_t>{2});
  SECTION("and erasing a missing letter is a no-op") {
    CHECK(db->commit({erase_dead_letter(hook, 1), erase_dead_letter(hook, 3), erase_dead_letter({"nobody", "x"}, 2)})
          == std::nullopt);
    CHECK(seqs_of(db->load_dead_letters(hook, 10)) == std::vector<std::uint64_t>{2});
  }
}

TEMPLATE_TEST_CASE("an event moves from pending to dead letters in one batch", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto rec = make_record("guest", "hook");
  const auto& hook = rec.trigger;
  REQUIRE(db->commit({put(rec), put_event(hook, make_event(1)), put_event(hook, make_event(2))}) == std::nullopt);
  auto letter = make_letter(1);
  rec.status.dead_letters = 1;
  rec.status.failures = 12;
  REQUIRE(db->commit({erase_event(hook, 1), put_dead_letter(hook, letter), put_status(rec)}) == std::nullopt);
  auto loaded = find_loaded(*db, hook);
  check_same(loaded, rec);
  CHECK(loaded.pending == span_of({2}));
  auto letters = db->load_dead_letters(hook, 10);
  REQUIRE(letters.size() == 1);
  check_same(letters[0], letter);
}

TEMPLATE_TEST_CASE("last_seq is the highest seq over pending events and dead letters", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook"))}) == std::nullopt);
  SECTION("with dead letters only") {
    REQUIRE(db->commit({put_dead_letter(hook, make_letter(4)), put_dead_letter(hook, make_letter(6))})
            == std::nullopt);
    CHECK(find_loaded(*db, hook).last_seq == 6);
  }
  SECTION("when a dead letter is newer than every pending event") {
    REQUIRE(db->commit({put_event(hook, make_event(3)), put_dead_letter(hook, make_letter(7))}) == std::nullopt);
    auto loaded = find_loaded(*db, hook);
    CHECK(loaded.pending == span_of({3}));
    CHECK(loaded.last_seq == 7);
  }
  SECTION("when a pending event is newer than every dead letter") {
    REQUIRE(db->commit({put_event(hook, make_event(8)), put_dead_letter(hook, make_letter(7))}) == std::nullopt);
    CHECK(find_loaded(*db, hook).last_seq == 8);
  }
  SECTION("up to the largest seq SQLite holds") {
    constexpr auto largest = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    REQUIRE(db->commit({put_event(hook, make_event(largest)), put_dead_letter(hook, make_letter(largest - 1))})
            == std::nullopt);
    auto loaded = find_loaded(*db, hook);
    CHECK(loaded.pending == span_of({largest}));
    CHECK(loaded.last_seq == largest);
    CHECK(seqs_of(db->load_dead_letters(hook, 1)) == std::vector<std::uint64_t>{largest - 1});
  }
  SECTION("and 0 again once both are empty") {
    REQUIRE(db->commit({put_event(hook, make_event(8)), put_dead_letter(hook, make_letter(7))}) == std::nullopt);
    REQUIRE(db->commit({erase_event(hook, 8), erase_dead_letter(hook, 7)}) == std::nullopt);
    CHECK(find_loaded(*db, hook).last_seq == 0);
  }
}

TEMPLATE_TEST_CASE("erase removes a registration's pending events and dead letters", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  trigger_ref hook{"guest", "hook"};
  trigger_ref kept{"other", "hook"};
  REQUIRE(db->commit({put(make_record("guest", "hook")), put(make_record("other", "hook")),
                      put_event(hook, make_event(3)), put_dead_letter(hook, make_letter(2)),
                      put_event(kept, make_event(5)), put_dead_letter(kept, make_letter(4))})
          == std::nullopt);
  REQUIRE(db->commit({erase(hook)}) == std::nullopt);
  CHECK(db->load_dead_letters(hook, 10).empty());
  auto loaded = find_loaded(*db, kept);
  CHECK(loaded.pending == span_of({5}));
  CHECK(loaded.last_seq == 5);
  CHECK(seqs_of(db->load_dead_letters(kept, 10)) == std::vector<std::uint64_t>{4});
  SECTION("so a new registration of the same trigger starts empty") {
    REQUIRE(db->commit({put(make_record("guest", "hook"))}) == std::nullopt);
    auto fresh = find_loaded(*db, hook);
    CHECK(fresh.pending.empty());
    CHECK(fresh.last_seq == 0);
    CHECK(db->load_dead_letters(hook, 10).empty());
  }
}

TEMPLATE_TEST_CASE("events, dead letters and checkpoints survive closing and reopening the store", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto rec = make_record("guest", "hook");
  rec.status.checkpoint = R"({"since":"7"})";
  rec.status.dead_letters = 1;
  {
    auto db = backend.open();
    REQUIRE(db->commit({put(rec), put_event(rec.trigger, make_event(2)), put_dead_letter(rec.trigger, make_letter(1)),
                        put_delivery(rec.trigger, 2, "d-2")})
            == std::nullopt);
  }
  auto db = backend.open();
  auto loaded = find_loaded(*db, rec.trigger);
  check_same(loaded, rec);
  CHECK(deliveries_of(loaded) == std::vector<std::string>{"2:d-2"});
  CHECK(loaded.pending == span_of({2}));
  auto pending = pending_of(*db, rec.trigger);
  REQUIRE(pending.size() == 1);
  check_same(pending[0], make_event(2));
  CHECK(loaded.last_seq == 2);
  auto letters = db->load_dead_letters(rec.trigger, 10);
  REQUIRE(letters.size() == 1);
  check_same(letters[0], make_letter(1));
}

// -- shards -----------------------------------------------------------------------------

TEMPLATE_TEST_CASE("each registration is stored with its shard", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto a = make_record("guest", "tick");
  auto b = make_record("alice", "t0");
  {
    auto db = backend.open();
    REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
    // A replacement keeps it, as the shard depends on the name only.
    REQUIRE(db->commit({put(make_full_record("guest", "tick"))}) == std::nullopt);
  }
  auto shard_of_row = [&](const char* name) {
    return backend.query_value(std::string{"SELECT shard FROM registrations WHERE name = '"} + name + "'");
  };
  CHECK(shard_of_row("tick") == std::to_string(shard_of(a.trigger)));
  CHECK(shard_of_row("t0") == std::to_string(shard_of(b.trigger)));
  CHECK(backend.query_value("SELECT value FROM meta WHERE name = 'shard_count'") == std::to_string(shard_count));
}

TEMPLATE_TEST_CASE("load_shards returns the registrations of the given shards with their events", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  // Names spread over many shards; the pair in shard `first` is what the query asks for.
  std::vector<registration_record> recs;
  std::vector<store_op> ops;
  for (int i = 0; i < 40; ++i) {
    recs.push_back(make_record("ns" + std::to_string(i % 3), "t" + std::to_string(i)));
    ops.push_back(put(recs.back()));
    ops.push_back(put_event(recs.back().trigger, make_event(static_cast<std::uint64_t>(i) + 1)));
    ops.push_back(put_dead_letter(recs.back().trigger, make_letter(100)));
  }
  REQUIRE(db->commit(ops) == std::nullopt);
  std::vector<std::uint32_t> wanted{shard_of(recs[0].trigger), shard_of(recs[7].trigger)};
  std::vector<std::string> expected;
  for (const auto& rec : db->load_all())
    if (std::find(wanted.begin(), wanted.end(), shard_of(rec.trigger)) != wanted.end())
      expected.push_back(rec.trigger.key());
  REQUIRE(expected.size() >= 2);
  auto loaded = db->load_shards(wanted);
  std::vector<std::string> keys;
  for (const auto& rec : loaded) {
    keys.push_back(rec.trigger.key());
    CHECK(rec.pending.count == 1);
    CHECK(rec.last_seq == 100);
    CHECK(rec.params_json == recs[0].params_json);
  }
  CHECK(keys == expected); // in load_all's order
  CHECK(db->load_shards({}).empty());
  std::vector<std::uint32_t> all_shards;
  for (std::uint32_t shard = 0; shard < shard_count; ++shard)
    all_shards.push_back(shard);
  CHECK(db->load_shards(all_shards).size() == recs.size());
}

TEMPLATE_TEST_CASE("a store made for another shard count is refused", "[store]", STORE_BACKENDS) {
  TestType backend;
  {
    auto db = backend.open();
    REQUIRE(db->commit({put(make_record("guest", "tick"))}) == std::nullopt);
  }
  backend.exec("UPDATE meta SET value = '128' WHERE name = 'shard_count'");
  CHECK_THROWS_MATCHES(backend.open(), store_open_error,
                       Catch::Matchers::Message("store '" + backend.name()
                                                + "' spreads its registrations over 128 shards, this build over "
                                                + std::to_string(shard_count)
                                                + ": use the feedrouter build that made it"));
}

// -- scale ------------------------------------------------------------------------------

// Hidden (run with "[.benchmark]"): load_all must stay one pass per table for a large registry with few events.
TEMPLATE_TEST_CASE("load_all of 100 000 registrations with few events", "[.benchmark][store]", STORE_BACKENDS) {
  TestType backend;
  constexpr int registrations = 100'000;
  constexpr int with_events = 1'000;
  {
    auto db = backend.open();
    std::vector<store_op> ops;
    for (int i = 0; i < registrations; ++i) {
      auto rec = make_record("ns" + std::to_string(i % 100), "t" + std::to_string(i));
      rec.status.checkpoint = R"({"since":")" + std::to_string(i) + R"("})";
      ops.push_back(put(rec));
      if (i % (registrations / with_events) == 0) {
        ops.push_back(put_event(rec.trigger, make_event(2)));
        ops.push_back(put_event(rec.trigger, make_event(3)));
        ops.push_back(put_dead_letter(rec.trigger, make_letter(1)));
      }
    }
    auto start = std::chrono::steady_clock::now();
    REQUIRE(db->commit(ops) == std::nullopt);
    WARN("one batch of " << ops.size() << " changes: "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                                                 - start)
                              .count()
                         << " ms wall");
  }
  // CPU time rather than wall time: a busy build machine makes the latter meaningless. The best of a few runs.
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
  };
  constexpr int runs = 5;
  // Opening checks the file (quick_check reads every page) before anything is loaded.
  auto best_open_cpu = std::chrono::nanoseconds::max();
  for (int run = 0; run < runs; ++run) {
    auto cpu_start = cpu_now();
    backend.open();
    best_open_cpu = std::min<std::chrono::nanoseconds>(best_open_cpu, cpu_now() - cpu_start);
  }
  WARN("open_store of " << registrations << " registrations: best of " << runs << " runs "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(best_open_cpu).count()
                        << " ms CPU");
  auto db = backend.open();
  std::vector<registration_record> all;
  auto best_cpu = std::chrono::nanoseconds::max();
  auto best_wall = std::chrono::nanoseconds::max();
  for (int run = 0; run < runs; ++run) {
    auto cpu_start = cpu_now();
    auto wall_start = std::chrono::steady_clock::now();
    all = db->load_all();
    best_wall = std::min<std::chrono::nanoseconds>(best_wall, std::chrono::steady_clock::now() - wall_start);
    best_cpu = std::min<std::chrono::nanoseconds>(best_cpu, cpu_now() - cpu_start);
  }
  WARN("load_all of " << all.size() << " registrations: best of " << runs << " runs "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(best_cpu).count() << " ms CPU, "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(best_wall).count() << " ms wall");
  REQUIRE(all.size() == registrations);
  auto with_pending = std::count_if(all.begin(), all.end(), [](const auto& x) { return x.pending.count == 2; });
  CHECK(with_pending == with_events);
  auto with_seq = std::count_if(all.begin(), all.end(), [](const auto& x) { return x.last_seq == 3; });
  CHECK(with_seq == with_events);
}

// Hidden (run with "[.benchmark]"): what one group commit costs, from a single status to a hundred changes, with and
// without fencing tokens, on each store, and on a PostgreSQL server that syncs every commit to disk as a production
// server does.
TEMPLATE_TEST_CASE("commit latency of group commits", "[.benchmark][store]", sqlite_backend, postgres_backend,
                   durable_postgres_backend) {
  TestType backend;
  constexpr int registrations = 100;
  constexpr int commits = 500;
  constexpr std::int64_t epoch = 1;
  store_options opts;
  opts.instance_id = "bench";
  if constexpr (!std::is_same_v<TestType, sqlite_backend>) {
    backend.open();
    backend.exec("UPDATE shard_lease SET owner = 'bench', epoch = " + std::to_string(epoch));
  }
  auto db = backend.open(opts);
  std::vector<registration_record> recs;
  std::vector<store_op> puts;
  for (int i = 0; i < registrations; ++i) {
    recs.push_back(make_record("guest", "t" + std::to_string(i)));
    puts.push_back(put(recs.back()));
  }
  REQUIRE(db->commit(puts) == std::nullopt);
  auto batch_size = GENERATE(1, 10, 100);
  auto fenced = GENERATE(false, true);
  std::vector<std::chrono::nanoseconds> latencies;
  for (int n = 0; n < commits; ++n) {
    std::vector<store_op> ops;
    for (int i = 0; i < batch_size; ++i) {
      auto& rec = recs[static_cast<std::size_t>((n * batch_size + i) % registrations)];
      ++rec.status.fires;
      rec.status.last_fired = sys_ms{std::chrono::milliseconds{1'700'000'000'000 + n}};
      ops.push_back(put_status(rec));
      if (fenced)
        ops.back().fence = fencing_token{shard_of(rec.trigger), epoch};
    }
    auto start = std::chrono::steady_clock::now();
    auto result = db->commit_fenced(ops);
    latencies.push_back(std::chrono::steady_clock::now() - start);
    REQUIRE(result.error == std::nullopt);
    REQUIRE(result.fenced.empty());
  }
  std::sort(latencies.begin(), latencies.end());
  auto us = [](std::chrono::nanoseconds x) { return std::chrono::duration_cast<std::chrono::microseconds>(x).count(); };
  WARN("commit of " << batch_size << " status changes" << (fenced ? " with fencing tokens" : "") << ", " << commits
                    << " commits: median " << us(latencies[commits / 2]) << " us, p99 "
                    << us(latencies[commits * 99 / 100]) << " us wall");
}
