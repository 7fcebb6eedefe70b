#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/url.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

class io_runtime;

/// One request for the client: where it goes, what it carries, how long it may take.
struct client_request {
  url destination;  ///< scheme, host and port pick the pool; target is the request target
  http_request message; ///< method, fields and body; the target is taken from `destination`
  std::chrono::milliseconds timeout{10'000}; ///< for the whole exchange, connect included
};

/// The outcome of one request: a response, or a transport error (then `error` is non-empty).
struct client_result {
  /// Empty on success; otherwise e.g. "connect: Connection refused", "timeout",
  /// "tls handshake: certificate verify failed (self-signed certificate)".
  std::string error;
  http_response response;

  bool ok() const noexcept {
    return error.empty();
  }
};

/// An HTTP and HTTPS client with a keep-alive connection pool per (scheme, host, port).
class http_client {
public:
  using completion = std::function<void(client_result)>;

  virtual ~http_client() = default;

  /// Sends `req` and calls `done` exactly once, on an I/O thread; `done` must not block (an actor's callback only
  /// sends a message). May be called from any thread.
  virtual void send(client_request req, completion done) = 0;
};

using http_client_ptr = std::shared_ptr<http_client>;

struct http_client_options {
  /// Connections per origin at most; further requests wait in a FIFO queue for a free connection.
  std::size_t max_connections_per_origin = 64;
  /// Idle pooled connections are closed after this long.
  std::chrono::seconds idle_timeout{30};
  /// PEM bundle of the CAs that https servers are verified against; empty means the system's default store.
  std::string ca_file{};
  /// Accepts any certificate from an https server, for self-signed development controllers. Insecure: the
  /// connection is encrypted but the server is not authenticated.
  bool insecure_skip_verify = false;
};

/// Returns a client whose sockets live on `io`, which must outlive the client. https connections speak TLS 1.2 or
/// later, send SNI for host names, and verify the server's certificate chain and its name (or IP address) unless
/// `insecure_skip_verify` is set. Throws std::runtime_error with a one-line message when `ca_file` cannot be loaded.
http_client_ptr make_http_client(io_runtime& io, http_client_options opts = {});

} // namespace feedrouter
