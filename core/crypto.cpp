#include "core/crypto.hpp"

#include <array>
#include <cctype>
#include <climits>
#include <memory>
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

const unsigned char* as_bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

struct cipher_ctx_free {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept {
    EVP_CIPHER_CTX_free(ctx);
  }
};

using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;

[[noreturn]] void openssl_failed(const char* what) {
  throw std::runtime_error(std::string{"OpenSSL failed to "} + what);
}

/// Checks the sizes every AES-256-GCM call needs, and that OpenSSL's int lengths can hold the data.
void check_gcm_arguments(std::string_view key, std::string_view nonce, std::string_view aad, std::string_view data) {
  if (key.size() != aes256_key_size)
    throw std::invalid_argument("an AES-256 key has 32 bytes");
  if (nonce.size() != gcm_nonce_size)
    throw std::invalid_argument("a GCM nonce has 12 bytes");
  constexpr auto max_length = static_cast<std::size_t>(INT_MAX) - gcm_tag_size;
  if (aad.size() > max_length || data.size() > max_length)
    throw std::invalid_argument("AES-256-GCM input is too long");
}

/// Returns AES-256-GCM as OpenSSL's default provider implements it, fetched once: EVP_aes_256_gcm() would make every
/// EVP_CipherInit_ex look the implementation up again, which cost more than sealing a short value itself. A fetched
/// cipher is immutable and may be shared between threads; it lives as long as the process.
const EVP_CIPHER* aes256_gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr)
    openssl_failed("find AES-256-GCM");
  return cipher;
}

/// Returns a context running AES-256-GCM (encrypting or decrypting) with `key` and `nonce`, `aad` authenticated.
cipher_ctx_ptr start_gcm(bool encrypt, std::string_view key, std::string_view nonce, std::string_view aad) {
  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  if (!ctx)
    openssl_failed("allocate a cipher context");
  if (EVP_CipherInit_ex(ctx.get(), aes256_gcm(), nullptr, as_bytes(key), as_bytes(nonce), encrypt ? 1 : 0) != 1)
    openssl_failed("start AES-256-GCM");
  int ignored = 0;
  if (!aad.empty()
      && EVP_CipherUpdate(ctx.get(), nullptr, &ignored, as_bytes(aad), static_cast<int>(aad.size())) != 1)
    openssl_failed("authenticate AES-256-GCM additional data");
  return ctx;
}

} // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return to_hex(as_chars(digest.data(), digest.size()));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // HMAC() accepts a null key pointer only with length 0; a string_view may hold a null pointer then.
  static constexpr unsigned char empty_key = 0;
  const auto* key_bytes = key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), digest.data(), &size)
      == nullptr)
    throw std::runtime_error("OpenSSL failed to compute an HMAC-SHA256");
  return std::string{as_chars(digest.data(), size)};
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return to_hex(hmac_sha256(key, data));
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

std::string random_bytes(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (bytes > static_cast<std::size_t>(INT_MAX)
      || RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("the system random number generator failed");
  return raw;
}

std::string random_hex(std::size_t bytes) {
  return to_hex(random_bytes(bytes));
}

std::string aes256_gcm_seal(std::string_view key, std::string_view nonce, std::string_view aad,
                            std::string_view plaintext) {
  check_gcm_arguments(key, nonce, aad, plaintext);
  auto ctx = start_gcm(true, key, nonce, aad);
  std::string out(plaintext.size() + gcm_tag_size, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  int written = 0;
  if (!plaintext.empty()
      && EVP_EncryptUpdate(ctx.get(), bytes, &written, as_bytes(plaintext), static_cast<int>(plaintext.size())) != 1)
    openssl_failed("encrypt with AES-256-GCM");
  int final_written = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), bytes + written, &final_written) != 1)
    openssl_failed("finish AES-256-GCM");
  auto size = static_cast<std::size_t>(written + final_written); // GCM is a stream mode: equal to the plaintext's
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, gcm_tag_size, bytes + size) != 1)
    openssl_failed("read the AES-256-GCM tag");
  out.resize(size + gcm_tag_size);
  return out;
}

std::optional<std::string> aes256_gcm_open(std::string_view key, std::string_view nonce, std::string_view aad,
                                           std::string_view sealed) {
  check_gcm_arguments(key, nonce, aad, sealed);
  if (sealed.size() < gcm_tag_size)
    return std::nullopt;
  auto ciphertext = sealed.substr(0, sealed.size() - gcm_tag_size);
  std::string tag{sealed.substr(ciphertext.size())};
  auto ctx = start_gcm(false, key, nonce, aad);
  std::string out(ciphertext.size(), '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  int written = 0;
  if (!ciphertext.empty()
      && EVP_DecryptUpdate(ctx.get(), bytes, &written, as_bytes(ciphertext), static_cast<int>(ciphertext.size())) != 1)
    openssl_failed("decrypt with AES-256-GCM");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, gcm_tag_size, tag.data()) != 1)
    openssl_failed("set the AES-256-GCM tag");
  int final_written = 0;
  // Only here is the tag checked: the bytes decrypted so far are dropped unless it matches.
  if (EVP_DecryptFinal_ex(ctx.get(), bytes + written, &final_written) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(written + final_written));
  return out;
}

} // namespace feedrouter
