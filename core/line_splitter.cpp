#include "core/line_splitter.hpp"

#include <utility>

namespace feedrouter {

namespace {

/// What a blank line may hold: CouchDB's heartbeat is a bare "\n", other servers pad it.
constexpr std::string_view blank_bytes = " \t\r";

} // namespace

bool line_splitter::feed(std::string_view bytes) {
  while (!broken_ && !bytes.empty()) {
    auto newline = bytes.find('\n');
    partial_.append(bytes.substr(0, newline));
    if (!partial_fits())
      broken_ = true;
    else if (newline == std::string_view::npos)
      break;
    else {
      bytes.remove_prefix(newline + 1);
      complete_line();
    }
  }
  return !broken_;
}

std::vector<std::string> line_splitter::take_lines() {
  return std::exchange(lines_, {});
}

std::vector<std::string> line_splitter::finish() {
  if (!broken_)
    complete_line();
  return take_lines();
}

void line_splitter::complete_line() {
  if (!partial_.empty() && partial_.back() == '\r')
    partial_.pop_back();
  if (partial_.find_first_not_of(blank_bytes) != std::string::npos)
    lines_.push_back(std::move(partial_));
  partial_.clear();
}

bool line_splitter::partial_fits() const noexcept {
  // The '\r' of a "\r\n" is not part of the line, but its '\n' may come with the next piece.
  auto size = partial_.size();
  if (size > 0 && partial_.back() == '\r')
    --size;
  return size <= max_line_;
}

} // namespace feedrouter
