#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_message.hpp"

namespace feedrouter {

class io_runtime;

/// Returns a text/plain response carrying `message`: how the server renders its own error answers unless the
/// application supplies a renderer.
http_response plain_text_error(int status, std::string_view message, std::string_view field);

/// An HTTP/1.1 server with keep-alive, optionally over TLS; the application answers each request through a responder,
/// from any thread.
///
/// Requests whose framing another HTTP implementation could read differently are refused before the application sees
/// them (docs/api.md, "What the server refuses"): each gets a 4xx or 501 and the connection closes after it.
class http_server {
public:
  /// Renders an error the server answers on its own: a refused request (400, 413, 417, 431, 501) or a handler that
  /// threw (500). `field` names the part of the request at fault ("body", "headers", "Host", ...). The server keeps
  /// `status` and sets the framing fields; a renderer that throws gets plain_text_error's answer instead.
  using error_renderer = std::function<http_response(int status, std::string_view message, std::string_view field)>;

  struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080; ///< 0 picks a free port; port() tells which
    std::size_t body_limit = 1024 * 1024; ///< larger bodies are answered 413 without calling the handler
    std::size_t header_limit = 16 * 1024; ///< larger headers are answered 431
    std::chrono::seconds idle_timeout{60}; ///< a keep-alive connection idle this long is closed
    /// PEM certificate chain and private key. When both are set the server speaks only TLS (1.2 or later); when
    /// neither is, only plain HTTP. (The braces keep `{"127.0.0.1", 0}` free of -Wmissing-field-initializers.)
    std::string tls_cert_file{};
    std::string tls_key_file{};
    error_renderer render_error{plain_text_error};
  };

  /// Sends the response for one request. Call it exactly once, from any thread; calling it after the connection
  /// closed does nothing.
  using responder = std::function<void(http_response)>;

  /// Handles one request. It must not block: it answers now or later through the responder.
  using handler = std::function<void(http_request, responder)>;

  virtual ~http_server() = default;

  /// Returns the port the server listens on.
  virtual std::uint16_t port() const noexcept = 0;

  /// Stops accepting and closes every connection; idempotent, callable from any thread.
  virtual void stop() = 0;
};

using http_server_ptr = std::unique_ptr<http_server>;

/// Binds and starts listening on `io`, which must outlive the server. Throws std::runtime_error with a one-line
/// message (e.g. "cannot listen on 127.0.0.1:8080: Address already in use") when the address cannot be bound, or
/// when the TLS certificate or key cannot be loaded (or only one of them is set).
http_server_ptr start_http_server(io_runtime& io, http_server::options opts, http_server::handler on_request);

} // namespace feedrouter
