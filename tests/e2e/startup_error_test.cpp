#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/process.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// The exit code of every start-up error.
constexpr int start_error = 2;

/// Runs feedrouter with `args` until it exits and checks that it failed to start: exit code 2, nothing on stdout,
/// exactly one line on stderr, which is returned.
std::string expect_start_error(e2e_fixture& fx, std::vector<std::string> args) {
  child_process child{feedrouter_command(std::move(args), fx.next_stderr_path())};
  auto status = child.wait(feedrouter_process::exit_timeout);
  auto text = child.stderr_text();
  INFO("stderr: " << text);
  REQUIRE(status);
  CHECK(status->exited());
  CHECK(status->code == start_error);
  CHECK_FALSE(child.read_line(0ms));
  CHECK(child.stdout_closed());
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text.back() == '\n');
  CHECK(text.size() > 1);
  return text;
}

} // namespace

TEST_CASE("a bad flag makes feedrouter exit with code 2 and one line on stderr", "[e2e]") {
  e2e_fixture fx;
  auto store = fx.store_spec();
  const std::vector<std::vector<std::string>> bad_command_lines = {
    {"--no-such-flag"},
    {"--listen", "127.0.0.1"},
    {"--listen", "127.0.0.1:65536"},
    {"--api-host", "ftp://127.0.0.1:1"},
    {"--log-level", "loud"},
    {"--body-limit", "5"},
    {"--body-limit", "lots"},
    {"--store", "postgres://somewhere"},
  };
  for (auto args : bad_command_lines) {
    INFO("args: " << args.front() << ' ' << (args.size() > 1 ? args[1] : ""));
    // Every run names a store in the test's directory, so that none creates ./feedrouter.db.
    if (args.front() != "--store")
      args.insert(args.end(), {"--store", store});
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    // A --listen given twice: CLI11 takes the last; put the flag under test last instead.
    if (args.front() == "--listen") {
      std::rotate(args.begin(), args.begin() + 2, args.end());
    }
    expect_start_error(fx, args);
  }
}

TEST_CASE("a port already in use makes feedrouter exit with code 2 and one line on stderr", "[e2e]") {
  e2e_fixture fx;
  // The fake controller holds a port the OS gave it.
  auto taken = "127.0.0.1:" + std::to_string(fx.controller().port());
  auto text = expect_start_error(fx, {"--listen", taken, "--api-host", fx.controller().url(), "--store",
                                      fx.store_spec()});
  CHECK_THAT(text, Catch::Contains("feedrouter"));
}

TEST_CASE("a store locked by a running feedrouter makes a second one exit with code 2 naming the lock", "[e2e]") {
  e2e_fixture fx;
  auto first = fx.start_feedrouter();
  auto text = expect_start_error(fx, {"--listen", "127.0.0.1:0", "--api-host", fx.controller().url(), "--store",
                                      fx.store_spec()});
  CHECK_THAT(text, Catch::Contains("locked"));
  // The first one is not disturbed.
  CHECK(first->process().running());
  CHECK(first->call(api_request("GET", "/ready")).status == 200);
  first->stop_cleanly();
}
