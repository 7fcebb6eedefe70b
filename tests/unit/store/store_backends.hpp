#pragma once

// The stores the conformance tests run against: each test case is a TEMPLATE_TEST_CASE over these types, and
// `TestType backend;` gives it a fresh, empty store of that kind (STORE_BACKENDS lists them).
//
// A backend opens its store (again) with open(), and reaches the stored data behind the store's back with exec(),
// query_value() and stored_bytes(); a test closes the store first where SQLite needs it (its file lock).

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"
#include "store_files.hpp"
#include "tests/support/postgres_server.hpp"

namespace feedrouter::test {

/// The SQLite store: file "a.db" in a temporary directory, its key file "a.db.key" beside it.
class sqlite_backend {
public:
  /// What the store's messages say when a row breaks a CHECK or UNIQUE constraint of the schema.
  static constexpr const char* check_violation = "CHECK constraint failed";
  static constexpr const char* unique_violation = "UNIQUE constraint failed";

  /// Returns the store's spec, as --store takes it.
  std::string spec() const {
    return dir_.spec("a.db");
  }

  /// Returns the name the store's messages give it.
  std::string name() const {
    return dir_.file("a.db");
  }

  /// Returns `opts` completed with what this backend's store needs to open (nothing: the key file defaults).
  store_options options(store_options opts = {}) const {
    return opts;
  }

  /// Returns the key file the store uses.
  std::string key_file() const {
    return dir_.file("a.db.key");
  }

  /// Opens the store, creating it the first time.
  store_admin_ptr open(store_options opts = {}) const {
    return open_store(spec(), options(std::move(opts)));
  }

  /// Runs `sql` on the stored data; the store must be closed.
  void exec(const std::string& sql) const {
    auto error = raw_exec(name(), sql.c_str());
    INFO(sql);
    REQUIRE(error == std::nullopt);
  }

  /// Returns the single value `sql` yields as text ("" for none); the store must be closed.
  std::string query_value(const std::string& sql) const {
    return query_text(name(), sql.c_str());
  }

  /// Returns the columns of `table` as "name type", type "integer" or "text", in the table's order.
  std::vector<std::string> columns(const std::string& table) const {
    auto sql = "SELECT name || ' ' || lower(type) FROM pragma_table_info('" + table + "') ORDER BY cid";
    return query_texts(name(), sql.c_str());
  }

  /// Returns every byte the store keeps on disk: the file and its WAL.
  std::string stored_bytes() const {
    return read_file(name()) + read_file(name() + "-wal");
  }

  /// Returns what a refused open must leave as it is: the file's bytes and modification time, and the names in its
  /// directory.
  file_snapshot snapshot() const {
    return take_snapshot(dir_, "a.db");
  }

  /// Returns the directory of the test's files (key files among them).
  const temp_dir& dir() const {
    return dir_;
  }

private:
  temp_dir dir_;
};

/// The PostgreSQL store: a fresh database on the test process's server (started on first use, stopped at exit),
/// reached as postgres_server::role_name with a password file; key file "secrets.key" in a temporary directory.
/// The tests' server does not sync to disk (postgres_server::options); a Durable one does, for the benchmarks.
template <bool Durable>
class basic_postgres_backend {
public:
  static constexpr const char* check_violation = "violates check constraint";
  static constexpr const char* unique_violation = "duplicate key value violates unique constraint";

  basic_postgres_backend() : db_(server().create_database()) {
    server().write_password_file(dir_.file("password"));
  }

  ~basic_postgres_backend() {
    try {
      server().drop_database(db_);
    } catch (const std::exception&) {
      // The server's directory goes when the process ends.
    }
  }

  basic_postgres_backend(const basic_postgres_backend&) = delete;
  basic_postgres_backend& operator=(const basic_postgres_backend&) = delete;

  /// Returns the server every test of this process shares.
  static postgres_server& server() {
    static postgres_server instance{postgres_server::options{Durable}};
    return instance;
  }

  std::string spec() const {
    return server().uri(db_);
  }

  std::string name() const {
    return spec();
  }

  /// Returns `opts` with the key file (unless one is named) and the password file.
  store_options options(store_options opts = {}) const {
    if (opts.key_file.empty())
      opts.key_file = key_file();
    opts.password_file = dir_.file("password");
    return opts;
  }

  std::string key_file() const {
    return dir_.file("secrets.key");
  }

  store_admin_ptr open(store_options opts = {}) const {
    return open_store(spec(), options(std::move(opts)));
  }

  /// Returns the test's database.
  const std::string& database() const {
    return db_;
  }

  void exec(const std::string& sql) const {
    INFO(sql);
    REQUIRE_NOTHROW(server().exec(db_, sql));
  }

  std::string query_value(const std::string& sql) const {
    auto rows = server().query(db_, sql);
    return rows.empty() || rows.front().empty() ? std::string{} : rows.front().front();
  }

  std::vector<std::string> columns(const std::string& table) const {
    std::vector<std::string> result;
    auto rows = server().query(db_, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                                    "table_schema = current_schema() AND table_name = '"
                                      + table + "' ORDER BY ordinal_position");
    for (const auto& row : rows)
      result.push_back(row[0] + ' ' + (row[1] == "text" ? "text" : "integer"));
    return result;
  }

  /// Returns every byte the server keeps on disk for the store, after a checkpoint wrote out what it held in memory:
  /// the files of the test's database and the cluster's WAL.
  std::string stored_bytes() const {
    exec("CHECKPOINT");
    std::string result;
    for (const auto& dir : {server().database_directory(db_), server().directory() + "/data/pg_wal"}) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator{dir}) {
        if (!entry.is_regular_file())
          continue;
        std::ifstream in{entry.path(), std::ios::binary};
        result.append(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
      }
    }
    return result;
  }

  /// Returns what a refused open must leave as it is: every row of the store's tables as text, and the names in the
  /// test's directory (key files).
  file_snapshot snapshot() const {
    file_snapshot result;
    for (const char* table : {"schema_version", "meta", "registrations", "pending_events", "dead_letters",
                              "shard_lease", "instances"})
      for (const auto& row : server().query(db_, std::string{"SELECT t::text FROM "} + table + " t ORDER BY 1"))
        result.bytes += row[0] + '\n';
    for (const auto& entry : std::filesystem::directory_iterator{dir_.path()})
      result.names.push_back(entry.path().filename().string());
    std::sort(result.names.begin(), result.names.end());
    return result;
  }

  const temp_dir& dir() const {
    return dir_;
  }

private:
  temp_dir dir_;
  std::string db_;
};

using postgres_backend = basic_postgres_backend<false>;
using durable_postgres_backend = basic_postgres_backend<true>;

} // namespace feedrouter::test

/// The backends every conformance test runs against, named as the test cases' names show them (a test file says
/// `using namespace feedrouter::test`).
#define STORE_BACKENDS sqlite_backend, postgres_backend
