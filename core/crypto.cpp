#include "core/crypto.hpp"

#include <array>
#include <cctype>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/text.hpp"

namespace feedrouter {

namespace {

std::string_view as_chars(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

} // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return to_hex(as_chars(digest.data(), digest.size()));
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // HMAC() accepts a null key pointer only with length 0; a string_view may hold a null pointer then.
  static constexpr unsigned char empty_key = 0;
  const auto* key_bytes = key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), digest.data(), &size)
      == nullptr)
    throw std::runtime_error("OpenSSL failed to compute an HMAC-SHA256");
  return to_hex(as_chars(digest.data(), size));
}

bool constant_time_equal(std::string_view x, std::string_view y) {
  if (x.size() != y.size())
    return false;
  return CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  auto written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(data.data()),
                                 static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  // EVP_DecodeBlock tolerates whitespace and inner '=': accept only the alphabet, with padding at the end.
  auto data_end = text.find_last_not_of('=') + 1;
  if (text.size() - data_end > 2)
    return std::nullopt;
  for (std::size_t i = 0; i < data_end; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '/')
      return std::nullopt;
  }
  std::string out(3 * text.size() / 4, '\0');
  auto written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(text.data()),
                                 static_cast<int>(text.size()));
  if (written < 0)
    return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop one per '='.
  auto padding = text.size() - data_end;
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("the system random number generator failed");
  return to_hex(raw);
}

} // namespace feedrouter
