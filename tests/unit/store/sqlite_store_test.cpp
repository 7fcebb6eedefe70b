#include "store/sqlite_store.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

constexpr const char* memory_spec = "sqlite::memory:";

/// A fresh directory under /tmp, removed with its contents when the test ends.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = "/tmp/feedrouter-store-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string file(const std::string& name) const {
    return path_ + '/' + name;
  }

  std::string spec(const std::string& name) const {
    return "sqlite:" + file(name);
  }

private:
  std::string path_;
};

/// Returns the single value `sql` yields, read with a plain SQLite connection (the store must be closed).
std::string query_text(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  std::string result;
  sqlite3_stmt* stmt = nullptr;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

registration_record make_record(std::string ns, std::string name) {
  registration_record rec;
  rec.trigger = {std::move(ns), std::move(name)};
  rec.feed = "alarm";
  rec.params_json = R"({"cron":"*/5 * * * *","trigger_payload":{"text":"grüße, 'quoted' \"and\" \\ back"}})";
  rec.auth_key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
  rec.auth_hash = "5c0e7a1f9f0b1c4e2d3a4b5c6d7e8f9000112233445566778899aabbccddeeff";
  rec.created = sys_ms{1'700'000'000'123ms};
  rec.status.date_changed = sys_ms{1'700'000'000'456ms};
  return rec;
}

/// A record whose every optional field is set and every value differs from the defaults.
registration_record make_full_record(std::string ns, std::string name) {
  auto rec = make_record(std::move(ns), std::move(name));
  auto& st = rec.status;
  st.state = registration_state::disabled;
  st.reason = {reason_kind::automatic, 410, "trigger no longer exists"};
  st.fires = 9'000'000'000; // beyond 32 bits
  st.failures = 7;
  st.last_fired = sys_ms{1'700'000'100'000ms};
  st.triggers_left = 0;
  st.last_occurrence = sys_ms{-86'400'000ms}; // before the epoch
  return rec;
}

store_op put(registration_record rec) {
  return {store_op::kind::put_registration, std::move(rec)};
}

store_op put_status(registration_record rec) {
  return {store_op::kind::put_status, std::move(rec)};
}

store_op erase(trigger_ref trigger) {
  store_op op{store_op::kind::erase, {}};
  op.record.trigger = std::move(trigger);
  return op;
}

void check_same(const registration_record& x, const registration_record& y) {
  CHECK(x.trigger.ns == y.trigger.ns);
  CHECK(x.trigger.name == y.trigger.name);
  CHECK(x.feed == y.feed);
  CHECK(x.params_json == y.params_json);
  CHECK(x.auth_key == y.auth_key);
  CHECK(x.auth_hash == y.auth_hash);
  CHECK(x.created == y.created);
  CHECK(x.status.state == y.status.state);
  CHECK(x.status.reason.kind == y.status.reason.kind);
  CHECK(x.status.reason.status_code == y.status.reason.status_code);
  CHECK(x.status.reason.message == y.status.reason.message);
  CHECK(x.status.date_changed == y.status.date_changed);
  CHECK(x.status.fires == y.status.fires);
  CHECK(x.status.failures == y.status.failures);
  CHECK(x.status.last_fired == y.status.last_fired);
  CHECK(x.status.triggers_left == y.status.triggers_left);
  CHECK(x.status.last_occurrence == y.status.last_occurrence);
}

} // namespace

TEST_CASE("a new store holds no registrations", "[store]") {
  auto db = open_store(memory_spec);
  CHECK(db->load_all().empty());
}

TEST_CASE("a new store file gets the current schema version and WAL", "[store]") {
  temp_dir dir;
  open_store(dir.spec("a.db"));
  CHECK(query_text(dir.file("a.db"), "PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
  CHECK(query_text(dir.file("a.db"), "PRAGMA journal_mode") == "wal");
}

TEST_CASE("a registration round-trips every field with optional values absent", "[store]") {
  auto db = open_store(memory_spec);
  auto rec = make_record("guest", "every-minute");
  REQUIRE_FALSE(rec.status.last_fired);
  REQUIRE_FALSE(rec.status.triggers_left);
  REQUIRE_FALSE(rec.status.last_occurrence);
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], rec);
}

