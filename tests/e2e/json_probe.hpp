#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter::test {

/// Returns the string at JSON pointer `pointer` (RFC 6901, "" for the root) in `json`, or nullopt when the text is
/// not JSON, nothing is there or it is not a string.
std::optional<std::string> json_string_at(std::string_view json, std::string_view pointer);

/// Returns the integer at `pointer` in `json`, or nullopt (as json_string_at).
std::optional<std::int64_t> json_int_at(std::string_view json, std::string_view pointer);

/// Returns the value at `pointer` in `json` as minified JSON text, or nullopt; equal values of the same member order
/// give equal text.
std::optional<std::string> json_at(std::string_view json, std::string_view pointer);

} // namespace feedrouter::test
