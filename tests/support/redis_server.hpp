#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/resp_value.hpp"

namespace feedrouter::test {

class child_process;

/// A real Redis 7.0 server for tests (Debian's `redis-server`): listening on 127.0.0.1 and a free port, its
/// configuration, append-only file and log in a temporary directory of its own, so it never meets a system instance.
/// It is killed and its directory removed by the destructor.
///
/// The helpers block and throw std::runtime_error on any failure; they set up and inspect tests, they do not check
/// feedrouter.
class redis_test_server {
public:
  /// What the server is started with.
  struct options {
    std::string password; ///< `requirepass` of the default user; empty: none
    /// PEM certificate and key: the server also listens with TLS on a port of its own, which url() names; the test's
    /// own commands keep the plain port. Empty: no TLS.
    std::string tls_cert_file;
    std::string tls_key_file;
  };

  /// Writes the configuration and starts the server; returns once it answers PING.
  explicit redis_test_server(options opts);
  redis_test_server();

  ~redis_test_server();

  redis_test_server(const redis_test_server&) = delete;
  redis_test_server& operator=(const redis_test_server&) = delete;

  /// Starts the server (again) on the same port and directory; returns once it answers PING.
  void start();

  /// Stops the server with SHUTDOWN (the append-only file is complete); does nothing when it does not run.
  void stop();

  std::uint16_t port() const noexcept {
    return port_;
  }

  /// Returns "redis://[:password@]127.0.0.1:PORT", or "rediss://...:TLS_PORT" with TLS.
  std::string url() const;

  /// Runs one command on a new connection and returns its reply (an error reply too).
  resp_value command(const std::vector<std::string>& args) const;

  /// Runs `commands` in one exchange on a new connection and returns their replies.
  std::vector<resp_value> commands(std::vector<std::vector<std::string>> commands) const;

  /// Adds entries to `stream` in one pipelined exchange, each with the fields made by `fields(i)`; returns their IDs.
  std::vector<std::string> add(const std::string& stream, int count,
                               const std::function<std::vector<std::pair<std::string, std::string>>(int)>& fields)
    const;

private:
  options opts_;
  std::string dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0; ///< 0 without TLS
  std::unique_ptr<child_process> process_;
};

} // namespace feedrouter::test
