#include "core/webhook_signature.hpp"

#include <array>
#include <optional>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/auth.hpp"

namespace feedrouter {

namespace {

/// The scheme GitHub puts in front of the hex digest.
constexpr std::string_view signature_prefix = "sha256=";

/// Hex digits of an HMAC-SHA256 digest.
constexpr std::size_t digest_hex_length = 64;

constexpr char hex_digits[] = "0123456789abcdef";

std::string_view trim_ows(std::string_view text) {
  constexpr std::string_view ows = " \t";
  const auto first = text.find_first_not_of(ows);
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(ows) - first + 1);
}

char to_lower_ascii(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Returns the lower-case hex HMAC-SHA256 of `body` under `secret`, or nullopt when OpenSSL fails.
std::optional<std::string> hmac_sha256_hex(std::string_view secret, std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // HMAC() accepts a null key pointer only with length 0; a string_view may hold a null pointer then.
  static constexpr unsigned char empty_key = 0;
  const auto* key = secret.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(secret.data());
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
           body.size(), digest.data(), &size)
      == nullptr)
    return std::nullopt;
  std::string out;
  out.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    out += hex_digits[digest[i] >> 4];
    out += hex_digits[digest[i] & 0xf];
  }
  return out;
}

} // namespace

std::string sign_hmac_sha256(std::string_view secret, std::string_view body) {
  auto digest = hmac_sha256_hex(secret, body);
  if (!digest)
    throw std::runtime_error("OpenSSL failed to compute an HMAC-SHA256");
  return std::string{signature_prefix} + *digest;
}

bool verify_hmac_sha256(std::string_view secret, std::string_view body, std::string_view header) {
  if (secret.empty())
    return false;
  const auto value = trim_ows(header);
  if (value.size() != signature_prefix.size() + digest_hex_length)
    return false;
  for (std::size_t i = 0; i < signature_prefix.size(); ++i)
    if (to_lower_ascii(value[i]) != signature_prefix[i])
      return false;
  // Lower-casing the sender's digits depends only on what the sender sent, never on the secret.
  std::string given{value.substr(signature_prefix.size())};
  for (auto& c : given)
    c = to_lower_ascii(c);
  auto expected = hmac_sha256_hex(secret, body);
  return expected && constant_time_equal(given, *expected);
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
