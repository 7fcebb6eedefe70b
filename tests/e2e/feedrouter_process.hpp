#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/http_client.hpp"
#include "net/http_message.hpp"
#include "tests/support/process.hpp"

namespace feedrouter::test {

class blocking_client;

/// Returns how to start the feedrouter binary under test with `args`, its stderr going to `stderr_path`.
process_options feedrouter_command(std::vector<std::string> args, std::string stderr_path);

/// A feedrouter child process started for a test, listening on a free port of 127.0.0.1 and ready. Killed with
/// SIGKILL at the latest when the object goes away.
class feedrouter_process {
public:
  /// How long start-up may take until the listening line and until /ready answers 200.
  static constexpr std::chrono::milliseconds startup_timeout{10'000};

  /// How long the process may take to exit after a signal.
  static constexpr std::chrono::milliseconds exit_timeout{10'000};

  /// Starts feedrouter with `--listen 127.0.0.1:0` and `args`, then waits for its listening line and for /ready to
  /// answer 200; fails the running test (with the stderr text) when it does not get there.
  feedrouter_process(blocking_client& client, std::vector<std::string> args, std::string stderr_path);

  /// Returns "http://127.0.0.1:PORT".
  const std::string& base_url() const noexcept {
    return base_url_;
  }

  /// Sends `req` and returns the response; fails the running test on a transport error.
  http_response call(http_request req);

  /// Sends `req` and returns the response or the transport error.
  client_result try_call(http_request req);

  /// Sends SIGTERM and waits for the exit; fails the test when the process does not end in time.
  exit_status terminate();

  /// Sends SIGTERM and checks that the process exits with code 0 and stdout closed after its one line; the test fails
  /// otherwise, showing how the process ended and its stderr.
  void stop_cleanly();

  /// Sends SIGKILL and waits for the end.
  exit_status kill();

  /// Returns the child process (signals, stdout, stderr).
  child_process& process() noexcept {
    return *process_;
  }

private:
  void await_listening();
  void await_ready();
  exit_status stop_with(int signal);

  blocking_client& client_;
  std::unique_ptr<child_process> process_;
  std::string base_url_;
};

using feedrouter_process_ptr = std::unique_ptr<feedrouter_process>;

} // namespace feedrouter::test
