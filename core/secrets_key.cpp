#include "core/secrets_key.hpp"

#include <stdexcept>

#include <openssl/crypto.h>

#include "core/crypto.hpp"

namespace feedrouter {

namespace {

/// What a sealed value starts with: the format's version. A later format gets another prefix.
constexpr std::string_view sealed_prefix = "fr1.";

/// What a key file starts with; the base64 of the material follows.
constexpr std::string_view key_text_prefix = "feedrouter-secrets-v1:";

// Labels of the keys derived from the material (HMAC-SHA256 of the label under the material: a PRF, so the derived
// keys are independent of each other).
constexpr std::string_view encryption_label = "feedrouter/v1/seal";
constexpr std::string_view lookup_label = "feedrouter/v1/authkey-lookup";
constexpr std::string_view check_label = "feedrouter/v1/key-check";
constexpr std::string_view forwarding_label = "feedrouter/v1/forwarding";

/// Bytes of the check value that make the key id.
constexpr std::size_t id_bytes = 4;

std::string_view column_name(secret_column column) {
  switch (column) {
    case secret_column::params_json:
      return "params_json";
    case secret_column::auth_key:
      return "auth_key";
  }
  return "unknown";
}

/// Returns the additional authenticated data of a sealed value: its header, column and registration. The namespace
/// goes with its length, so that no two (namespace, name) pairs give the same bytes.
std::string additional_data(std::string_view header, const trigger_ref& owner, secret_column column) {
  std::string out{header};
  out += column_name(column);
  out += '\n';
  out += std::to_string(owner.ns.size());
  out += ':';
  out += owner.ns;
  out += '/';
  out += owner.name;
  return out;
}

} // namespace

secrets_key::secrets_key(std::string_view material) {
  if (material.size() != material_size)
    throw std::invalid_argument("a secrets key has 32 bytes of material");
  material_ = std::string{material};
  encryption_key_ = hmac_sha256(material, encryption_label);
  lookup_key_ = hmac_sha256(material, lookup_label);
  forwarding_key_ = hmac_sha256(material, forwarding_label);
  check_value_ = hmac_sha256_hex(material, check_label);
  id_ = check_value_.substr(0, 2 * id_bytes);
}

secrets_key::~secrets_key() {
  for (auto* secret : {&material_, &encryption_key_, &lookup_key_, &forwarding_key_})
    OPENSSL_cleanse(secret->data(), secret->size());
}

secrets_key secrets_key::generate() {
  auto material = random_bytes(material_size);
  secrets_key result{material};
  OPENSSL_cleanse(material.data(), material.size());
  return result;
}

std::optional<secrets_key> secrets_key::parse(std::string_view text) {
  if (!text.empty() && text.back() == '\n')
    text.remove_suffix(1);
  if (!text.empty() && text.back() == '\r')
    text.remove_suffix(1);
  if (text.substr(0, key_text_prefix.size()) != key_text_prefix)
    return std::nullopt;
  auto material = base64_decode(text.substr(key_text_prefix.size()));
  if (!material || material->size() != material_size)
    return std::nullopt;
  secrets_key result{*material};
  OPENSSL_cleanse(material->data(), material->size());
  return std::optional<secrets_key>{std::move(result)};
}

std::string secrets_key::to_text() const {
  return std::string{key_text_prefix} + base64_encode(material_) + '\n';
}

std::string secrets_key::hash_auth_key(std::string_view auth_key) const {
  return hmac_sha256_hex(lookup_key_, auth_key);
}

std::string secrets_key::seal(std::string_view plaintext, const trigger_ref& owner, secret_column column) const {
  auto header = std::string{sealed_prefix} + id_ + '.';
  // Random nonces: a store seals a value per CREATE, UPDATE or rotation, far below the 2^32 values per key that
  // keep the chance of a repeated 96-bit nonce negligible.
  auto nonce = random_bytes(gcm_nonce_size);
  auto sealed = aes256_gcm_seal(encryption_key_, nonce, additional_data(header, owner, column), plaintext);
  return header + base64_encode(nonce + sealed);
}

std::optional<std::string> secrets_key::open(std::string_view sealed, const trigger_ref& owner,
                                             secret_column column) const {
  auto header = std::string{sealed_prefix} + id_ + '.';
  if (sealed.substr(0, header.size()) != header)
    return std::nullopt;
  auto bytes = base64_decode(sealed.substr(header.size()));
  if (!bytes || bytes->size() < gcm_nonce_size + gcm_tag_size)
    return std::nullopt;
  std::string_view view{*bytes};
  return aes256_gcm_open(encryption_key_, view.substr(0, gcm_nonce_size), additional_data(header, owner, column),
                         view.substr(gcm_nonce_size));
}

} // namespace feedrouter
