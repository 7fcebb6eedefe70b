#pragma once

// Which key a store opens with, the same for every store: the key file against the key the store records in meta.

#include <memory>
#include <optional>
#include <string>

#include "core/secrets_key.hpp"

namespace feedrouter::detail {

/// Which key a store is sealed with, as its meta rows record it (key_id_meta, key_check_meta).
struct sealing_key {
  std::string id;
  std::string check_value;
};

/// Returns the key store `store_name` opens with: the key in `file`, which must match `sealed_with` when the store is
/// sealed already; a new key written to `file` when that does not exist and the store is not sealed yet; a key of
/// the store's own when `file` is empty (an in-memory store, which nothing outlives). Throws store_open_error
/// naming the file and both keys when they do not match, or when the store is sealed and the file is missing.
std::shared_ptr<const secrets_key> load_store_key(const std::string& file,
                                                  const std::optional<sealing_key>& sealed_with,
                                                  const std::string& store_name);

} // namespace feedrouter::detail
