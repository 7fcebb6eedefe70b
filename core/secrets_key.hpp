#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/trigger_ref.hpp"

namespace feedrouter {

/// The stored values of a registration that are kept sealed. Each sealed value is bound to its column and its
/// registration, so that a value copied into another column or row does not open.
enum class secret_column {
  params_json, ///< every feed parameter: webhook secrets, passwords, tenant headers, URLs, and whatever comes next
  auth_key,    ///< the owner's authKey
};

/// The key that protects a store's secrets at rest: it seals values with AES-256-GCM and keys the lookup hash of
/// authKeys with HMAC-SHA256. Both working keys are derived from one 256-bit secret, the content of the key file.
///
/// A sealed value is text: "fr1.", the key id, ".", then base64 of a random 96-bit nonce, the ciphertext and the
/// 128-bit tag. The tag covers the "fr1.ID." prefix, the column and the registration's namespace and name.
/// Immutable and safe to share between threads.
class secrets_key {
public:
  // -- constants --------------------------------------------------------------

  /// Bytes of secret material a key is made of.
  static constexpr std::size_t material_size = 32;

  // -- constructors, destructors, and assignment operators --------------------

  /// Derives the key from `material_size` bytes of `material`; throws std::invalid_argument for another length.
  explicit secrets_key(std::string_view material);

  /// Overwrites the key material before the memory is released.
  ~secrets_key();

  secrets_key(secrets_key&&) = default;
  secrets_key& operator=(secrets_key&&) = default;
  secrets_key(const secrets_key&) = delete;
  secrets_key& operator=(const secrets_key&) = delete;

  /// Returns a new key from the system's CSPRNG.
  static secrets_key generate();

  /// Reads the text of a key file: "feedrouter-secrets-v1:" and the base64 of the material, an optional line end
  /// after it. Returns nullopt for anything else.
  static std::optional<secrets_key> parse(std::string_view text);

  // -- properties -------------------------------------------------------------

  /// Returns the text of a key file holding this key, ending in a newline.
  std::string to_text() const;

  /// Returns 8 hex digits naming the key; not secret (it appears in sealed values, logs and backup file names).
  const std::string& id() const noexcept {
    return id_;
  }

  /// Returns 64 hex digits a store keeps to tell whether it is opened with the key it was sealed with; reveals
  /// nothing about the key (an HMAC of a fixed label).
  const std::string& check_value() const noexcept {
    return check_value_;
  }

  // -- sealing ----------------------------------------------------------------

  /// Returns the key the instances of a cluster authenticate requests they forward to each other with (HMAC-SHA256),
  /// derived from this key: every instance sharing the store has it, nobody else does.
  const std::string& forwarding_key() const noexcept {
    return forwarding_key_;
  }

  /// Returns the lookup hash a store keeps of `auth_key`: hex HMAC-SHA256 under the key's lookup key, so that a stolen
  /// store cannot be searched with guessed keys, nor compared with another store's.
  std::string hash_auth_key(std::string_view auth_key) const;

  /// Returns `plaintext` sealed as `column` of `owner`'s registration, under a fresh random nonce.
  std::string seal(std::string_view plaintext, const trigger_ref& owner, secret_column column) const;

  /// Returns the plaintext of a value seal() made for the same `owner` and `column` with this key; nullopt for
  /// anything else (another key, row or column, altered bytes, or text that is not a sealed value).
  std::optional<std::string> open(std::string_view sealed, const trigger_ref& owner, secret_column column) const;

private:
  std::string encryption_key_;
  std::string lookup_key_;
  std::string forwarding_key_;
  std::string material_;
  std::string check_value_;
  std::string id_;
};

} // namespace feedrouter
