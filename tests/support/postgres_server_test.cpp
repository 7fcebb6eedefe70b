#include "tests/support/postgres_server.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

namespace feedrouter::test {

namespace {

using namespace std::chrono_literals;

/// How long the watchdog may take to stop a server and remove its directory.
constexpr auto cleanup_deadline = 60s;

/// How often the test looks whether it has: the watchdog sends no signal to this process.
constexpr auto cleanup_poll_interval = 50ms;

/// Returns whether process `pid` runs (a zombie nobody reaped yet has ended).
bool running(const std::string& pid) {
  std::ifstream stat{"/proc/" + pid + "/stat"};
  std::string text{std::istreambuf_iterator<char>{stat}, std::istreambuf_iterator<char>{}};
  auto state = text.rfind(") ");
  return state != std::string::npos && text.at(state + 2) != 'Z';
}

} // namespace

TEST_CASE("the PostgreSQL test server keeps its databases across a stop and a start on the same port",
          "[postgres_server]") {
  postgres_server server;
  REQUIRE(server.running());
  auto port = server.port();
  auto db = server.create_database();
  CHECK(server.query_value(db, "SELECT current_setting('listen_addresses')") == "127.0.0.1");
  CHECK(server.query_value(db, "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" + db
                                 + "'")
        == postgres_server::role_name);
  server.exec(db, "CREATE TABLE kept (n integer); INSERT INTO kept VALUES (7)");
  server.stop();
  CHECK_FALSE(server.running());
  server.start();
  CHECK(server.port() == port);
  CHECK(server.query_value(db, "SELECT n FROM kept") == "7");
  auto second = server.create_database();
  CHECK(second != db);
}

TEST_CASE("the PostgreSQL test server's directory goes with it, also when its test process dies",
          "[postgres_server]") {
  std::string dir;
  std::string pid; // of the server's postmaster
  SECTION("destroyed") {
    {
      postgres_server server;
      dir = server.directory();
      std::ifstream pid_file{dir + "/data/postmaster.pid"};
      std::getline(pid_file, pid);
      REQUIRE(running(pid));
    }
    CHECK_FALSE(std::filesystem::exists(dir));
    CHECK_FALSE(running(pid));
  }
  SECTION("killed: the watchdog stops the server and removes the directory") {
    int report[2];
    REQUIRE(::pipe(report) == 0);
    auto child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(report[0]);
      postgres_server server;
      std::ifstream pid_file{server.directory() + "/data/postmaster.pid"};
      std::string pid;
      std::getline(pid_file, pid);
      auto text = server.directory() + "\n" + pid;
      (void) ::write(report[1], text.data(), text.size());
      ::_exit(0); // no destructor runs
    }
    ::close(report[1]);
    char buffer[256];
    ssize_t got;
    while ((got = ::read(report[0], buffer, sizeof buffer)) > 0)
      dir.append(buffer, static_cast<std::size_t>(got));
    ::close(report[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    auto line_end = dir.find('\n');
    REQUIRE(line_end != std::string::npos);
    pid = dir.substr(line_end + 1);
    dir.resize(line_end);
    REQUIRE_FALSE(pid.empty());
    auto deadline = std::chrono::steady_clock::now() + cleanup_deadline;
    while ((std::filesystem::exists(dir) || running(pid)) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(cleanup_poll_interval);
    CHECK_FALSE(std::filesystem::exists(dir));
    CHECK_FALSE(running(pid));
  }
}

} // namespace feedrouter::test
