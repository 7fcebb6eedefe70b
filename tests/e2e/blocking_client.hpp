#pragma once

#include <chrono>
#include <string>

#include "net/http_client.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

class io_runtime;

} // namespace feedrouter

namespace feedrouter::test {

/// Sends one request at a time and waits for its result: the tests' view of the lifecycle API.
class blocking_client {
public:
  /// How long one exchange may take; the client's own timeout, which always answers first.
  static constexpr std::chrono::milliseconds exchange_timeout{5'000};

  /// Sockets live on `io`, which must outlive this object.
  explicit blocking_client(io_runtime& io);

  /// Sends `req` to `base_url` (e.g. "http://127.0.0.1:PORT") joined with `req.target`, and returns the response or
  /// the transport error.
  client_result exchange(const std::string& base_url, http_request req);

private:
  http_client_ptr client_;
};

} // namespace feedrouter::test
