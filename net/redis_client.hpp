#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/egress_policy.hpp"
#include "core/redis_stream_spec.hpp"
#include "core/resp_value.hpp"

namespace feedrouter {

class io_runtime;

// A small RESP2 client on the process's Asio runtime, for the redis-stream feed (docs/redis-stream-feed.md, "The
// client"): one connection per registration, commands pipelined in exchanges, every reply read within bounds. The
// header includes no Asio; the source and its preparer see only these interfaces, and tests script their own.

/// The bytes of one field value (a bulk string) a reply keeps at most; a larger one is read, dropped and marked
/// oversized (resp_value::oversized), so that one huge entry cannot stop a feed.
inline constexpr std::size_t redis_max_field_bytes = 1024 * 1024;
/// The bytes of strings one reply keeps at most: what one exchange can hold in memory, whatever the server sends.
inline constexpr std::size_t redis_max_reply_bytes = 8 * 1024 * 1024;

/// Why a connection or an exchange failed, in terms that may be shown to the tenant who named the server.
struct redis_failure {
  enum class kind {
    none,
    not_allowed, ///< the egress policy refused every address of the server
    unreachable, ///< cannot resolve, connect or complete TLS, timed out, or the connection broke
    protocol,    ///< the server does not speak RESP2, or a reply was beyond the client's bounds
    no_room,     ///< the instance runs its bound of connections (--max-redis-feeds)
  };
  kind what = kind::none;
  std::string detail; ///< the operator's detail ("connect: Connection refused"), for the debug log

  explicit operator bool() const noexcept {
    return what != kind::none;
  }
};

/// Returns what a tenant is shown for `failure`.
std::string failure_text(const redis_failure& failure);

/// The replies of one exchange in the order of its commands, or the failure that ended the connection.
struct redis_replies {
  std::vector<resp_value> replies;
  redis_failure failure;
};

/// One open connection to a Redis server. Used from one actor at a time; `done` callbacks run on an I/O thread (they
/// must only send a message). Open until close() or a failure: its owner closes it when it is done with it.
class redis_connection {
public:
  virtual ~redis_connection() = default;

  /// Sends `commands` (each its arguments) in one write and calls `done` once with their replies, or with the failure
  /// that closed the connection, all within `timeout`. One exchange at a time.
  virtual void exchange(std::vector<std::vector<std::string>> commands, std::chrono::milliseconds timeout,
                        std::function<void(redis_replies)> done) = 0;

  /// Closes the connection; an exchange under way ends with a failure.
  virtual void close() = 0;
};

using redis_connection_ptr = std::shared_ptr<redis_connection>;

/// A connection, or why none was opened.
struct redis_connected {
  redis_connection_ptr connection;
  redis_failure failure;
};

/// Opens connections within the instance's bound of them.
class redis_connector {
public:
  virtual ~redis_connector() = default;

  /// Resolves `server`, connects to the first address the egress policy allows, completes TLS for `rediss://`, all
  /// within `timeout`, and calls `done` once on an I/O thread. Nothing is sent: logging in is the caller's first
  /// exchange. Fails at once with no_room when the bound of connections is open.
  virtual void connect(const redis_server& server, std::chrono::milliseconds timeout,
                       std::function<void(redis_connected)> done) = 0;

  /// Returns whether another connection may be opened now.
  virtual bool has_room() const = 0;
};

using redis_connector_ptr = std::shared_ptr<redis_connector>;

/// What every connection of an instance shares.
struct redis_connector_options {
  /// Every address connected to must pass it.
  std::shared_ptr<const egress_policy> egress = std::make_shared<const egress_policy>();
  std::size_t max_connections = 1000; ///< open at once at most (--max-redis-feeds)
};

/// Returns the connector on `io`'s io_context. `rediss://` servers are verified against the system's store: they are
/// tenants' endpoints, which the operator's --ca-file and --insecure-skip-verify do not cover (docs/security.md).
redis_connector_ptr make_redis_connector(io_runtime& io, redis_connector_options options);

} // namespace feedrouter
