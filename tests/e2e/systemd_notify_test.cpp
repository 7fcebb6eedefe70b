#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <catch2/catch.hpp>

#include "net/io_runtime.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/blocking_client.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/process.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a notification may take to come; reached only when something is broken.
constexpr auto notify_timeout = 10s;

/// The watchdog interval the test asks for: short, so that pings come quickly.
constexpr std::chrono::microseconds watchdog_interval{300'000};

/// Stands in for systemd's $NOTIFY_SOCKET: a datagram socket in a test directory that receives sd_notify messages.
class notify_socket {
public:
  explicit notify_socket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
      throw std::system_error(errno, std::generic_category(), "bind " + path_);
  }

  ~notify_socket() {
    ::close(fd_);
  }

  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  /// Returns the next message, or nullopt when none came within `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(timeout.count())) != 1)
      return std::nullopt;
    char buffer[4096];
    auto got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0)
      return std::nullopt;
    return std::string{buffer, static_cast<std::size_t>(got)};
  }

  /// Returns the next message that starts with `state` ("READY=1", ...), skipping others; nullopt on time-out.
  std::optional<std::string> receive_state(std::string_view state, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms)
        return std::nullopt;
      auto message = receive(left);
      if (!message)
        return std::nullopt;
      if (message->rfind(state, 0) == 0)
        return message;
    }
  }

private:
  std::string path_;
  int fd_ = -1;
};

} // namespace

TEST_CASE("under a fake NOTIFY_SOCKET the service says READY=1 once /ready answers 200, feeds the watchdog, and says "
          "STOPPING=1 on SIGTERM", "[e2e][systemd]") {
  e2e_fixture fx;
  notify_socket socket{fx.file("notify.sock")};
  auto opts = feedrouter_command({"--listen", "127.0.0.1:0", "--api-host", fx.controller().url(), "--store",
                                  fx.store_spec()},
                                 fx.next_stderr_path());
  opts.env = {"NOTIFY_SOCKET=" + socket.path(), "WATCHDOG_USEC=" + std::to_string(watchdog_interval.count())};
  child_process child{opts};
  auto line = child.read_line(feedrouter_process::startup_timeout);
  INFO("stderr: " << child.stderr_text());
  REQUIRE(line);
  auto base = line->substr(line->find("http://"));
  io_runtime io{1};
  blocking_client client{io};

  auto ready = socket.receive_state("READY=1", notify_timeout);
  REQUIRE(ready);
  // Sent only once /ready says 200: asked right after the message, it must.
  auto answer = client.exchange(base, api_request("GET", "/ready"));
  REQUIRE(answer.ok());
  CHECK(answer.response.status == 200);
  CHECK_THAT(*ready, Catch::Contains("STATUS=ready: 0 registrations"));

  // The registry answers its pings, so the watchdog is fed, again and again.
  for (int i = 0; i < 3; ++i)
    CHECK(socket.receive_state("WATCHDOG=1", notify_timeout));

  child.send_signal(SIGTERM);
  auto stopping = socket.receive_state("STOPPING=1", notify_timeout);
  CHECK(stopping);
  auto status = child.wait(feedrouter_process::exit_timeout);
  REQUIRE(status);
  CHECK(status->code == 0);
}
