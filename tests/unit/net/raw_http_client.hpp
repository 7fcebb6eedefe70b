#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter::test {

/// A response as the raw client read it.
struct raw_response {
  int status = 0;
  std::string head; ///< status line and header fields, as received
  std::string body;

  /// Returns the value of header `name` (case-insensitive), or an empty string.
  std::string field(std::string_view name) const;
};

/// A client that writes raw bytes to a server on 127.0.0.1 and reads what comes back, for server tests that send
/// malformed requests or several requests over one connection. Every read has a deadline, so a test cannot hang.
class raw_http_client {
public:
  /// Connects to 127.0.0.1:`port`.
  explicit raw_http_client(std::uint16_t port);
  ~raw_http_client();

  raw_http_client(const raw_http_client&) = delete;
  raw_http_client& operator=(const raw_http_client&) = delete;

  /// Writes `bytes` as they are.
  void send(std::string_view bytes);

  /// Reads one response framed by Content-Length; returns nullopt on EOF, error or timeout.
  std::optional<raw_response> read_response(std::chrono::milliseconds timeout = std::chrono::seconds{5});

  /// Returns whether the server closes the connection within `timeout` (discarding anything it still sends).
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds{5});

  /// Closes the connection from this side.
  void close();

  struct state;

private:
  std::unique_ptr<state> state_;
};

} // namespace feedrouter::test
