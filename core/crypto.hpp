#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter {

// Cryptographic primitives on OpenSSL: digests, MACs, authenticated encryption, constant-time comparison, base64,
// random bytes.

/// Returns the lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Returns the 32-byte HMAC-SHA256 of `data` under `key`. Throws std::runtime_error only if OpenSSL itself fails.
std::string hmac_sha256(std::string_view key, std::string_view data);

/// Returns the lower-case hex HMAC-SHA256 of `data` under `key`. Throws std::runtime_error only if OpenSSL itself
/// fails (out of memory).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Compares in time that depends only on the lengths, so a caller cannot learn a stored hash byte by byte.
bool constant_time_equal(std::string_view x, std::string_view y);

std::string base64_encode(std::string_view data);

/// Decodes standard base64 with padding; returns nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view text);

/// Returns `bytes` random bytes from a CSPRNG. Throws std::runtime_error when the generator fails.
std::string random_bytes(std::size_t bytes);

/// Returns `bytes` random bytes from a CSPRNG as lower-case hex.
std::string random_hex(std::size_t bytes);

// -- AES-256-GCM ----------------------------------------------------------------

/// Bytes of an AES-256 key.
constexpr std::size_t aes256_key_size = 32;

/// Bytes of a GCM nonce: 96 bits, the size GCM is defined for without hashing the nonce.
constexpr std::size_t gcm_nonce_size = 12;

/// Bytes of the GCM authentication tag appended to each ciphertext.
constexpr std::size_t gcm_tag_size = 16;

/// Encrypts `plaintext` with AES-256-GCM and returns the ciphertext followed by its tag, which also authenticates
/// `aad`. `key` must hold aes256_key_size bytes and `nonce` gcm_nonce_size bytes, and a nonce must never be used
/// twice with one key. Throws std::invalid_argument on wrong sizes, std::runtime_error if OpenSSL fails.
std::string aes256_gcm_seal(std::string_view key, std::string_view nonce, std::string_view aad,
                            std::string_view plaintext);

/// Decrypts what aes256_gcm_seal() returned; nullopt when the tag does not match (another key, nonce or `aad`, or
/// altered bytes), so nothing unauthenticated is ever returned. Throws as aes256_gcm_seal() does.
std::optional<std::string> aes256_gcm_open(std::string_view key, std::string_view nonce, std::string_view aad,
                                           std::string_view sealed);

} // namespace feedrouter
