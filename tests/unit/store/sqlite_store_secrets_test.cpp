// What only the SQLite store does with secrets: its default key file, in-memory keys, its files' modes, and sealing
// the plaintext of files older releases wrote. What every store does is in store_secrets_test.cpp.

#include "store/sqlite_store.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "store/secrets_key_file.hpp"
#include "store_files.hpp"
#include "store_rows.hpp"
#include "store_secrets.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::StartsWith;

namespace {

/// The schema-2 file as the previous release wrote it, verbatim, with one webhook registration in plaintext.
const char* const schema_2_sql = R"sql(
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
  ALTER TABLE registrations ADD COLUMN dead_letters INTEGER NOT NULL DEFAULT 0 CHECK (dead_letters >= 0);
  ALTER TABLE registrations ADD COLUMN checkpoint TEXT NOT NULL DEFAULT '';
  CREATE TABLE pending_events (
    namespace   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    body        TEXT    NOT NULL,
    accepted_ms INTEGER NOT NULL,
    PRIMARY KEY (namespace, name, seq)
  ) STRICT;
  CREATE TABLE dead_letters (
    namespace   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    body        TEXT    NOT NULL,
    accepted_ms INTEGER NOT NULL,
    failed_ms   INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL CHECK (attempts >= 0),
    PRIMARY KEY (namespace, name, seq)
  ) STRICT;
  PRAGMA user_version = 2;
)sql";

} // namespace

// -- the key file ---------------------------------------------------------------------------

TEST_CASE("the key file is created once, private to its owner, with nothing left beside it", "[store][secrets]") {
  temp_dir dir;
  std::string id;
  {
    auto db = open_store(dir.spec("a.db"));
    id = db->key()->id();
  }
  CHECK(file_mode(dir.file("a.db.key")) == 0600u);
  CHECK(read_key_file(dir.file("a.db.key")).id() == id);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator{dir.path()})
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"a.db", "a.db.key"});
  // The next open uses it, and a new store beside an existing key file takes that key.
  CHECK(open_store(dir.spec("a.db"))->key()->id() == id);
  store_options opts;
  opts.key_file = dir.file("a.db.key");
  CHECK(open_store(dir.spec("b.db"), opts)->key()->id() == id);
}

TEST_CASE("an in-memory store without a key file gets a key of its own", "[store][secrets]") {
  auto db = open_store("sqlite::memory:");
  REQUIRE(db->commit({put(secret_records()[0])}) == std::nullopt);
  CHECK(db->load_all()[0].params_json == secret_records()[0].params_json);
  CHECK(secrets_key_file_of("sqlite::memory:", {}).empty());
}

TEST_CASE("the key file is the store's PATH.key unless one is named", "[store][secrets]") {
  CHECK(secrets_key_file_of("sqlite:/var/lib/feedrouter/feedrouter.db", {}) == "/var/lib/feedrouter/feedrouter.db.key");
  CHECK(secrets_key_file_of("sqlite:./feedrouter.db", {}) == "./feedrouter.db.key");
  store_options opts;
  opts.key_file = "/etc/feedrouter/secrets.key";
  CHECK(secrets_key_file_of("sqlite:./feedrouter.db", opts) == "/etc/feedrouter/secrets.key");
  CHECK(secrets_key_file_of("sqlite::memory:", opts) == "/etc/feedrouter/secrets.key");
  CHECK_THROWS_AS(secrets_key_file_of("postgres://db", {}), store_open_error);
}

// -- file modes -----------------------------------------------------------------------------

TEST_CASE("the store file and its WAL are private to their owner", "[store][secrets]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto umask_before = ::umask(022);
  SECTION("when the store creates them") {
    auto db = open_store(dir.spec("a.db"));
    REQUIRE(db->commit({put(secret_records()[0])}) == std::nullopt);
    CHECK(file_mode(path) == 0600u);
    REQUIRE(std::filesystem::exists(path + "-wal"));
    CHECK(file_mode(path + "-wal") == 0600u);
    CHECK(file_mode(path + ".key") == 0600u);
  }
  SECTION("when an older store left them readable by others") {
    open_store(dir.spec("a.db"));
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
                                         | std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    REQUIRE(file_mode(path) == 0644u);
    auto db = open_store(dir.spec("a.db"));
    CHECK(file_mode(path) == 0600u);
    REQUIRE(db->commit({put(secret_records()[0])}) == std::nullopt);
    CHECK(file_mode(path + "-wal") == 0600u);
  }
  // The process's umask is the caller's again.
  CHECK(::umask(umask_before) == 022);
}

// -- migration ------------------------------------------------------------------------------

TEST_CASE("a schema-2 store with plaintext secrets is sealed when opened, and the plaintext leaves the file",
          "[store][secrets]") {
  temp_dir dir;
  auto path = dir.file("v2.db");
  auto sql = std::string{schema_2_sql}
             + "INSERT INTO registrations (namespace, name, feed, params_json, auth_key, auth_hash, created_ms, "
               "state, reason_kind, reason_code, reason_message, date_changed_ms, fires, failures) VALUES "
               "('tenant', 'hook', 'webhook', '{\"hookId\":\"h1\",\"secret\":\""
             + webhook_secret + "\"}', '" + auth_key + "', '" + sha256_hex(auth_key)
             + "', 1700000000000, 'active', '', 0, '', 1700000000000, 4, 0);";
  REQUIRE(raw_exec(path, sql.c_str()) == std::nullopt);
  REQUIRE(read_file(path).find(webhook_secret) != std::string::npos);
  {
    auto db = open_store("sqlite:" + path);
    // Sealed and out of both files as soon as it is open, before any write.
    check_nothing_readable(read_file(path) + read_file(path + "-wal"), secret_texts());
    auto all = db->load_all();
    REQUIRE(all.size() == 1);
    CHECK(all[0].params_json == "{\"hookId\":\"h1\",\"secret\":\"" + webhook_secret + "\"}");
    CHECK(all[0].auth_key == auth_key);
    CHECK(all[0].auth_hash == db->key()->hash_auth_key(auth_key));
    CHECK(all[0].status.fires == 4);
    CHECK(all[0].status.state == registration_state::active);
  }
  check_nothing_readable(read_file(path) + read_file(path + "-wal"), secret_texts());
  CHECK(query_text(path, "PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
  CHECK(query_text(path, "SELECT value FROM meta WHERE name = 'key_check'")
        == read_key_file(path + ".key").check_value());
  CHECK(file_mode(path + ".key") == 0600u);
}

