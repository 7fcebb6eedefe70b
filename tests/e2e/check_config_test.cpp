#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/e2e_postgres.hpp"
#include "tests/support/process.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr int problems_found = 2;

/// What one run of check-config printed and how it ended.
struct check_run {
  int code = -1;
  std::vector<std::string> out; ///< stdout lines
  std::vector<std::string> err; ///< stderr lines
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// Returns the environment changes that remove every FEEDROUTER_* variable this test process has (a developer's
/// FEEDROUTER_BUILD_DIR, say), followed by `set`: the child sees only what the test gives it.
std::vector<std::string> only_feedrouter_variables(std::vector<std::string> set) {
  std::vector<std::string> changes;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text{*entry};
    if (text.rfind("FEEDROUTER_", 0) == 0)
      changes.emplace_back(text.substr(0, text.find('=')));
  }
  changes.insert(changes.end(), set.begin(), set.end());
  return changes;
}

check_run run_check_config(e2e_fixture& fx, std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), "check-config");
  auto opts = feedrouter_command(std::move(args), fx.next_stderr_path());
  opts.env = only_feedrouter_variables(std::move(env));
  child_process child{opts};
  check_run result;
  while (auto line = child.read_line(feedrouter_process::exit_timeout))
    result.out.push_back(*line);
  auto status = child.wait(feedrouter_process::exit_timeout);
  REQUIRE(status);
  result.code = status->code;
  result.err = split_lines(child.stderr_text());
  return result;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path};
  out << text;
  REQUIRE(out);
}

bool any_line_contains(const std::vector<std::string>& lines, std::string_view text) {
  auto contains = [&](const std::string& line) { return line.find(text) != std::string::npos; };
  return std::any_of(lines.begin(), lines.end(), contains);
}

} // namespace

TEST_CASE("check-config exits 0 for a store not made yet, and makes none, then for the sound store a start made",
          "[e2e][check-config]") {
  e2e_fixture fx;
  auto before = run_check_config(fx, {"--store", fx.store_spec()});
  INFO("stderr: " << (before.err.empty() ? std::string{} : before.err.front()));
  CHECK(before.code == 0);
  CHECK(before.err.empty());
  CHECK(any_line_contains(before.out, "does not exist yet: the service creates it on its first start"));
  CHECK_FALSE(std::filesystem::exists(fx.store_path()));
  CHECK_FALSE(std::filesystem::exists(fx.store_path() + ".key"));

  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  REQUIRE(fr->call(api_request("PUT", trigger_path({"alice", "t"}), alice_key, alarm_body(yearly, "{}"))).status
          == 201);
  fr->stop_cleanly();
  auto after = run_check_config(fx, {"--store", fx.store_spec()});
  CHECK(after.code == 0);
  CHECK(after.err.empty());
  CHECK(any_line_contains(after.out, "is sound: 1 registrations, secrets key "));
}

TEST_CASE("check-config takes a PostgreSQL database without a feedrouter store for one the first start makes, then "
          "checks the store a start made there", "[e2e][check-config][pg]") {
  e2e_fixture fx;
  auto store = postgres_store_args(fx);
  auto before = run_check_config(fx, store);
  INFO("stderr: " << (before.err.empty() ? std::string{} : before.err.front()));
  CHECK(before.code == 0);
  CHECK(before.err.empty());
  CHECK(any_line_contains(before.out, "does not exist yet: the service creates it on its first start"));

  auto start = store;
  start.push_back("--no-verify-auth");
  auto fr = fx.start_feedrouter(start);
  REQUIRE(fr->call(api_request("PUT", trigger_path({"alice", "t"}), alice_key, alarm_body(yearly, "{}"))).status
          == 201);
  fr->stop_cleanly();
  auto after = run_check_config(fx, store);
  CHECK(after.code == 0);
  CHECK(after.err.empty());
  CHECK(any_line_contains(after.out, "is sound: 1 registrations, secrets key "));
}

