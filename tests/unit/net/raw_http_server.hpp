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
    hold,               ///< reads the request; the test writes the response, raw, with write()
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

  /// Returns the requests read so far as received (head and body), in the order they were read.
  std::vector<std::string> requests() const;

  /// Queues `bytes` for the connection that carried the `index`-th request read (behavior::hold), behind the bytes
  /// queued before; returns at once. Call it only after that request was read (wait_for_requests).
  void write(std::size_t index, std::string bytes);

  /// Returns how many bytes queued by write() for the `index`-th request's connection went into its socket.
  std::size_t bytes_written(std::size_t index) const;

  /// Blocks until every byte queued by write() for the `index`-th request's connection went into its socket, or
  /// `timeout` passed; returns whether they did. A client that stops reading keeps this from happening.
  bool wait_for_flushed(std::size_t index, std::chrono::milliseconds timeout) const;

  /// Blocks until the client closed the `index`-th request's connection (behavior::hold), or `timeout` passed;
  /// returns whether it did.
  bool wait_for_close(std::size_t index, std::chrono::milliseconds timeout) const;

  /// Returns the server name (SNI) each completed TLS handshake asked for, in order; "" when a client sent none.
  std::vector<std::string> server_names() const;

  /// Blocks until `n` requests were read or `timeout` passed; returns whether they were.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace feedrouter::test
