// `feedrouter migrate`: a SQLite store copied into PostgreSQL (and back), whole, once, with the same key file.

#include "store/store_migration.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "store/secrets_key_file.hpp"
#include "store_backends.hpp"
#include "store_records.hpp"
#include "store_rows.hpp"
#include "store_secrets.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// Fills `db` with the secret records, one with a checkpoint, events and dead letters; returns what it stored.
std::vector<registration_record> fill(store& db) {
  auto recs = secret_records();
  recs[1].status.checkpoint = R"({"etag":"W/\"7\"","seen":["a","b"]})";
  recs[2].status = make_full_record("tenant", "changes").status;
  recs[2].status.checkpoint = R"({"since":"42-g1AAAA"})";
  recs[0].status.dead_letters = 2;
  REQUIRE(db.commit(puts(recs)) == std::nullopt);
  REQUIRE(db.commit({put_event(recs[0].trigger, make_event(4)), put_event(recs[0].trigger, make_event(9)),
                     put_dead_letter(recs[0].trigger, make_letter(2)), put_dead_letter(recs[0].trigger, make_letter(3)),
                     put_dead_letter(recs[3].trigger, make_letter(11)), put_delivery(recs[0].trigger, 4, "d-4"),
                     put_delivery(recs[0].trigger, 9, "d-9")})
          == std::nullopt);
  return db.load_all();
}

/// Checks that `to` holds what `from` holds: registrations, pending events, last_seq and dead letters.
void check_same_stores(store& from, store& to) {
  auto expected = from.load_all();
  auto copied = to.load_all();
  REQUIRE(copied.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(expected[i].trigger.key());
    check_same(copied[i], expected[i]);
    CHECK(copied[i].auth_hash == expected[i].auth_hash);
    CHECK(copied[i].pending == expected[i].pending);
    auto events = pending_of(to, expected[i].trigger);
    auto expected_events = pending_of(from, expected[i].trigger);
    REQUIRE(events.size() == expected_events.size());
    for (std::size_t j = 0; j < events.size(); ++j)
      check_same(events[j], expected_events[j]);
    CHECK(copied[i].last_seq == expected[i].last_seq);
    CHECK(deliveries_of(copied[i]) == deliveries_of(expected[i]));
    auto letters = to.load_dead_letters(expected[i].trigger, std::numeric_limits<std::size_t>::max());
    auto expected_letters = from.load_dead_letters(expected[i].trigger, std::numeric_limits<std::size_t>::max());
    REQUIRE(letters.size() == expected_letters.size());
    for (std::size_t j = 0; j < letters.size(); ++j)
      check_same(letters[j], expected_letters[j]);
  }
}

/// The options `migrate` runs with: the PostgreSQL store's password file; the key file is the SQLite store's.
store_options migrate_options(const postgres_backend& postgres) {
  store_options opts;
  opts.password_file = postgres.options().password_file;
  return opts;
}

/// Opens the PostgreSQL store with the SQLite store's key file, as the service does after the migration.
store_admin_ptr open_migrated(const postgres_backend& postgres, const sqlite_backend& sqlite) {
  store_options opts;
  opts.key_file = sqlite.key_file();
  return postgres.open(opts);
}

} // namespace

TEST_CASE("migrate copies every registration with its events, dead letters and checkpoint into PostgreSQL",
          "[store][migrate]") {
  sqlite_backend sqlite;
  postgres_backend postgres;
  auto source = sqlite.open();
  auto stored = fill(*source);
  source.reset();

  auto done = migrate_store(sqlite.spec(), postgres.spec(), migrate_options(postgres));
  CHECK(done.registrations == stored.size());
  CHECK(done.pending_events == 2);
  CHECK(done.dead_letters == 3);
  CHECK(done.checkpoints == 2);
  // The secrets are sealed for their new rows under the same key; nothing readable arrives.
  CHECK_FALSE(std::filesystem::exists(postgres.key_file()));
  check_nothing_readable(postgres.stored_bytes(), secret_texts());
  auto target = open_migrated(postgres, sqlite);
  CHECK(target->key()->id() == read_key_file(sqlite.key_file()).id());
  CHECK(target->unreadable_secrets() == 0);
  check_same_stores(*sqlite.open(), *target);
}

