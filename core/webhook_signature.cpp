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

} // namespace feedrouter
