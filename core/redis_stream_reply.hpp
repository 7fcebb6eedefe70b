#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/redis_stream_spec.hpp"
#include "core/resp_value.hpp"

namespace feedrouter {

// What the redis-stream source makes of Redis's replies (RESP2 shapes as Redis 7.0 sends them;
// docs/redis-stream-feed.md) and the commands it sends: pure functions, so that the shapes are tested and fuzzed
// without a server.

// -- commands ---------------------------------------------------------------------------------------------------------

/// `AUTH [user] password` when the server has a password, and `SELECT db` for a database other than 0: what every
/// connection sends first (none for a server without a password on database 0).
std::vector<std::vector<std::string>> login_commands(const redis_server& server);

/// The read of a registration's entries: `XREAD COUNT n BLOCK ms STREAMS s after`, the entries after ID `after`.
std::vector<std::string> xread_command(const redis_stream_spec& spec, std::size_t count, std::int64_t block_ms,
                                       const stream_id& after);

/// `XREVRANGE s + - COUNT 1`: the stream's last entry, where `start: "$"` begins.
std::vector<std::string> last_entry_command(const redis_stream_spec& spec);

/// `TYPE s`: whether the key exists and holds a stream.
std::vector<std::string> type_command(const redis_stream_spec& spec);

// -- replies ----------------------------------------------------------------------------------------------------------

/// One field of a stream entry.
struct stream_field {
  std::string name;
  std::string value;
  /// The value was larger than the client keeps (its bytes were dropped); `size` is how large.
  bool oversized = false;
  std::int64_t size = 0;
};

/// One entry of a stream as XREAD returns it.
struct stream_entry {
  stream_id id;
  std::vector<stream_field> fields;

  /// Returns whether a field value was too large to keep.
  bool oversized() const noexcept;
};

/// What a reply held, or that it was not what the command returns.
template <class T>
struct read_result {
  T value{};
  std::string malformed; ///< non-empty: what was wrong with the reply (in our words)

  bool ok() const noexcept {
    return malformed.empty();
  }
};

/// Returns the entries of an XREAD reply for one stream, in order: none for a null reply (BLOCK timed out). Strings are
/// moved out of `reply`.
read_result<std::vector<stream_entry>> read_stream_entries(resp_value& reply);

/// What a key holds, from a TYPE reply.
enum class stream_key { stream, missing, other };

/// Returns what the key holds, from TYPE's reply ("stream", "none", "string", ...).
read_result<stream_key> read_key_type(const resp_value& reply);

/// Returns how many of `entries` (one XREAD reply, in order) to hand over now. An entry whose field is oversized
/// although it is within `max_bulk` was cut by the reply's byte budget, not by its own size: it and those after it are
/// read again by the next XREAD, unless it is the reply's first entry (then the entry alone is too large and is fired
/// with its oversized fields marked).
std::size_t entries_to_hand_over(const std::vector<stream_entry>& entries, std::size_t max_bulk);

/// Returns the ID of the one entry an `XREVRANGE ... COUNT 1` reply holds, or stream_id_zero for an empty stream.
read_result<stream_id> read_last_id(const resp_value& reply);

/// What an error reply means for the registration.
enum class redis_refusal {
  transient,   ///< anything else: try again later (LOADING, BUSY, ...)
  credentials, ///< WRONGPASS, NOAUTH, a password for a server without one: `url`
  permission,  ///< NOPERM: the user may not run the command or touch the key: `url`
  no_stream,   ///< the stream does not exist and `create` is not set: `stream`
  wrong_type,  ///< WRONGTYPE: the key is not a stream: `stream`
};

/// Returns what the error reply `line` ("NOGROUP No such key ...") means.
redis_refusal classify_redis_error(std::string_view line);

/// Returns the parameter a refusal is about: "url" or "stream"; empty for transient.
std::string_view refusal_field(redis_refusal refusal);

/// Returns what the tenant is shown for a refusal: the provider's words, never the server's.
std::string refusal_text(redis_refusal refusal);

// -- fires ------------------------------------------------------------------------------------------------------------

/// Returns the fire body of one entry: {"stream", "id", "fields": {name: value, ...}} plus the members of `fire_body`
/// (`trigger_payload`) that it does not have itself. A value that is not UTF-8 is base64 and its name is listed in
/// "binaryFields"; a value too large to keep is null and its name is listed in "oversizedFields". A name given twice
/// in the entry appears twice, as Redis keeps it.
std::string stream_entry_body(std::string_view stream, const stream_entry& entry, std::string_view fire_body);

} // namespace feedrouter
