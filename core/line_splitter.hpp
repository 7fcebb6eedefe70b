#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace feedrouter {

/// Cuts a byte stream into lines, as a streamed response body (NDJSON, a CouchDB continuous feed) arrives in pieces.
///
/// '\n' ends a line and a '\r' right before it is dropped; blank lines (only spaces, tabs or '\r': heartbeats) are
/// left out. A line longer than `max_line` bytes (without its line break) breaks the stream, so one endless line
/// cannot take all memory. How the bytes are cut into pieces never changes the lines.
class line_splitter {
public:
  explicit line_splitter(std::size_t max_line) : max_line_(max_line) {
    // nop
  }

  /// Takes the next bytes of the stream. Returns false, and takes nothing more, once a line grew beyond max_line.
  bool feed(std::string_view bytes);

  /// Returns the complete lines received so far, oldest first, and forgets them.
  std::vector<std::string> take_lines();

  /// Ends the stream: the last line counts without its line break. Returns take_lines() with it.
  std::vector<std::string> finish();

  /// Returns whether a line grew beyond max_line.
  bool broken() const noexcept {
    return broken_;
  }

private:
  /// Moves partial_ to lines_ unless it is blank.
  void complete_line();

  /// Returns whether partial_ is still within max_line, allowing for a '\r' whose '\n' has not come yet.
  bool partial_fits() const noexcept;

  std::size_t max_line_;
  std::string partial_;            ///< the line being received
  std::vector<std::string> lines_; ///< complete lines not yet taken
  bool broken_ = false;
};

} // namespace feedrouter
