#pragma once

#include <cstddef>
#include <string>

#include "store/store.hpp"

namespace feedrouter {

/// What rotate_secrets_key() did.
struct key_rotation {
  std::string key_file;     ///< holds the new key now
  std::string retired_file; ///< holds the old key, for the backups made before the rotation
  std::string old_id;
  std::string new_id;
  std::size_t resealed = 0; ///< registrations sealed under the new key
};

/// Seals every secret of the store `spec` under a new key (`feedrouter rotate-key`). The store must not be in use.
///
/// The new key goes to pending_key_file() first; then the store is sealed again in one transaction; then the old key
/// file is kept as retired_key_file() and the new one moved in its place. Stopped half-way, either the store still
/// uses the old key (and KEY_FILE.new is left over), or it uses the new one, which is in KEY_FILE.new until moved;
/// the error at the next start says so. Throws store_open_error when the store cannot be opened or sealed again.
key_rotation rotate_secrets_key(const std::string& spec, const store_options& opts);

} // namespace feedrouter
