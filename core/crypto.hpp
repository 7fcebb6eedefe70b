#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter {

// Cryptographic primitives on OpenSSL: digests, MACs, constant-time comparison, base64, random bytes.

/// Returns the lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Returns the lower-case hex HMAC-SHA256 of `data` under `key`. Throws std::runtime_error only if OpenSSL itself
/// fails (out of memory).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Compares in time that depends only on the lengths, so a caller cannot learn a stored hash byte by byte.
bool constant_time_equal(std::string_view x, std::string_view y);

std::string base64_encode(std::string_view data);

/// Decodes standard base64 with padding; returns nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view text);

/// Returns `bytes` random bytes from a CSPRNG as lower-case hex.
std::string random_hex(std::size_t bytes);

} // namespace feedrouter
