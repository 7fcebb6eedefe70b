// Fuzzes the line reader of streamed response bodies (a CouchDB continuous feed, NDJSON), which a remote server fills.
//
// Input: one byte for the line limit, one seeding how the body is cut into pieces, then the body.
// Invariants: the lines are those of the whole body split at '\n' (a '\r' before it dropped, blank lines left out),
// however the body is cut into pieces; none holds a '\n' or exceeds the limit; a line beyond the limit breaks the
// stream, and only such a line does.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/line_splitter.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

/// The lines a body holds, read in one go, as the contract states them; `broken` when one is longer than `max_line`.
struct expected_lines {
  std::vector<std::string> lines;
  bool broken = false;
};

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

expected_lines split_whole(std::string_view body, std::size_t max_line) {
  expected_lines out;
  while (!out.broken) {
    auto newline = body.find('\n');
    auto line = body.substr(0, newline);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.size() > max_line)
      out.broken = true;
    else if (!is_blank(line))
      out.lines.emplace_back(line);
    if (newline == std::string_view::npos)
      break;
    body.remove_prefix(newline + 1);
  }
  return out;
}

/// Feeds `body` in pieces whose sizes come from `seed`, as socket reads would deliver it.
expected_lines split_in_pieces(std::string_view body, std::size_t max_line, std::uint8_t seed) {
  line_splitter splitter{max_line};
  expected_lines out;
  std::uint32_t state = seed | 1u;
  while (!body.empty()) {
    state = state * 1'103'515'245u + 12'345u;
    auto piece = body.substr(0, 1 + (state >> 16) % 16);
    body.remove_prefix(piece.size());
    auto fed = splitter.feed(piece);
    for (auto& line : splitter.take_lines())
      out.lines.push_back(std::move(line));
    if (!fed) {
      out.broken = true;
      return out;
    }
  }
  for (auto& line : splitter.finish())
    out.lines.push_back(std::move(line));
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const std::size_t max_line = in.byte() % 64;
  const auto seed = in.byte();
  const auto body = in.rest();
  const auto whole = split_whole(body, max_line);
  const auto pieces = split_in_pieces(body, max_line, seed);
  require(pieces.broken == whole.broken, "only a line beyond the limit breaks the stream, wherever the cuts are");
  require(pieces.lines == whole.lines, "the cuts between pieces do not change the lines (before a long one)");
  for (const auto& line : pieces.lines) {
    require(line.find('\n') == std::string::npos, "a line holds no line feed");
    require(line.size() <= max_line, "a line is within the limit");
    require(!is_blank(line), "blank lines are left out");
  }
  return 0;
}
