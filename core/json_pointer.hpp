#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.hpp"

namespace feedrouter {

/// An RFC 6901 JSON Pointer, such as a poll feed's `itemsPointer` or `idPointer`, split into reference tokens.
struct json_pointer {
  /// The reference tokens with "~1" and "~0" already decoded; empty for "", the whole document.
  std::vector<std::string> tokens;
};

/// Parses the JSON string representation of a pointer: "" or a sequence of "/token" where "~0" stands for "~" and
/// "~1" for "/". A pointer not starting with "/", or with a "~" not followed by 0 or 1, is an error naming `field`.
/// The URI fragment form ("#/a") is not accepted.
outcome<json_pointer> parse_json_pointer(std::string_view text, std::string_view field);

/// Returns the string representation of `ptr`, escaping "~" and "/" again; parse_json_pointer reads it back.
std::string to_string(const json_pointer& ptr);

/// Returns the minified JSON of the value `ptr` refers to in `document_json`, or nullopt when the document is not
/// valid JSON or the value does not exist. Array indexes follow RFC 6901: "0" or digits without a leading zero;
/// "-" (the element after the last) never exists.
std::optional<std::string> resolve(const json_pointer& ptr, std::string_view document_json);

/// Returns the minified JSON of each element of the array `ptr` refers to, or nullopt when there is no such value or
/// it is not an array.
std::optional<std::vector<std::string>> resolve_array(const json_pointer& ptr, std::string_view document_json);

/// Ids longer than this are replaced by their SHA-256, so a poll's record of seen ids stays small per item.
constexpr std::size_t max_item_id_length = 256;

/// Returns the id that tells poll items apart: the value `id_pointer` refers to in `item_json` - a string without its
/// quotes, a number or boolean as its JSON text, an object or array as the SHA-256 of its minified JSON.
///
/// Without a pointer, or when the value is missing, null or an empty string, the id is the lower-case hex SHA-256 of
/// the item's minified JSON (of `item_json` as given when it is not valid JSON). Ids longer than max_item_id_length
/// are replaced by their SHA-256.
std::string item_id(std::string_view item_json, const std::optional<json_pointer>& id_pointer);

} // namespace feedrouter
