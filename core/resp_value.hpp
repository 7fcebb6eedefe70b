#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace feedrouter {

/// One RESP2 reply of a Redis server, or one element of a reply: what net/detail/resp_codec reads off the wire and
/// what core/redis_stream_reply interprets. An error reply (`-ERR ...`) is a value like any other: the command failed,
/// the connection did not.
struct resp_value {
  enum class kind : std::uint8_t {
    null,    ///< `$-1` or `*-1`: no value (a BLOCK that timed out, a deleted entry's fields)
    simple,  ///< `+OK`: the text in `text`
    error,   ///< `-NOGROUP ...`: the whole line in `text`, its first word the error code
    integer, ///< `:1`: the number in `integer`
    bulk,    ///< `$3 abc`: the bytes in `text`; see `oversized`
    array,   ///< `*2 ...`: the elements in `items`
  };

  kind type = kind::null;
  /// A bulk string longer than the reader keeps (resp_limits): its bytes were read and dropped, `text` is empty and
  /// `integer` holds its length.
  bool oversized = false;
  std::int64_t integer = 0;
  std::string text;
  std::vector<resp_value> items;

  bool is_null() const noexcept {
    return type == kind::null;
  }

  bool is_error() const noexcept {
    return type == kind::error;
  }

  bool is_array() const noexcept {
    return type == kind::array;
  }

  /// Returns whether this is a bulk or simple string (an oversized bulk included).
  bool is_string() const noexcept {
    return type == kind::bulk || type == kind::simple;
  }
};

} // namespace feedrouter
