#include <signal.h>

#include <cerrno>
#include <chrono>
#include <system_error>

#include <catch2/catch.hpp>

#include "tests/e2e/temp_dir.hpp"
#include "tests/support/process.hpp"

using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// Bound on every wait here; reached only when something is broken.
constexpr auto deadline = 10s;

/// How long a read waits for a line that never comes.
constexpr auto no_line_wait = 50ms;

process_options shell(const temp_dir& dir, const char* script) {
  return {"/bin/sh", {"-c", script}, dir.file("stderr.log")};
}

} // namespace

TEST_CASE("a child's stdout lines are read and its exit code and stderr are kept", "[process]") {
  temp_dir dir;
  child_process child{shell(dir, "echo first; echo second; echo oops >&2; exit 3")};
  CHECK(child.read_line(deadline) == "first");
  CHECK(child.read_line(deadline) == "second");
  CHECK_FALSE(child.read_line(deadline));
  CHECK(child.stdout_closed());
  auto status = child.wait(deadline);
  REQUIRE(status);
  CHECK(status->exited());
  CHECK(status->code == 3);
  CHECK(child.stderr_text() == "oops\n");
  CHECK_FALSE(child.running());
}

TEST_CASE("reading a line times out while the child writes none and a signal ends it", "[process]") {
  temp_dir dir;
  child_process child{shell(dir, "exec sleep 30")};
  CHECK_FALSE(child.read_line(no_line_wait));
  CHECK_FALSE(child.stdout_closed());
  CHECK_FALSE(child.wait(no_line_wait));
  CHECK(child.running());
  child.send_signal(SIGTERM);
  auto status = child.wait(deadline);
  REQUIRE(status);
  CHECK_FALSE(status->exited());
  CHECK(status->signal == SIGTERM);
  // Once reaped, signals go nowhere rather than to a recycled pid.
  CHECK_NOTHROW(child.send_signal(SIGTERM));
}

TEST_CASE("a program that cannot be executed is reported as an exception", "[process]") {
  temp_dir dir;
  CHECK_THROWS_AS(child_process(process_options{dir.file("no-such-program"), {}, dir.file("stderr.log")}),
                  std::system_error);
}

TEST_CASE("a child that still runs is killed and reaped with its handle", "[process]") {
  temp_dir dir;
  pid_t pid = 0;
  {
    child_process child{shell(dir, "exec sleep 30")};
    pid = child.pid();
    REQUIRE(child.running());
  }
  // Reaped: the pid names no process (not even a zombie) of ours any more.
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}
