#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time_format.hpp"

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

// -- Standard Webhooks (https://www.standardwebhooks.com/) ----------------------------------------------------------

/// The header carrying a delivery's unique id, which is also signed.
inline constexpr std::string_view standard_id_header = "webhook-id";

/// The header carrying when the delivery was sent, in seconds since the epoch, which is also signed.
inline constexpr std::string_view standard_timestamp_header = "webhook-timestamp";

/// The header carrying the signatures: space-separated "v1,<base64 HMAC-SHA256>" entries (other versions ignored).
inline constexpr std::string_view standard_signature_header = "webhook-signature";

/// What a Standard Webhooks secret starts with; the base64 of the HMAC key follows.
inline constexpr std::string_view standard_secret_prefix = "whsec_";

/// Bytes of a Standard Webhooks key: the specification's range (192 to 512 bits).
constexpr std::size_t standard_key_min_bytes = 24;
constexpr std::size_t standard_key_max_bytes = 64;

/// How far a delivery's webhook-timestamp may lie from the provider's clock, either way: the specification's
/// recommendation. It bounds how long a captured delivery can be replayed at all; within it the replay window of
/// webhook-id values refuses it.
constexpr std::chrono::seconds standard_timestamp_tolerance{300};

/// Returns the HMAC key of a Standard Webhooks secret, "whsec_" followed by the standard base64 of
/// standard_key_min_bytes to standard_key_max_bytes bytes; nullopt for anything else.
std::optional<std::string> standard_secret_key(std::string_view secret);

/// Returns a new Standard Webhooks secret: "whsec_" and the base64 of webhook_secret_bytes random bytes.
std::string generate_standard_secret();

/// Returns the Standard Webhooks signature entry of a delivery: "v1," followed by the base64 HMAC-SHA256 under `key`
/// of `id` "." `timestamp` "." `body`. Throws std::runtime_error only if OpenSSL itself fails.
std::string sign_standard(std::string_view key, std::string_view id, std::string_view timestamp,
                          std::string_view body);

/// Returns whether `header`, the value of a `webhook-signature` header, holds a "v1," entry that is the signature of
/// `id`, `timestamp` and `body` under `key`. Entries are separated by spaces; other versions are skipped. Each is
/// compared in constant time. An empty key verifies nothing.
bool verify_standard_signature(std::string_view key, std::string_view id, std::string_view timestamp,
                               std::string_view body, std::string_view header);

/// Returns the seconds since the epoch of a `webhook-timestamp` header: decimal digits only (spaces and tabs around
/// them ignored), at most 18 of them; nullopt otherwise.
std::optional<std::int64_t> parse_standard_timestamp(std::string_view header);

/// Returns whether `seconds` since the epoch lies within standard_timestamp_tolerance of `now`, either way.
bool standard_timestamp_fresh(std::int64_t seconds, sys_ms now);

} // namespace feedrouter
