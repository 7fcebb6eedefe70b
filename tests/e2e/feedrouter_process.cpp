#include "tests/e2e/feedrouter_process.hpp"

#include <signal.h>

#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/blocking_client.hpp"

namespace feedrouter::test {

namespace {

using namespace std::chrono_literals;

/// What feedrouter prints on stdout once it listens; the port follows.
constexpr std::string_view listening_prefix = "feedrouter listening on http://127.0.0.1:";

/// Pause between two asks of /ready. Readiness has no event to wait for; the registry is usually ready by the first
/// ask, so this bounds a retry, not a guess of how long start-up takes.
constexpr auto ready_retry_interval = 20ms;

} // namespace

process_options feedrouter_command(std::vector<std::string> args, std::string stderr_path) {
  return {FEEDROUTER_BIN, std::move(args), std::move(stderr_path)};
}

feedrouter_process::feedrouter_process(blocking_client& client, std::vector<std::string> args,
                                       std::string stderr_path)
  : client_(client) {
  args.insert(args.begin(), {"--listen", "127.0.0.1:0"});
  process_ = std::make_unique<child_process>(feedrouter_command(std::move(args), std::move(stderr_path)));
  await_listening();
  await_ready();
}

void feedrouter_process::await_listening() {
  auto line = process_->read_line(startup_timeout);
  INFO("feedrouter stderr:\n" << process_->stderr_text());
  REQUIRE(line);
  REQUIRE(line->rfind(listening_prefix, 0) == 0);
  auto port = line->substr(listening_prefix.size());
  REQUIRE(!port.empty());
  REQUIRE(port.find_first_not_of("0123456789") == std::string::npos);
  base_url_ = "http://127.0.0.1:" + port;
}

void feedrouter_process::await_ready() {
  auto deadline = std::chrono::steady_clock::now() + startup_timeout;
  for (;;) {
    auto result = try_call({"GET", "/ready", {}, {}});
    if (result.ok() && result.response.status == 200)
      return;
    INFO("feedrouter stderr:\n" << process_->stderr_text());
    INFO("last /ready answer: " << (result.ok() ? std::to_string(result.response.status) : result.error));
    REQUIRE(process_->running());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(ready_retry_interval);
  }
}

http_response feedrouter_process::call(http_request req) {
  auto what = req.method + ' ' + req.target;
  auto result = try_call(std::move(req));
  INFO(what << ": " << result.error);
  REQUIRE(result.ok());
  return std::move(result.response);
}

client_result feedrouter_process::try_call(http_request req) {
  return client_.exchange(base_url_, std::move(req));
}

exit_status feedrouter_process::terminate() {
  return stop_with(SIGTERM);
}

void feedrouter_process::stop_cleanly() {
  auto status = terminate();
  INFO("feedrouter stderr:\n" << process_->stderr_text());
  INFO("exit code " << status.code << ", signal " << status.signal);
  CHECK(status.exited());
  CHECK(status.code == 0);
  // The listening line was the only line on stdout.
  CHECK_FALSE(process_->read_line(std::chrono::milliseconds::zero()));
  CHECK(process_->stdout_closed());
}

exit_status feedrouter_process::kill() {
  return stop_with(SIGKILL);
}

exit_status feedrouter_process::stop_with(int signal) {
  process_->send_signal(signal);
  auto status = process_->wait(exit_timeout);
  INFO("feedrouter stderr:\n" << process_->stderr_text());
  REQUIRE(status);
  return *status;
}

} // namespace feedrouter::test
