// The libpq layer of the PostgreSQL store: bound parameters, errors as values, pipelines and their failures.

#include "store/pg/connection.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "store_backends.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::Contains;

namespace {

/// Connects to the backend's database as the store does.
pg::connection connect(const postgres_backend& backend) {
  auto opened = pg::connection::open({{"dbname", backend.spec()}, {"password", postgres_backend::server().password()}},
                                     {postgres_backend::server().password()});
  if (auto* err = std::get_if<pg::error>(&opened))
    FAIL("cannot connect: " << err->message);
  return std::move(std::get<pg::connection>(opened));
}

constexpr pg::statement insert_stmt{"insert_n", "INSERT INTO t (n, s) VALUES ($1, $2)"};
constexpr pg::statement commit_stmt{nullptr, "COMMIT"};

} // namespace

TEST_CASE("one_line makes one line of a message and masks every secret in it", "[pg]") {
  CHECK(pg::one_line("connection failed:\n\tIs the server running?\n", {}) == "connection failed: Is the server "
                                                                              "running?");
  CHECK(pg::one_line("user u, password hunter2, again hunter2", {"hunter2", ""}) == "user u, password ***, again ***");
}

TEST_CASE("parameters reach the server as values, never as SQL", "[pg]") {
  postgres_backend backend;
  auto conn = connect(backend);
  REQUIRE(conn.exec("CREATE TABLE t (n bigint, s text)"));
  const std::string hostile = "x'); DROP TABLE t; --";
  pg::params args;
  args.integer(1).text(hostile);
  REQUIRE(conn.exec("INSERT INTO t (n, s) VALUES ($1, $2)", args));
  pg::params none;
  none.null().null();
  REQUIRE(conn.exec("INSERT INTO t (n, s) VALUES ($1, $2)", none));
  auto rows = conn.exec("SELECT n, s FROM t ORDER BY n NULLS LAST");
  REQUIRE(rows);
  REQUIRE(rows->rows() == 2);
  CHECK(rows->integer(0, 0) == 1);
  CHECK(rows->text(0, 1) == hostile);
  CHECK(rows->is_null(1, 0));
  CHECK(rows->opt_integer(1, 0) == std::nullopt);
}

TEST_CASE("a failed statement is a value with the server's message and SQLSTATE", "[pg]") {
  postgres_backend backend;
  auto conn = connect(backend);
  auto answer = conn.exec("SELECT * FROM no_such_table");
  REQUIRE_FALSE(answer);
  CHECK(answer.error().sqlstate == "42P01");
  CHECK_THAT(answer.error().message, Contains("no_such_table"));
  CHECK_FALSE(answer.error().connection_lost());
  CHECK(conn.exec("SELECT 1")); // the session goes on
}

TEST_CASE("a pipeline runs its calls in order, beyond one pipeline's size, in the caller's transaction", "[pg]") {
  postgres_backend backend;
  auto conn = connect(backend);
  REQUIRE(conn.exec("CREATE TABLE t (n bigint PRIMARY KEY, s text)"));
  REQUIRE_FALSE(conn.prepare_on_connect({insert_stmt}));
  constexpr int count = 2500; // more than one pipeline holds
  std::vector<pg::call> calls;
  for (int i = 0; i < count; ++i) {
    pg::params args;
    args.integer(i).text("row " + std::to_string(i));
    calls.push_back({&insert_stmt, std::move(args)});
  }
  calls.push_back({&commit_stmt, {}});
  REQUIRE(conn.exec("BEGIN"));
  CHECK_FALSE(conn.run_pipelined(calls));
  CHECK_FALSE(conn.in_transaction());
  auto rows = conn.exec("SELECT count(*), min(n), max(n) FROM t");
  REQUIRE(rows);
  CHECK(rows->text(0, 0) == std::to_string(count));
  CHECK(rows->text(0, 2) == std::to_string(count - 1));
}

TEST_CASE("a pipeline reports the first call that failed, the calls after it do not run", "[pg]") {
  postgres_backend backend;
  auto conn = connect(backend);
  REQUIRE(conn.exec("CREATE TABLE t (n bigint PRIMARY KEY, s text)"));
  REQUIRE_FALSE(conn.prepare_on_connect({insert_stmt}));
  auto failing_at = GENERATE(1, 1000, 1700); // in the first pipeline, at the start of the second, inside it
  std::vector<pg::call> calls;
  for (int i = 0; i < 2000; ++i) {
    pg::params args;
    args.integer(i == failing_at ? 0 : i).text("row"); // a duplicate key
    calls.push_back({&insert_stmt, std::move(args)});
  }
  calls.push_back({&commit_stmt, {}});
  REQUIRE(conn.exec("BEGIN"));
  auto failed = conn.run_pipelined(calls);
  REQUIRE(failed);
  CHECK(failed->index == static_cast<std::size_t>(failing_at));
  CHECK(failed->error.sqlstate == "23505");
  CHECK(conn.in_transaction());
  REQUIRE(conn.exec("ROLLBACK"));
  auto rows = conn.exec("SELECT count(*) FROM t");
  REQUIRE(rows);
  CHECK(rows->text(0, 0) == "0");
}

TEST_CASE("prepared statements come back after the session was opened again", "[pg]") {
  postgres_backend backend;
  auto conn = connect(backend);
  REQUIRE(conn.exec("CREATE TABLE t (n bigint PRIMARY KEY, s text)"));
  REQUIRE_FALSE(conn.prepare_on_connect({insert_stmt}));
  backend.exec("SELECT pg_terminate_backend(" + std::to_string(conn.server_pid()) + ")");
  auto lost = conn.exec("SELECT 1");
  REQUIRE_FALSE(lost);
  CHECK(lost.error().connection_lost());
  CHECK_FALSE(conn.ensure_open());
  pg::params args;
  args.integer(1).text("again");
  CHECK(conn.exec(insert_stmt, args));
}
