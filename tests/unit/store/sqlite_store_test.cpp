// What only the SQLite store does: its file, WAL and in-memory stores, and the migration of files older releases
// wrote. Everything else the stores share is in store_test.cpp.

#include "store/sqlite_store.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

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
#include <vector>

#include "core/shard.hpp"
#include "store_files.hpp"
#include "store_records.hpp"
#include "store_rows.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* memory_spec = "sqlite::memory:";

} // namespace

TEST_CASE("a new store file gets the current schema version and WAL", "[store]") {
  temp_dir dir;
  open_store(dir.spec("a.db"));
  CHECK(query_text(dir.file("a.db"), "PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
  CHECK(query_text(dir.file("a.db"), "PRAGMA journal_mode") == "wal");
}

TEST_CASE("two in-memory stores are independent", "[store]") {
  auto x = open_store(memory_spec);
  auto y = open_store(memory_spec);
  REQUIRE(x->commit({put(make_record("guest", "tick"))}) == std::nullopt);
  CHECK(x->load_all().size() == 1);
  CHECK(y->load_all().empty());
}

// -- migration ------------------------------------------------------------------------

TEST_CASE("a schema-1 store file is upgraded in place and keeps its registrations", "[store]") {
  temp_dir dir;
  auto path = dir.file("v1.db");
  // The schema as the first release wrote it, kept here verbatim rather than taken from the migration list.
  constexpr const char* v1_sql = R"sql(
    PRAGMA journal_mode = WAL;
    CREATE TABLE registrations (
      namespace          TEXT    NOT NULL CHECK (namespace <> ''),
      name               TEXT    NOT NULL CHECK (name <> ''),
      feed               TEXT    NOT NULL,
      params_json        TEXT    NOT NULL,
      auth_key           TEXT    NOT NULL,
      auth_hash          TEXT    NOT NULL,
      created_ms         INTEGER NOT NULL,
      state              TEXT    NOT NULL,
      reason_kind        TEXT    NOT NULL,
      reason_code        INTEGER NOT NULL,
      reason_message     TEXT    NOT NULL,
      date_changed_ms    INTEGER NOT NULL,
      fires              INTEGER NOT NULL CHECK (fires >= 0),
      failures           INTEGER NOT NULL CHECK (failures >= 0),
      last_fired_ms      INTEGER,
      triggers_left      INTEGER CHECK (triggers_left >= 0),
      last_occurrence_ms INTEGER,
      PRIMARY KEY (namespace, name)
    ) STRICT;
    INSERT INTO registrations VALUES ('guest', 'a', 'alarm', '{"cron":"* * * * *"}', 'uuid:key', 'abcdef',
      1700000000123, 'active', '', 0, '', 1700000000456, 3, 1, 1700000060000, NULL, NULL);
    INSERT INTO registrations VALUES ('guest', 'b', 'alarm', '{}', 'uuid:key2', '0123', 1700000000000, 'disabled',
      'AUTO', 404, 'trigger not found', 1700000000999, 0, 9, NULL, 2, -86400000);
    PRAGMA user_version = 1;
  )sql";
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  char* error = nullptr;
  auto rc = sqlite3_exec(raw, v1_sql, nullptr, nullptr, &error);
  INFO((error != nullptr ? error : ""));
  sqlite3_free(error);
  sqlite3_close(raw);
  REQUIRE(rc == SQLITE_OK);

  auto a = make_record("guest", "a");
  a.params_json = R"({"cron":"* * * * *"})";
  a.auth_key = "uuid:key";
  a.status.fires = 3;
  a.status.failures = 1;
  a.status.last_fired = sys_ms{1'700'000'060'000ms};
  auto b = make_record("guest", "b");
  b.params_json = "{}";
  b.auth_key = "uuid:key2";
  b.created = sys_ms{1'700'000'000'000ms};
  b.status.state = registration_state::disabled;
  b.status.reason = {reason_kind::automatic, 404, "trigger not found"};
  b.status.date_changed = sys_ms{1'700'000'000'999ms};
  b.status.failures = 9;
  b.status.triggers_left = 2;
  b.status.last_occurrence = sys_ms{-86'400'000ms};
  {
    auto db = open_store("sqlite:" + path);
    auto all = db->load_all();
    REQUIRE(all.size() == 2);
    check_same(all[0], a); // dead_letters 0 and checkpoint '' for the rows that predate them
    check_same(all[1], b);
    CHECK(all[0].auth_hash == db->key()->hash_auth_key(a.auth_key));
    CHECK(all[1].auth_hash == db->key()->hash_auth_key(b.auth_key));
    CHECK(all[0].pending.empty());
    CHECK(all[0].last_seq == 0);
    // The new tables and columns work on the upgraded file.
    a.status.checkpoint = "cp";
    REQUIRE(db->commit({put_status(a), put_event(a.trigger, make_event(1)), put_dead_letter(b.trigger, make_letter(4))})
            == std::nullopt);
  }
  CHECK(query_text(path, "PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
  // The rows that predate shards got theirs in the migration.
  CHECK(query_text(path, "SELECT shard FROM registrations WHERE name = 'b'") == std::to_string(shard_of(b.trigger)));
  auto db = open_store("sqlite:" + path);
  auto all = db->load_all();
  REQUIRE(all.size() == 2);
  check_same(all[0], a);
  CHECK(all[0].pending == span_of({1}));
  CHECK(all[1].last_seq == 4);
}

TEST_CASE("the SQLite store holds every lease: changes with any fencing token are committed", "[store]") {
  // One instance runs every shard; commit_fenced() is commit() (see store::commit_fenced).
  auto db = open_store(memory_spec);
  auto rec = make_record("guest", "tick");
  auto op = put(rec);
  op.fence = fencing_token{shard_of(rec.trigger) + 1, 42};
  auto result = db->commit_fenced({op, put_event(rec.trigger, make_event(1))});
  CHECK(result.error == std::nullopt);
  CHECK(result.fenced.empty());
  CHECK(find_loaded(*db, rec.trigger).pending.count == 1);
}
