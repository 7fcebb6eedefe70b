#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace feedrouter {

/// Bytes of a secret made by generate_secret: RFC 2104 asks for HMAC keys at least as long as the hash output.
constexpr std::size_t webhook_secret_bytes = 32;

/// Returns the GitHub-style signature of `body` under `secret`: "sha256=" followed by the lower-case hex HMAC-SHA256.
/// Throws std::runtime_error only if OpenSSL itself fails (out of memory), as verification does then too.
std::string sign_hmac_sha256(std::string_view secret, std::string_view body);

/// Returns whether `header`, the value of an `X-Hub-Signature-256` header, is the HMAC-SHA256 of `body` under
/// `secret`.
///
/// The header must read "sha256=" (any case) followed by 64 hex digits (any case); spaces and tabs around it are
/// ignored. The digests are compared in constant time. An empty secret verifies nothing, so a registration whose
/// secret was lost cannot be fired by anyone who signs with an empty key.
bool verify_hmac_sha256(std::string_view secret, std::string_view body, std::string_view header);

/// Returns whether `header`, the value of the header carrying a shared token, equals `secret`.
///
/// Spaces and tabs around the value are ignored. Both sides are hashed before the constant-time compare, so the time
/// taken does not even reveal the secret's length. An empty secret verifies nothing.
bool verify_token(std::string_view secret, std::string_view header);

/// Returns a new webhook secret: webhook_secret_bytes random bytes from a CSPRNG as lower-case hex.
std::string generate_secret();

} // namespace feedrouter