TEST_CASE("check-config prints one line per problem and exits 2: a misspelt variable, a bad value and a bad line of "
          "the configuration file", "[e2e][check-config]") {
  e2e_fixture fx;
  auto config = fx.file("feedrouter.conf");
  write_file(config, "# a comment\n"
                     "FEEDROUTER_LOG_LEVEL=debug\n"
                     "FEEDROUTER_LISTEN 127.0.0.1:9000\n"
                     "FEEDROUTER_RETRY_ATTEMPTS=\"1000\"\n");
  auto run = run_check_config(fx, {"--store", fx.store_spec(), "--config", config},
                              {"FEEDROUTER_SHUTDOWN_GRACE_S=5"});
  CHECK(run.code == problems_found);
  CHECK(run.out.empty());
  REQUIRE(run.err.size() == 2);
  CHECK(run.err[0] == "feedrouter: --config '" + config + "' line 3: not NAME=VALUE (systemd ignores the line)");
  CHECK_THAT(run.err[1], Catch::StartsWith("feedrouter: --retry-attempts"));

  // With the value fixed, the misspelt variable is the one problem left.
  write_file(config, "FEEDROUTER_RETRY_ATTEMPTS='5'\n");
  auto second = run_check_config(fx, {"--store", fx.store_spec(), "--config", config},
                                 {"FEEDROUTER_SHUTDOWN_GRACE_S=5"});
  CHECK(second.code == problems_found);
  CHECK(second.err == std::vector<std::string>{"feedrouter: FEEDROUTER_SHUTDOWN_GRACE_S: no setting reads this "
                                               "variable (a misspelt name is ignored by the service)"});
}

TEST_CASE("check-config applies the configuration file's settings, as the service's EnvironmentFile= does",
          "[e2e][check-config]") {
  e2e_fixture fx;
  auto config = fx.file("feedrouter.conf");
  write_file(config, "FEEDROUTER_STORE=sqlite:" + fx.store_path() + "\nFEEDROUTER_LISTEN = \"127.0.0.1:9123\"\n");
  auto run = run_check_config(fx, {"--config", config});
  INFO("stderr: " << (run.err.empty() ? std::string{} : run.err.front()));
  CHECK(run.code == 0);
  CHECK(any_line_contains(run.out, "listening on 127.0.0.1:9123"));
  CHECK(any_line_contains(run.out, "store 'sqlite:" + fx.store_path() + "' does not exist yet"));
}

TEST_CASE("check-config reports a store held by a running feedrouter as such, and still checks the rest",
          "[e2e][check-config]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  auto run = run_check_config(fx, {"--store", fx.store_spec()}, {"FEEDROUTER_RETRY_ATEMPTS=3"});
  CHECK(run.code == problems_found);
  REQUIRE(run.err.size() == 2);
  CHECK_THAT(run.err[0], Catch::StartsWith("feedrouter: FEEDROUTER_RETRY_ATEMPTS: no setting reads this variable"));
  CHECK(run.err[1] == "feedrouter: store '" + fx.store_path() + "' is locked by another process (a running "
                      "feedrouter?): stop it to check the store itself; the other settings and the secrets key file "
                      "were checked");
  // The running service is not disturbed.
  CHECK(fr->call(api_request("GET", "/ready")).status == 200);
  fr->stop_cleanly();
}

TEST_CASE("check-config reads the key file of a store it cannot open, and reports a key others may read",
          "[e2e][check-config]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  std::filesystem::permissions(fx.store_path() + ".key", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto run = run_check_config(fx, {"--store", fx.store_spec()});
  CHECK(run.code == problems_found);
  REQUIRE(run.err.size() == 2);
  CHECK_THAT(run.err[0], Catch::Contains("is locked by another process"));
  CHECK_THAT(run.err[1], Catch::Contains("may be accessed by group or others"));
  fr->stop_cleanly();
}

TEST_CASE("check-config reads the admin key file as a start does, and never shows the key", "[e2e][check-config]") {
  e2e_fixture fx;
  auto key_file = fx.file("admin.key");
  const std::string key = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7";
  write_file(key_file, key + '\n');
  std::filesystem::permissions(key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto sound = run_check_config(fx, {"--store", fx.store_spec()}, {"FEEDROUTER_ADMIN_KEY_FILE=" + key_file});
  CHECK(sound.code == 0);
  CHECK(sound.err.empty());
  std::filesystem::permissions(key_file, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  auto refused = run_check_config(fx, {"--store", fx.store_spec(), "--admin-key-file", key_file});
  CHECK(refused.code == problems_found);
  REQUIRE(refused.err.size() == 1);
  CHECK(refused.err[0] == "feedrouter: --admin-key-file: admin key file '" + key_file
                            + "': may be accessed by group or others (mode 0640); allow its owner only: chmod 600 '"
                            + key_file + "'");
  for (const auto& line : refused.out)
    CHECK(line.find(key) == std::string::npos);
}