TEST_CASE("migrate run again changes nothing, a registration already in the target is replaced whole",
          "[store][migrate]") {
  sqlite_backend sqlite;
  postgres_backend postgres;
  auto stored = fill(*sqlite.open());
  REQUIRE(migrate_store(sqlite.spec(), postgres.spec(), migrate_options(postgres)).registrations == stored.size());
  {
    // The target moved on meanwhile: another version of a migrated registration, with events of its own, and one
    // registration the source does not have.
    auto target = open_migrated(postgres, sqlite);
    auto changed = make_full_record("tenant", "hook");
    REQUIRE(target->commit({put(changed), put_event(changed.trigger, make_event(77)),
                            put_dead_letter(changed.trigger, make_letter(78)), put(make_record("other", "kept"))})
            == std::nullopt);
  }
  auto again = migrate_store(sqlite.spec(), postgres.spec(), migrate_options(postgres));
  CHECK(again.registrations == stored.size());
  auto target = open_migrated(postgres, sqlite);
  auto all = target->load_all();
  REQUIRE(all.size() == stored.size() + 1);
  CHECK(all.front().trigger == trigger_ref{"other", "kept"});
  target->commit({erase({"other", "kept"})});
  check_same_stores(*sqlite.open(), *target);
}

TEST_CASE("migrate refuses a target sealed with another key, and copies nothing", "[store][migrate]") {
  sqlite_backend sqlite;
  postgres_backend postgres;
  fill(*sqlite.open());
  std::string target_id;
  {
    auto target = postgres.open(); // sealed with its own key file
    target_id = target->key()->id();
    REQUIRE(target->commit({put(make_record("other", "kept"))}) == std::nullopt);
  }
  auto before = postgres.snapshot();
  auto source_id = read_key_file(sqlite.key_file()).id();
  CHECK_THROWS_MATCHES(migrate_store(sqlite.spec(), postgres.spec(), migrate_options(postgres)), store_open_error,
                       Catch::Matchers::Message("secrets key file '" + sqlite.key_file() + "' holds key " + source_id
                                                + ", but store '" + postgres.name() + "' is sealed with key "
                                                + target_id + ": start with the key file the store was sealed with"));
  check_unchanged(before, postgres.snapshot());
}

TEST_CASE("migrate refuses a source whose secrets do not open, and creates no target", "[store][migrate]") {
  sqlite_backend sqlite;
  postgres_backend postgres;
  fill(*sqlite.open());
  sqlite.exec("UPDATE registrations SET auth_key = params_json WHERE name = 'poll'");
  CHECK_THROWS_WITH(migrate_store(sqlite.spec(), postgres.spec(), migrate_options(postgres)),
                    StartsWith("migrate: the secrets of 1 registrations of store '" + sqlite.spec()
                               + "' do not open with key ")
                      && Contains("delete them there first, or restore the store"));
  CHECK(postgres.query_value("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == "0");
}

TEST_CASE("migrate refuses a source that does not exist, and makes none", "[store][migrate]") {
  sqlite_backend sqlite;
  postgres_backend postgres;
  CHECK_THROWS_WITH(migrate_store(sqlite.spec(), postgres.spec(), migrate_options(postgres)),
                    StartsWith("cannot open store '" + sqlite.name() + "'"));
  CHECK_FALSE(std::filesystem::exists(sqlite.name()));
  CHECK_THROWS_WITH(migrate_store(sqlite.spec(), sqlite.spec(), {}),
                    Catch::Matchers::Equals("migrate: --from and --to name the same store '" + sqlite.spec() + "'"));
}

TEST_CASE("a PostgreSQL store migrates back into a SQLite file", "[store][migrate]") {
  sqlite_backend sqlite;
  postgres_backend postgres;
  fill(*postgres.open());
  store_options opts = postgres.options();
  auto done = migrate_store(postgres.spec(), sqlite.spec(), opts);
  CHECK(done.registrations == 4);
  store_options with_key;
  with_key.key_file = postgres.key_file();
  check_same_stores(*postgres.open(), *sqlite.open(with_key));
}
