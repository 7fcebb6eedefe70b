// The store conformance suite, continued: the reads a cluster answers from the store rather than from the instance
// that runs a registration (one registration, a key's list, a namespace's count).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store_backends.hpp"
#include "store_records.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const std::string other_key = "c8e2d4f6-1a3b-4c5d-8e7f-9a0b1c2d3e4f:bob-secret";

store_op put(registration_record rec) {
  store_op op;
  op.record = std::move(rec);
  return op;
}

store_op put_event(const trigger_ref& trigger, std::uint64_t seq) {
  store_op op;
  op.op = store_op::kind::put_event;
  op.record.trigger = trigger;
  op.event.seq = seq;
  op.event.body = "{}";
  return op;
}

/// Stores alice/a, alice/b (with a pending event), bob/c and alice/d of another key.
void store_some(store& db) {
  auto other = make_record("alice", "d");
  other.auth_key = other_key;
  REQUIRE_FALSE(db.commit({put(make_full_record("alice", "b")), put(make_record("alice", "a")),
                           put(make_record("bob", "c")), put(other), put_event({"alice", "b"}, 3)}));
}

std::vector<std::string> keys_of(const std::vector<registration_record>& records) {
  std::vector<std::string> result;
  for (const auto& rec : records)
    result.push_back(rec.trigger.key());
  return result;
}

} // namespace

TEMPLATE_TEST_CASE("one stored registration is read with its status and secrets, without its events",
                   "[store][reads]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  store_some(*db);
  auto found = db->load_registration({"alice", "b"});
  REQUIRE(found);
  check_same(*found, make_full_record("alice", "b"));
  CHECK(found->pending.empty());
  CHECK_FALSE(found->auth_hash.empty());
  CHECK_FALSE(db->load_registration({"alice", "zz"}));
}

TEMPLATE_TEST_CASE("a key's registrations are read by its hash, in one namespace or in all", "[store][reads]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  store_some(*db);
  auto hash = db->key()->hash_auth_key(make_record("x", "y").auth_key);
  CHECK(keys_of(db->load_owned(hash, "alice")) == std::vector<std::string>{"alice/a", "alice/b"});
  CHECK(keys_of(db->load_owned(hash, "")) == std::vector<std::string>{"alice/a", "alice/b", "bob/c"});
  CHECK(keys_of(db->load_owned(db->key()->hash_auth_key(other_key), "")) == std::vector<std::string>{"alice/d"});
  CHECK(db->load_owned(hash, "nobody").empty());
  CHECK(db->load_owned("not-a-hash", "").empty());
  for (const auto& rec : db->load_owned(hash, ""))
    CHECK(rec.pending.empty());
}

TEMPLATE_TEST_CASE("a namespace's registrations are counted whoever owns them", "[store][reads]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  store_some(*db);
  CHECK(db->count_registrations("alice") == 3);
  CHECK(db->count_registrations("bob") == 1);
  CHECK(db->count_registrations("nobody") == 0);
}

TEMPLATE_TEST_CASE("an operator's pages of every key's registrations are read in name order, after a cursor, bytewise",
                   "[store][reads]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  store_some(*db);
  // Bytewise: "B" sorts before "alice", and every registration of "alice" before those of "alice-x".
  REQUIRE_FALSE(db->commit({put(make_record("B", "z")), put(make_record("alice-x", "a"))}));
  CHECK(keys_of(db->load_page("", std::nullopt, 100))
        == std::vector<std::string>{"B/z", "alice/a", "alice/b", "alice/d", "alice-x/a", "bob/c"});
  CHECK(keys_of(db->load_page("", std::nullopt, 2)) == std::vector<std::string>{"B/z", "alice/a"});
  CHECK(keys_of(db->load_page("", trigger_ref{"alice", "a"}, 3))
        == std::vector<std::string>{"alice/b", "alice/d", "alice-x/a"});
  // A cursor need not name a registration that exists.
  CHECK(keys_of(db->load_page("", trigger_ref{"alice", "c"}, 100))
        == std::vector<std::string>{"alice/d", "alice-x/a", "bob/c"});
  CHECK(keys_of(db->load_page("alice", std::nullopt, 100))
        == std::vector<std::string>{"alice/a", "alice/b", "alice/d"});
  CHECK(keys_of(db->load_page("alice", trigger_ref{"alice", "b"}, 100)) == std::vector<std::string>{"alice/d"});
  CHECK(db->load_page("nobody", std::nullopt, 100).empty());
  CHECK(db->load_page("", std::nullopt, 0).empty());
  auto page = db->load_page("alice", std::nullopt, 100);
  REQUIRE(page.size() == 3);
  check_same(page[1], make_full_record("alice", "b"));
  CHECK(page[1].pending.empty());
}

TEMPLATE_TEST_CASE("an operator's pages of namespaces count each one's registrations whoever owns them",
                   "[store][reads]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  CHECK(db->count_namespaces("", 10).empty());
  store_some(*db);
  REQUIRE_FALSE(db->commit({put(make_record("B", "z")), put(make_record("alice-x", "a"))}));
  auto counts = [](const std::vector<namespace_count>& page) {
    std::vector<std::string> result;
    for (const auto& x : page)
      result.push_back(x.ns + "=" + std::to_string(x.registrations));
    return result;
  };
  CHECK(counts(db->count_namespaces("", 10))
        == std::vector<std::string>{"B=1", "alice=3", "alice-x=1", "bob=1"});
  CHECK(counts(db->count_namespaces("", 2)) == std::vector<std::string>{"B=1", "alice=3"});
  CHECK(counts(db->count_namespaces("alice", 10)) == std::vector<std::string>{"alice-x=1", "bob=1"});
  CHECK(counts(db->count_namespaces("alicf", 10)) == std::vector<std::string>{"bob=1"});
  CHECK(db->count_namespaces("bob", 10).empty());
}
