// The stores' schemas agree: the same migration steps, numbered alike, leading to the same tables and columns. The
// SQL of each step is in each store's dialect; only PostgreSQL has the tables of a cluster.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"
#include "store_backends.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// The tables both stores keep.
const std::vector<std::string> shared_tables{"registrations", "pending_events", "dead_letters", "meta",
                                             "webhook_deliveries"};

/// The tables only the PostgreSQL store keeps: its schema version (SQLite's is PRAGMA user_version) and the cluster's
/// leases and instances (SQLite runs one instance).
const std::vector<std::string> postgres_tables{"instances", "schema_version", "shard_lease"};

} // namespace

TEST_CASE("both stores migrate in the same number of steps", "[store][schema]") {
  STATIC_REQUIRE(sqlite_store::schema_version == postgres_store::schema_version);
  sqlite_backend sqlite;
  postgres_backend postgres;
  sqlite.open();
  postgres.open();
  CHECK(sqlite.query_value("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
  CHECK(postgres.query_value("SELECT version FROM schema_version") == std::to_string(postgres_store::schema_version));
}

TEST_CASE("both stores have the same tables with the same logical columns", "[store][schema]") {
  sqlite_backend sqlite;
  postgres_backend postgres;
  sqlite.open();
  postgres.open();
  auto sqlite_names = query_texts(sqlite.name(), "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  CHECK(sqlite_names
        == std::vector<std::string>{"dead_letters", "meta", "pending_events", "registrations", "webhook_deliveries"});
  std::vector<std::string> postgres_names;
  for (const auto& row : postgres_backend::server().query(
         postgres.database(), "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                              "ORDER BY table_name"))
    postgres_names.push_back(row[0]);
  CHECK(postgres_names
        == std::vector<std::string>{"dead_letters", "instances", "meta", "pending_events", "registrations",
                                    "schema_version", "shard_lease", "webhook_deliveries"});
  for (const auto& table : shared_tables) {
    INFO("table " << table);
    auto columns = sqlite.columns(table);
    CHECK_FALSE(columns.empty());
    CHECK(columns == postgres.columns(table));
  }
  for (const auto& table : postgres_tables)
    CHECK_FALSE(postgres.columns(table).empty());
}
