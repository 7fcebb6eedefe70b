#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/egress_policy.hpp"
#include "core/json.hpp"
#include "core/outcome.hpp"

namespace feedrouter {

/// Where a Redis server is and how to log in: `url` of a `redis-stream` registration, parsed.
struct redis_server {
  bool tls = false;          ///< `rediss://`
  std::string host;          ///< a name, a dotted quad, or IPv6 text without brackets
  std::uint16_t port = 6379;
  std::string user;          ///< empty: `AUTH password` (Redis's default user), or no AUTH without a password
  std::string password;      ///< empty: no AUTH
  std::int64_t db = 0;       ///< `SELECT db`; 0 is selected without a command

  /// Returns "redis://host:port/db" ("rediss://" with TLS): the server without its credentials, for checkpoints and
  /// logs.
  std::string text() const;
};

/// The settings of a `redis-stream` registration, validated (docs/redis-stream-feed.md).
struct redis_stream_spec {
  redis_server server;
  std::string stream; ///< `stream`: the key of the stream
  /// `start`: where a new registration starts: "$" (entries added from its CREATE on, the default) or "0" (every entry
  /// the stream holds). A registration with a position from this server and stream goes on from there.
  std::string start = "$";
  /// `create`: a stream that does not exist yet is accepted at CREATE (its entries are read once it exists); without
  /// it a missing stream is an error naming `stream`.
  bool create = false;
};

// -- limits (docs/redis-stream-feed.md) --

/// Bytes of a stream name at most.
inline constexpr std::size_t redis_max_name_bytes = 1024;
/// The highest database number `url` may select.
inline constexpr std::int64_t redis_max_db = 65535;

/// Validates the redis-stream parameters (`url`, `password`, `stream`, `start`, `create`); every failure names the
/// parameter. A server that
/// `egress` refuses without resolving it (a literal address, localhost) fails naming `url`; one whose name resolves to
/// a refused address fails when the provider connects to it.
///
/// `url` is `redis://[user[:password]@]host[:port][/db]` or `rediss://...` (TLS); user and password are
/// percent-decoded. A password may also come as the parameter `password`; one inside `url` replaces it.
outcome<redis_stream_spec> parse_redis_stream_spec(const json_members& params, const egress_policy& egress);

/// Returns `params` as they are stored and shown, once parse_redis_stream_spec() accepted them: a password inside `url`
/// moved out into `password` (which is never shown), and `start` and `create` as text and a boolean. The URL that
/// remains holds no password.
json_members normalize_redis_stream_params(json_members params);

// -- positions ------------------------------------------------------------------------------------------------------

/// The ID of a stream entry: milliseconds and a sequence number, ordered as Redis orders them.
struct stream_id {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  friend bool operator<(const stream_id& a, const stream_id& b) noexcept {
    return a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq;
  }
  friend bool operator<=(const stream_id& a, const stream_id& b) noexcept {
    return !(b < a);
  }
  friend bool operator==(const stream_id& a, const stream_id& b) noexcept {
    return a.ms == b.ms && a.seq == b.seq;
  }

  /// Returns "ms-seq".
  std::string text() const;
};

/// Returns the ID `text` ("1700000000000-0") names; nullopt for anything else.
std::optional<stream_id> parse_stream_id(std::string_view text);

/// The ID before every entry: where a registration with `start: "0"` (or an empty stream) reads from.
inline constexpr stream_id stream_id_zero{};

/// Returns the checkpoint of an event of entry `id`: {"server":"redis://host:port/db","stream":..,"id":..}. It names
/// no credentials.
std::string to_redis_checkpoint(const redis_stream_spec& spec, const stream_id& id);

/// Returns the entry ID of `checkpoint` when it was taken on this spec's server and stream; nullopt otherwise (empty,
/// unreadable, or from before an UPDATE that changed them).
std::optional<stream_id> restore_redis_id(std::string_view checkpoint, const redis_stream_spec& spec);

} // namespace feedrouter
