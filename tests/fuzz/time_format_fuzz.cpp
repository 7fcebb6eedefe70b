// Fuzzes the ISO-8601 reader that takes every date a tenant gives (alarm date, startDate, stopDate) and the writer of
// every date the API shows.
//
// Input: the text to read.
// Invariants: what parse_iso8601 accepts, format_iso8601 writes in its canonical form (UTC, milliseconds), which reads
// back as the same instant and is written again unchanged.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/time_format.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace feedrouter;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const auto text = in.rest();
  auto parsed = parse_iso8601(text);
  if (!parsed)
    return 0;
  const auto canonical = format_iso8601(*parsed);
  require(canonical.size() == 24 && canonical.back() == 'Z', "a time is written as YYYY-MM-DDTHH:MM:SS.mmmZ");
  auto again = parse_iso8601(canonical);
  require(again && *again == *parsed, "the written form reads back as the same instant");
  require(format_iso8601(*again) == canonical, "the written form is written again unchanged");
  return 0;
}
