#include "core/webhook_signature.hpp"

#include <array>
#include <optional>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/crypto.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

/// The scheme GitHub puts in front of the hex digest.
constexpr std::string_view signature_prefix = "sha256=";

/// Hex digits of an HMAC-SHA256 digest.
constexpr std::size_t digest_hex_length = 64;

/// What a Standard Webhooks signature entry of the symmetric scheme starts with.
constexpr std::string_view standard_signature_version = "v1,";

/// Digits a webhook-timestamp may have: enough for any second until the year 9999 (12), and few enough that the
/// value cannot overflow 64 bits.
constexpr std::size_t max_timestamp_digits = 18;

} // namespace

std::string sign_hmac_sha256(std::string_view secret, std::string_view body) {
  return std::string{signature_prefix} + hmac_sha256_hex(secret, body);
}

bool verify_hmac_sha256(std::string_view secret, std::string_view body, std::string_view header) {
  if (secret.empty())
    return false;
  const auto value = trim_ows(header);
  if (value.size() != signature_prefix.size() + digest_hex_length)
    return false;
  if (!istarts_with(value, signature_prefix))
    return false;
  // Lower-casing the sender's digits depends only on what the sender sent, never on the secret.
  auto given = ascii_lowercase(value.substr(signature_prefix.size()));
  return constant_time_equal(given, hmac_sha256_hex(secret, body));
}

bool verify_token(std::string_view secret, std::string_view header) {
  if (secret.empty())
    return false;
  return constant_time_equal(sha256_hex(trim_ows(header)), sha256_hex(secret));
}

std::string generate_secret() {
  return random_hex(webhook_secret_bytes);
}

// -- Standard Webhooks ----------------------------------------------------------------------------------------------

std::optional<std::string> standard_secret_key(std::string_view secret) {
  if (secret.substr(0, standard_secret_prefix.size()) != standard_secret_prefix)
    return std::nullopt;
  auto key = base64_decode(secret.substr(standard_secret_prefix.size()));
  if (!key || key->size() < standard_key_min_bytes || key->size() > standard_key_max_bytes)
    return std::nullopt;
  return key;
}

std::string generate_standard_secret() {
  return std::string{standard_secret_prefix} + base64_encode(random_bytes(webhook_secret_bytes));
}

std::string sign_standard(std::string_view key, std::string_view id, std::string_view timestamp,
                          std::string_view body) {
  std::string content;
  content.reserve(id.size() + timestamp.size() + body.size() + 2);
  content.append(id).append(1, '.').append(timestamp).append(1, '.').append(body);
  return std::string{standard_signature_version} + base64_encode(hmac_sha256(key, content));
}

bool verify_standard_signature(std::string_view key, std::string_view id, std::string_view timestamp,
                               std::string_view body, std::string_view header) {
  if (key.empty())
    return false;
  const auto expected = sign_standard(key, id, timestamp, body);
  auto matched = false;
  // Every entry is looked at, matched or not: the time taken depends on the header, not on which entry matched.
  while (!header.empty()) {
    auto end = header.find(' ');
    auto entry = header.substr(0, end);
    header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
    if (entry.substr(0, standard_signature_version.size()) == standard_signature_version)
      matched = constant_time_equal(entry, expected) || matched;
  }
  return matched;
}

std::optional<std::int64_t> parse_standard_timestamp(std::string_view header) {
  const auto digits = trim_ows(header);
  if (digits.empty() || digits.size() > max_timestamp_digits)
    return std::nullopt;
  std::int64_t seconds = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds;
}

bool standard_timestamp_fresh(std::int64_t seconds, sys_ms now) {
  // In seconds both are far from overflowing: at most 18 digits, and a clock in milliseconds divided by 1000.
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto tolerance = standard_timestamp_tolerance.count();
  return seconds >= now_s - tolerance && seconds <= now_s + tolerance;
}

} // namespace feedrouter
