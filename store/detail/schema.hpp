#pragma once

// What every store's schema shares, whatever its SQL dialect: the version numbers and the meta rows.

#include <string_view>

namespace feedrouter::detail {

/// The schema version this build creates and reads. Every store numbers its migration steps alike, one step per
/// version, each written in the store's own SQL dialect with the same logical tables and columns; each store checks
/// with a static_assert that its list ends here.
constexpr int schema_version = 5;

/// The first version whose secrets are sealed (meta rows key_check and key_id).
constexpr int sealed_since_version = 3;

/// The first version whose registrations carry their shard (meta row shard_count).
constexpr int sharded_since_version = 4;

static_assert(sealed_since_version <= schema_version && sharded_since_version <= schema_version,
              "sealing and sharding are steps of the migrations");

/// The meta row holding the check value of the key the store is sealed with (secrets_key::check_value()).
constexpr std::string_view key_check_meta = "key_check";

/// The meta row holding that key's id, so that an error can name it.
constexpr std::string_view key_id_meta = "key_id";

/// The meta row holding the shard count the registrations' shard column was computed with (core/shard.hpp).
constexpr std::string_view shard_count_meta = "shard_count";

} // namespace feedrouter::detail