TEST_CASE("a registration round-trips every field with optional values present", "[store]") {
  auto db = open_store(memory_spec);
  auto rec = make_full_record("guest", "every-minute");
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], rec);
}

TEST_CASE("every state and reason kind round-trips", "[store]") {
  auto db = open_store(memory_spec);
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

TEST_CASE("triggers with the same name in different namespaces are separate registrations", "[store]") {
  auto db = open_store(memory_spec);
  auto a = make_record("alice", "tick");
  auto b = make_full_record("bob", "tick");
  REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 2);
  check_same(all[0], a); // load_all orders by namespace, then name
  check_same(all[1], b);
}

TEST_CASE("put_registration replaces the whole stored record", "[store]") {
  auto db = open_store(memory_spec);
  REQUIRE(db->commit({put(make_full_record("guest", "tick"))}) == std::nullopt);
  auto replacement = make_record("guest", "tick");
  replacement.feed = "changes";
  replacement.params_json = "{}";
  replacement.auth_key = "other:key";
  replacement.auth_hash = "00";
  replacement.created = sys_ms{42ms};
  REQUIRE(db->commit({put(replacement)}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], replacement);
}

TEST_CASE("put_status changes only the status of a stored registration", "[store]") {
  auto db = open_store(memory_spec);
  auto rec = make_record("guest", "tick");
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  auto update = make_full_record("guest", "tick");
  update.feed = "ignored";
  update.params_json = "ignored";
  update.auth_key = "ignored";
  update.auth_hash = "ignored";
  update.created = sys_ms{1ms};
  REQUIRE(db->commit({put_status(update)}) == std::nullopt);
  auto expected = rec;
  expected.status = update.status;
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], expected);
  SECTION("and clears optional values that became absent") {
    REQUIRE(db->commit({put_status(rec)}) == std::nullopt);
    all = db->load_all();
    REQUIRE(all.size() == 1);
    check_same(all[0], rec);
  }
}

TEST_CASE("put_status on a missing registration is a no-op", "[store]") {
  auto db = open_store(memory_spec);
  auto other = make_record("guest", "other");
  REQUIRE(db->commit({put(other)}) == std::nullopt);
  CHECK(db->commit({put_status(make_full_record("guest", "gone"))}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], other);
}

TEST_CASE("erase removes only the named registration", "[store]") {
  auto db = open_store(memory_spec);
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

TEST_CASE("the operations of one batch apply in order", "[store]") {
  auto db = open_store(memory_spec);
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

TEST_CASE("an empty batch succeeds and changes nothing", "[store]") {
  auto db = open_store(memory_spec);
  auto rec = make_record("guest", "tick");
  REQUIRE(db->commit({put(rec)}) == std::nullopt);
  CHECK(db->commit({}) == std::nullopt);
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], rec);
}

TEST_CASE("registrations survive closing and reopening the store", "[store]") {
  temp_dir dir;
  auto a = make_record("guest", "a");
  auto b = make_full_record("guest", "b");
  {
    auto db = open_store(dir.spec("a.db"));
    REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
    REQUIRE(db->commit({put_status(a)}) == std::nullopt);
  }
  {
    auto db = open_store(dir.spec("a.db"));
    auto all = db->load_all();
    REQUIRE(all.size() == 2);
    check_same(all[0], a);
    check_same(all[1], b);
    REQUIRE(db->commit({erase(a.trigger)}) == std::nullopt);
  }
  auto db = open_store(dir.spec("a.db"));
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  check_same(all[0], b);
}

TEST_CASE("two in-memory stores are independent", "[store]") {
  auto x = open_store(memory_spec);
  auto y = open_store(memory_spec);
  REQUIRE(x->commit({put(make_record("guest", "tick"))}) == std::nullopt);
  CHECK(x->load_all().size() == 1);
  CHECK(y->load_all().empty());
}
