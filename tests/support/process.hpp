#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace feedrouter::test {

/// How a child process ended.
struct exit_status {
  int code = -1;  ///< the exit code, or -1 when a signal ended the process
  int signal = 0; ///< the signal that ended the process, or 0 when it exited

  /// Returns whether the process exited by itself (rather than by a signal).
  bool exited() const noexcept {
    return signal == 0;
  }
};

/// What to start: the program, its arguments and where its stderr goes.
struct process_options {
  std::string program;           ///< path of the executable; PATH is not searched
  std::vector<std::string> args; ///< the arguments after argv[0]
  std::string stderr_path;       ///< file that receives the child's stderr; created or truncated
  /// Changes to the environment the child inherits: "NAME=VALUE" sets NAME, a bare "NAME" removes it.
  std::vector<std::string> env{};
  /// Starts the child with its stdout pipe already full, so that its first write to stdout blocks until the test
  /// calls read_line(): a way to hold a child at the point where it writes its first line, without any timing.
  bool hold_stdout = false;
};

/// A child process for end-to-end tests: its stdout is a pipe read line by line, its stderr goes to a file, and it is
/// killed with SIGKILL and reaped when the object goes away while the child still runs.
///
/// Waiting never sleeps longer than needed: stdout is polled, and the exit is polled through a pidfd (Linux 5.3+).
/// Only where pidfd_open is missing does waiting for the exit fall back to short waitpid(WNOHANG) rounds.
class child_process {
public:
  /// Starts the child; throws std::system_error when it cannot (stderr file, pipe, fork or exec failed).
  explicit child_process(const process_options& opts);

  /// Kills the child with SIGKILL if it still runs, then reaps it.
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Returns the child's process id.
  pid_t pid() const noexcept {
    return pid_;
  }

  /// Returns the next line the child wrote to stdout, without its '\n'; nullopt when no whole line came within
  /// `timeout` or stdout was closed first (see stdout_closed()).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);

  /// Returns whether the child closed its stdout (it exited, usually).
  bool stdout_closed() const noexcept {
    return stdout_closed_;
  }

  /// Sends `signal` to the child; does nothing once the child was reaped, so a recycled pid is never hit.
  void send_signal(int signal);

  /// Waits until the child ended; returns how it ended, or nullopt when it still runs after `timeout`.
  std::optional<exit_status> wait(std::chrono::milliseconds timeout);

  /// Returns whether the child still runs (reaps it when it has ended).
  bool running();

  /// Returns what the child wrote to stderr so far.
  std::string stderr_text() const;

  /// Returns the TCP ports the child listens on (IPv4), read from /proc; how a test learns the port of a child held
  /// before it could print it (process_options::hold_stdout).
  std::vector<std::uint16_t> listening_ports() const;

private:
  /// Reaps the child if it has ended; returns whether it has.
  bool try_reap();

  pid_t pid_ = -1;
  int stdout_fd_ = -1; ///< read end of the child's stdout pipe
  int pid_fd_ = -1;    ///< pidfd of the child, -1 when the kernel has none
  bool stdout_closed_ = false;
  std::string stdout_buffer_; ///< bytes read from stdout but not yet returned as a line
  std::size_t stdout_filler_ = 0; ///< bytes of the hold_stdout filler still to be read and dropped
  std::string stderr_path_;
  std::optional<exit_status> status_; ///< set once the child was reaped
};

} // namespace feedrouter::test
