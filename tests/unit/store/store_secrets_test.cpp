// The conformance suite's secrets at rest: nothing readable where the store keeps its data, the keyed authKey hash,
// the key file, and rotate-key.

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "core/crypto.hpp"
#include "store/key_rotation.hpp"
#include "store/secrets_key_file.hpp"
#include "store_backends.hpp"
#include "store_secrets.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::StartsWith;

// -- at rest ---------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("no secret is readable in what the store keeps on disk, while open or after", "[store][secrets]",
                   STORE_BACKENDS) {
  TestType backend;
  auto recs = secret_records();
  {
    auto db = backend.open();
    REQUIRE(db->commit(puts(recs)) == std::nullopt);
    // Replaced and erased registrations leave nothing behind either.
    REQUIRE(db->commit({put(recs[0]), erase(recs[1].trigger)}) == std::nullopt);
    check_nothing_readable(backend.stored_bytes(), secret_texts());
    auto all = db->load_all();
    CHECK(db->unreadable_secrets() == 0);
    REQUIRE(all.size() == recs.size() - 1);
    CHECK(find(all, "hook").params_json == recs[0].params_json);
    CHECK(find(all, "changes").params_json == recs[2].params_json);
    CHECK(find(all, "iam").auth_key == auth_key);
  }
  check_nothing_readable(backend.stored_bytes(), secret_texts());
  // Every stored value of the secret columns is sealed.
  CHECK(backend.query_value("SELECT count(*) FROM registrations WHERE params_json LIKE 'fr1.%' AND auth_key LIKE "
                            "'fr1.%'")
        == std::to_string(recs.size() - 1));
}

TEMPLATE_TEST_CASE("the store keeps a keyed hash of the authKey, never its bare SHA-256", "[store][secrets]",
                   STORE_BACKENDS) {
  TestType backend;
  std::string expected;
  {
    auto db = backend.open();
    REQUIRE(db->commit({put(secret_records()[0])}) == std::nullopt);
    expected = db->key()->hash_auth_key(auth_key);
    CHECK(db->load_all()[0].auth_hash == expected);
  }
  CHECK(expected != sha256_hex(auth_key));
  CHECK(backend.query_value("SELECT auth_lookup FROM registrations") == expected);
  for (const auto& column : backend.columns("registrations"))
    CHECK(column.rfind("auth_hash ", 0) == std::string::npos);
  // The same authKey in another store (another key) hashes differently: stores cannot be matched up.
  TestType other;
  auto db = other.open();
  CHECK(db->key()->hash_auth_key(auth_key) != expected);
}

TEMPLATE_TEST_CASE("a store reopened with its key file reads its secrets again", "[store][secrets]", STORE_BACKENDS) {
  TestType backend;
  store_options opts;
  opts.key_file = backend.dir().file("elsewhere.key");
  auto recs = secret_records();
  {
    auto db = backend.open(opts);
    REQUIRE(db->commit(puts(recs)) == std::nullopt);
  }
  CHECK_FALSE(std::filesystem::exists(backend.key_file()));
  auto db = backend.open(opts);
  auto all = db->load_all();
  REQUIRE(all.size() == recs.size());
  for (const auto& rec : recs) {
    auto loaded = find(all, rec.trigger.name);
    CHECK(loaded.params_json == rec.params_json);
    CHECK(loaded.auth_key == rec.auth_key);
    CHECK(loaded.status.state == registration_state::active);
  }
}

TEMPLATE_TEST_CASE("the key file is created once, private to its owner, and the store records its key",
                   "[store][secrets]", STORE_BACKENDS) {
  TestType backend;
  std::string id;
  {
    auto db = backend.open();
    id = db->key()->id();
  }
  CHECK(file_mode(backend.key_file()) == 0600u);
  auto key = read_key_file(backend.key_file());
  CHECK(key.id() == id);
  CHECK(backend.query_value("SELECT value FROM meta WHERE name = 'key_check'") == key.check_value());
  CHECK(backend.query_value("SELECT value FROM meta WHERE name = 'key_id'") == id);
  // The next open uses it.
  CHECK(backend.open()->key()->id() == id);
}

// -- rotation -------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("rotate-key seals every secret under a new key and keeps the old key file", "[store][secrets]",
                   STORE_BACKENDS) {
  TestType backend;
  auto key_file = backend.key_file();
  auto recs = secret_records();
  std::string old_id;
  {
    auto db = backend.open();
    old_id = db->key()->id();
    REQUIRE(db->commit(puts(recs)) == std::nullopt);
    REQUIRE(db->commit({put_event(recs[0].trigger, make_event(1))}) == std::nullopt);
  }
  auto old_sealed = backend.query_value("SELECT params_json FROM registrations WHERE name = 'hook'");
  REQUIRE_THAT(old_sealed, StartsWith("fr1." + old_id + "."));

  auto done = rotate_secrets_key(backend.spec(), backend.options());
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
  if constexpr (std::is_same_v<TestType, sqlite_backend>) {
    // SQLite also rewrites the file, so that the old ciphertexts are gone from it, not merely replaced in the rows.
    // PostgreSQL keeps old row versions and WAL until vacuumed and recycled: useless without the old key file, which
    // the operator deletes once no backup needs it (docs/storage.md).
    CHECK(read_file(backend.name()).find(old_sealed.substr(old_sealed.rfind('.') + 1)) == std::string::npos);
  }
  check_nothing_readable(backend.stored_bytes(), secret_texts());

  auto db = backend.open();
  auto all = db->load_all();
  REQUIRE(all.size() == recs.size());
  for (const auto& rec : recs) {
    auto loaded = find(all, rec.trigger.name);
    CHECK(loaded.params_json == rec.params_json);
    CHECK(loaded.auth_key == rec.auth_key);
    CHECK(loaded.auth_hash == read_key_file(key_file).hash_auth_key(rec.auth_key));
    CHECK(loaded.auth_hash != read_key_file(done.retired_file).hash_auth_key(rec.auth_key));
  }
  CHECK(find(all, "hook").pending == span_of({1}));
}
