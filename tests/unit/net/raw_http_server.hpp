#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace feedrouter::test {

/// A scripted HTTP/1.1 server for client tests, on plain Asio so that it can misbehave on purpose and count what
/// the client does. It runs on its own thread and listens on 127.0.0.1 with an ephemeral port, over TCP or TLS.
class raw_http_server {
public:
  /// What the server does with each request.
  enum class behavior {
    answer,             ///< answers 200 with keep-alive; the body is the request target
    close_after_answer, ///< answers like `answer`, then closes without warning, like a server's idle timeout
    never_answer,       ///< reads the request and never answers
  };

  /// Speaks plain HTTP.
  explicit raw_http_server(behavior what);

  /// Speaks HTTP over TLS with the PEM certificate and key given.
  raw_http_server(behavior what, const std::string& cert_file, const std::string& key_file);
  ~raw_http_server();

  raw_http_server(const raw_http_server&) = delete;
  raw_http_server& operator=(const raw_http_server&) = delete;

  std::uint16_t port() const noexcept;

  /// Returns "http://127.0.0.1:PORT" (https over TLS) followed by `target`.
  std::string url(const std::string& target = "/") const;

  /// Returns how many connections were accepted so far.
  std::size_t connections() const;

  /// Returns the targets of the requests read so far, in the order they were read.
  std::vector<std::string> targets() const;

  /// Returns the server name (SNI) each completed TLS handshake asked for, in order; "" when a client sent none.
  std::vector<std::string> server_names() const;

  /// Blocks until `n` requests were read or `timeout` passed; returns whether they were.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace feedrouter::test
