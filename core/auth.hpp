#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter {

/// Returns the lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Compares in time that depends only on the lengths, so a caller cannot learn a stored hash byte by byte.
bool constant_time_equal(std::string_view x, std::string_view y);

std::string base64_encode(std::string_view data);

/// Decodes standard base64 with padding; returns nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view text);

/// Returns whether `key` looks like an OpenWhisk authKey: "uuid:key", both parts non-empty printable ASCII.
bool is_valid_auth_key(std::string_view key);

/// Returns the authKey in an "Authorization: Basic base64(uuid:key)" header, or nullopt.
std::optional<std::string> parse_basic_authorization(std::string_view header);

/// Returns the Authorization header value for `auth_key`: "Basic base64(uuid:key)".
std::string basic_authorization(std::string_view auth_key);

/// Returns `bytes` random bytes from a CSPRNG as lower-case hex.
std::string random_hex(std::size_t bytes);

} // namespace feedrouter
