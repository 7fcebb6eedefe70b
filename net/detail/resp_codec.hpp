#pragma once

// Private to net/ (and its fuzz target): RESP2, the protocol Redis speaks, without any I/O. Commands are encoded as
// arrays of bulk strings; replies are read incrementally, byte by byte as they arrive, within resp_limits, so that a
// hostile server cannot make the reader allocate without bound (docs/redis-stream-feed.md, "The client").

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/resp_value.hpp"

namespace feedrouter {

/// What one reply may take. A reply beyond a bound fails the reader, except a bulk string beyond `max_bulk` or beyond
/// what `max_reply_bytes` leaves: its bytes are read and dropped, and the value is marked oversized, so that the caller
/// can tell the tenant which entry was too large instead of failing at the same entry forever.
struct resp_limits {
  std::size_t max_line = 64 * 1024;             ///< a simple string, error, integer or length line, without CRLF
  std::size_t max_bulk = 1024 * 1024;           ///< bytes of one bulk string kept
  std::size_t max_reply_bytes = 8 * 1024 * 1024; ///< bytes of bulk and simple strings kept in one reply
  std::size_t max_array = 64 * 1024;             ///< elements of one array
  std::size_t max_values = 64 * 1024;            ///< values in one reply, at every level together
  std::size_t max_depth = 8;                    ///< arrays inside arrays; XREADGROUP's reply needs 4
};

/// Why a reader stopped.
enum class resp_read_error {
  none,
  malformed, ///< not RESP2: an unknown type byte, a bad length, a missing CRLF
  too_large, ///< a line, an array, the values or the nesting of one reply beyond resp_limits
};

/// Appends the RESP2 encoding of one command (`*N\r\n` then `$len\r\narg\r\n` per argument) to `out`.
void append_command(std::string& out, const std::vector<std::string>& args);

/// Reads RESP2 replies from bytes as they arrive.
///
/// feed() takes bytes until one reply is complete (then take_reply() returns it) or the bytes run out; it keeps a
/// partial line or bulk string between calls, within the limits. After an error it takes nothing more.
class resp_reader {
public:
  explicit resp_reader(resp_limits limits = {});

  /// Reads from `data` until a reply is complete, `data` is used up or an error occurs; returns the bytes it took.
  std::size_t feed(std::string_view data);

  /// Returns whether a complete reply waits for take_reply().
  bool has_reply() const noexcept {
    return has_reply_;
  }

  /// Returns the complete reply and readies the reader for the next one; requires has_reply().
  resp_value take_reply();

  /// Returns whether part of a reply has been read (the reader is not between replies).
  bool mid_reply() const noexcept {
    return !stack_.empty() || !line_.empty() || mode_ != mode::line;
  }

  resp_read_error error() const noexcept {
    return error_;
  }

  /// Returns what was wrong, in the reader's words (never the server's bytes): "array of 50000000 elements (at most
  /// 1048576)".
  const std::string& error_text() const noexcept {
    return error_text_;
  }

private:
  enum class mode { line, bulk, bulk_end };

  struct frame {
    resp_value array;
    std::size_t expected = 0;
  };

  std::size_t take_line(std::string_view data);
  std::size_t take_bulk(std::string_view data);
  std::size_t take_bulk_end(std::string_view data);
  void on_line();
  void begin_bulk(std::int64_t length);
  void begin_array(std::int64_t length);
  void complete(resp_value value);
  void fail(resp_read_error why, std::string text);

  resp_limits limits_;
  mode mode_ = mode::line;
  std::string line_;         ///< the header line read so far, without CRLF
  resp_value bulk_;          ///< the bulk string being read
  std::size_t bulk_left_ = 0; ///< its bytes still to come (kept or dropped)
  std::size_t crlf_left_ = 0; ///< bytes of the CRLF after it still to come
  std::vector<frame> stack_; ///< the arrays being filled, outermost first
  std::size_t kept_bytes_ = 0; ///< string bytes of the current reply kept so far
  std::size_t values_ = 0;     ///< values of the current reply announced so far
  resp_value reply_;
  bool has_reply_ = false;
  resp_read_error error_ = resp_read_error::none;
  std::string error_text_;
};

} // namespace feedrouter
