#include "store/sqlite_store.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "store/key_rotation.hpp"
#include "store/secrets_key_file.hpp"
#include "store_files.hpp"
#include "store_rows.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::StartsWith;

namespace {

// Secrets as tenants hand them over, one of each kind the store keeps.
const std::string auth_key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:AuthKeyPart0123456789abcdefghijklmnopqrstuvwxyzAB";
const std::string webhook_secret = "whsec-WebhookSecretValue-0123456789";
const std::string header_token = "Bearer HeaderTokenValue-0123456789";
const std::string couch_password = "CouchPasswordValue-0123456789";
const std::string iam_key = "IamApiKeyValue-0123456789";

registration_record make_secret_record(std::string name, std::string feed, std::string params_json) {
  registration_record rec;
  rec.trigger = {"tenant", std::move(name)};
  rec.feed = std::move(feed);
  rec.params_json = std::move(params_json);
  rec.auth_key = auth_key;
  rec.created = sys_ms{std::chrono::milliseconds{1'700'000'000'000}};
  rec.status.date_changed = rec.created;
  return rec;
}

/// One registration per kind of secret: a webhook secret, a poll header, a CouchDB password, an IAM key.
std::vector<registration_record> secret_records() {
  return {
    make_secret_record("hook", "webhook", R"({"hookId":"h1","secret":")" + webhook_secret + R"("})"),
    make_secret_record("poll", "poll",
                       R"({"url":"https://api.example/items","headers":{"Authorization":")" + header_token + R"("}})"),
    make_secret_record("changes", "changes",
                       R"({"url":"https://couch.example","dbname":"orders","username":"u","password":")"
                         + couch_password + R"("})"),
    make_secret_record("iam", "changes", R"({"url":"https://cloudant.example","iamApiKey":")" + iam_key + R"("})"),
  };
}

/// The secrets of secret_records() and the forms they could leak in.
std::vector<std::string> secret_texts() {
  return {auth_key, auth_key.substr(auth_key.find(':') + 1), sha256_hex(auth_key), webhook_secret, header_token,
          couch_password, iam_key};
}

/// Checks that none of `secrets` appears in the bytes of the store file or its WAL.
void check_nothing_readable(const std::string& path, const std::vector<std::string>& secrets) {
  auto bytes = read_file(path) + read_file(path + "-wal");
  REQUIRE_FALSE(bytes.empty());
  for (const auto& secret : secrets) {
    INFO("looking for: " << secret);
    CHECK(bytes.find(secret) == std::string::npos);
  }
}

std::vector<store_op> puts(const std::vector<registration_record>& recs) {
  std::vector<store_op> ops;
  for (const auto& rec : recs)
    ops.push_back(put(rec));
  return ops;
}

registration_record find(const std::vector<registration_record>& all, const std::string& name) {
  auto i = std::find_if(all.begin(), all.end(), [&](const auto& x) { return x.trigger.name == name; });
  REQUIRE(i != all.end());
  return *i;
}

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

// -- at rest ---------------------------------------------------------------------------------

TEST_CASE("no secret is readable in the store file or its WAL, while open or after", "[store][secrets]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto recs = secret_records();
  {
    auto db = open_store(dir.spec("a.db"));
    REQUIRE(db->commit(puts(recs)) == std::nullopt);
    // Replaced and erased registrations leave nothing behind either.
    REQUIRE(db->commit({put(recs[0]), erase(recs[1].trigger)}) == std::nullopt);
    check_nothing_readable(path, secret_texts());
    auto all = db->load_all();
    CHECK(db->unreadable_secrets() == 0);
    REQUIRE(all.size() == recs.size() - 1);
    CHECK(find(all, "hook").params_json == recs[0].params_json);
    CHECK(find(all, "changes").params_json == recs[2].params_json);
    CHECK(find(all, "iam").auth_key == auth_key);
  }
  check_nothing_readable(path, secret_texts());
  // Every stored value of the secret columns is sealed.
  CHECK(query_int(path, "SELECT count(*) FROM registrations WHERE params_json LIKE 'fr1.%' AND auth_key LIKE 'fr1.%'")
        == static_cast<std::int64_t>(recs.size() - 1));
}

TEST_CASE("the store keeps a keyed hash of the authKey, never its bare SHA-256", "[store][secrets]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  std::string expected;
  {
    auto db = open_store(dir.spec("a.db"));
    REQUIRE(db->commit({put(secret_records()[0])}) == std::nullopt);
    expected = db->key()->hash_auth_key(auth_key);
    CHECK(db->load_all()[0].auth_hash == expected);
  }
  CHECK(expected != sha256_hex(auth_key));
  CHECK(query_text(path, "SELECT auth_lookup FROM registrations") == expected);
  CHECK(query_int(path, "SELECT count(*) FROM pragma_table_info('registrations') WHERE name = 'auth_hash'") == 0);
  // The same authKey in another store (another key) hashes differently: stores cannot be matched up.
  temp_dir other;
  auto db = open_store(other.spec("b.db"));
  CHECK(db->key()->hash_auth_key(auth_key) != expected);
}

TEST_CASE("a store reopened with its key file reads its secrets again", "[store][secrets]") {
  temp_dir dir;
  store_options opts;
  opts.key_file = dir.file("elsewhere.key");
  auto recs = secret_records();
  {
    auto db = open_store(dir.spec("a.db"), opts);
    REQUIRE(db->commit(puts(recs)) == std::nullopt);
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("a.db.key")));
  auto db = open_store(dir.spec("a.db"), opts);
  auto all = db->load_all();
  REQUIRE(all.size() == recs.size());
  for (const auto& rec : recs) {
    auto loaded = find(all, rec.trigger.name);
    CHECK(loaded.params_json == rec.params_json);
    CHECK(loaded.auth_key == rec.auth_key);
    CHECK(loaded.status.state == registration_state::active);
  }
}

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
    check_nothing_readable(path, secret_texts());
    auto all = db->load_all();
    REQUIRE(all.size() == 1);
    CHECK(all[0].params_json == "{\"hookId\":\"h1\",\"secret\":\"" + webhook_secret + "\"}");
    CHECK(all[0].auth_key == auth_key);
    CHECK(all[0].auth_hash == db->key()->hash_auth_key(auth_key));
    CHECK(all[0].status.fires == 4);
    CHECK(all[0].status.state == registration_state::active);
  }
  check_nothing_readable(path, secret_texts());
  CHECK(query_text(path, "PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
  CHECK(query_text(path, "SELECT value FROM meta WHERE name = 'key_check'")
        == read_key_file(path + ".key").check_value());
  CHECK(file_mode(path + ".key") == 0600u);
}

// -- rotation -------------------------------------------------------------------------------

TEST_CASE("rotate-key seals every secret under a new key and keeps the old key file", "[store][secrets]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto key_file = path + ".key";
  auto recs = secret_records();
  std::string old_id;
  {
    auto db = open_store(dir.spec("a.db"));
    old_id = db->key()->id();
    REQUIRE(db->commit(puts(recs)) == std::nullopt);
    REQUIRE(db->commit({put_event(recs[0].trigger, make_event(1))}) == std::nullopt);
  }
  auto old_sealed = query_text(path, "SELECT params_json FROM registrations WHERE name = 'hook'");
  REQUIRE_THAT(old_sealed, StartsWith("fr1." + old_id + "."));

  auto done = rotate_secrets_key(dir.spec("a.db"), {});
  CHECK(done.resealed == recs.size());
  CHECK(done.old_id == old_id);
  CHECK(done.new_id != old_id);
  CHECK(done.key_file == key_file);
  CHECK(done.retired_file == key_file + "." + old_id + ".old");
  CHECK(read_key_file(key_file).id() == done.new_id);
  CHECK(read_key_file(done.retired_file).id() == old_id);
  CHECK(file_mode(key_file) == 0600u);
  CHECK(file_mode(done.retired_file) == 0600u);
  CHECK_FALSE(std::filesystem::exists(key_file + ".new"));
  // The old ciphertexts are gone from the file, not merely replaced in the rows.
  CHECK(read_file(path).find(old_sealed.substr(old_sealed.rfind('.') + 1)) == std::string::npos);
  check_nothing_readable(path, secret_texts());

  auto db = open_store(dir.spec("a.db"));
  auto all = db->load_all();
  REQUIRE(all.size() == recs.size());
  for (const auto& rec : recs) {
    auto loaded = find(all, rec.trigger.name);
    CHECK(loaded.params_json == rec.params_json);
    CHECK(loaded.auth_key == rec.auth_key);
    CHECK(loaded.auth_hash == read_key_file(key_file).hash_auth_key(rec.auth_key));
    CHECK(loaded.auth_hash != read_key_file(done.retired_file).hash_auth_key(rec.auth_key));
  }
  CHECK(seqs_of(find(all, "hook").pending) == std::vector<std::uint64_t>{1});
}
