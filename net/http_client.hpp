#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <string_view>

#include "core/egress_policy.hpp"
#include "core/url.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

class io_runtime;

/// Who named a request's destination, which decides whether the client's egress policy applies to it.
enum class destination_owner {
  tenant,          ///< a registration's URL: every address connected to must pass the egress policy (the default)
  operator_config, ///< the operator's configuration, such as the OpenWhisk controller (--api-host): not checked
};

/// Why a request got no (usable) response, in terms that may be shown to the tenant who named the destination.
///
/// Refused, unreachable, filtered (timed out), reset, failed TLS and a server that does not speak HTTP are one kind,
/// so that a tenant cannot tell an open port from a closed or filtered one; the detail stays in the error text, for
/// the operator's log.
enum class transport_failure {
  none,            ///< a response came
  not_allowed,     ///< the egress policy refused every address of the destination
  unresolved,      ///< the host name did not resolve (in time)
  no_response,     ///< no valid HTTP response: cannot connect, timed out, reset, TLS failure or not HTTP
  too_large,       ///< the response (or a streamed line) is larger than the client accepts
  connection_lost, ///< stream: the connection ended or broke after a 2xx head
  idle,            ///< stream: nothing came within the idle timeout after a 2xx head
};

/// Returns what a tenant is shown for a request that failed with `failure`: "not allowed by the egress policy",
/// "cannot resolve the host name", "no HTTP response (cannot connect, timed out or not HTTP)", ... (none, which a
/// failed request never has but a stand-in client might, reads as no_response).
std::string_view failure_text(transport_failure failure) noexcept;

/// One request for the client: where it goes, what it carries, how long it may take.
struct client_request {
  url destination;  ///< scheme, host and port pick the pool; target is the request target
  http_request message; ///< method, fields and body; the target is taken from `destination`
  std::chrono::milliseconds timeout{10'000}; ///< for the whole exchange, connect included
  destination_owner owner = destination_owner::tenant;
};

/// The outcome of one request: a response, or a transport error (then `error` is non-empty).
struct client_result {
  /// Empty on success; otherwise the detail for the operator, e.g. "connect: Connection refused", "timeout",
  /// "tls handshake: certificate verify failed (self-signed certificate)". Not for tenants: see `failure`.
  std::string error;
  http_response response;
  /// What kind of error `error` is; none on success.
  transport_failure failure = transport_failure::none;

  bool ok() const noexcept {
    return error.empty();
  }
};

/// A request whose response is read as a stream of lines (NDJSON, such as CouchDB's continuous `_changes` feed).
struct stream_request {
  url destination;
  http_request message;
  destination_owner owner = destination_owner::tenant;
  /// For connecting, the TLS handshake, sending the request and receiving the response head.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Longest silence while a read waits for bytes; a feed that sends heartbeats is dead after it.
  std::chrono::milliseconds idle_timeout{60'000};
  /// Longest line accepted; a longer one fails the stream, so one bad line cannot take all memory.
  std::size_t max_line = 16 * 1024 * 1024;
};

/// What an open stream reports; see http_client::open_stream.
struct stream_update {
  /// Non-empty when the stream failed and is closed: "connect: Connection refused", "timeout", "idle timeout",
  /// "read: end of stream", "line longer than N bytes", ... (the operator's detail; `failure` is for tenants)
  std::string error;
  /// What kind of error `error` is; none while the stream is well.
  transport_failure failure = transport_failure::none;
  /// The response status, in the first update only (0 in the others and when no response came).
  int status = 0;
  /// A non-2xx response's body (at most 64 KiB); the stream ends with it.
  std::string body;
  /// Complete lines in the order received, without their line break; blank lines (heartbeats) are left out.
  std::vector<std::string> lines;
  /// The server ended the response (after these lines); nothing follows.
  bool ended = false;
};

/// A response being read line by line. Between reads nothing is taken from the socket, so a reader that does not ask
/// for more slows the sender down through TCP's own flow control.
class line_stream {
public:
  virtual ~line_stream() = default;

  /// Asks for more lines: the stream's handler is called once, with at least one line, the end, or an error. At most
  /// one read at a time; call it only after the first update (the response head) came with a 2xx status. May be called
  /// from any thread.
  virtual void read() = 0;

  /// Closes the connection. No update starts after close() returns (one already running on an I/O thread may still
  /// finish). Idempotent; may be called from any thread.
  virtual void close() = 0;
};

using line_stream_ptr = std::shared_ptr<line_stream>;

/// An HTTP and HTTPS client with a keep-alive connection pool per (scheme, host, port).
class http_client {
public:
  using completion = std::function<void(client_result)>;
  using stream_handler = std::function<void(stream_update)>;

  virtual ~http_client() = default;

  /// Sends `req` and calls `done` exactly once, on an I/O thread; `done` must not block (an actor's callback only
  /// sends a message). May be called from any thread.
  virtual void send(client_request req, completion done) = 0;

  /// Opens a stream on a connection of its own (not from the pool: it stays busy for as long as the stream lasts).
  ///
  /// `on_update` is called on an I/O thread, never twice at once: first with the response head (`status`), or with
  /// an error; a non-2xx head comes with its body and `ended`. After a 2xx head, each read() yields one more update.
  /// `on_update` must not block.
  virtual line_stream_ptr open_stream(stream_request req, stream_handler on_update) = 0;
};

using http_client_ptr = std::shared_ptr<http_client>;

struct http_client_options {
  /// Connections per origin at most; further requests wait in a FIFO queue for a free connection.
  std::size_t max_connections_per_origin = 64;
  /// Idle pooled connections are closed after this long.
  std::chrono::seconds idle_timeout{30};
  /// PEM bundle of the CAs that the operator's https servers (destination_owner::operator_config) are verified
  /// against; empty means the system's default store. A tenant's https server is always verified against the
  /// system's store, whatever this says.
  std::string ca_file{};
  /// Accepts any certificate from the operator's https servers, for self-signed development controllers. Insecure:
  /// the connection is encrypted but the server is not authenticated. Never applies to a tenant's server.
  bool insecure_skip_verify = false;
  /// Judges every address a tenant's request (destination_owner::tenant) connects to, on every new connection and
  /// after DNS; a request whose every address it refuses fails with transport_failure::not_allowed. Null: nothing is
  /// checked (a client that only reaches the operator's endpoints, and tests).
  std::shared_ptr<const egress_policy> egress;
};

/// Returns a client whose sockets live on `io`, which must outlive the client. https connections speak TLS 1.2 or
/// later, send SNI for host names, and verify the server's certificate chain and its name (or IP address): a
/// tenant's against the system's store, the operator's against `ca_file` (or not at all with `insecure_skip_verify`).
/// Throws std::runtime_error with a one-line message when `ca_file` cannot be loaded.
http_client_ptr make_http_client(io_runtime& io, http_client_options opts = {});

} // namespace feedrouter
