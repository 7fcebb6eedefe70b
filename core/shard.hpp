#pragma once

#include <cstdint>
#include <string_view>

#include "core/trigger_ref.hpp"

namespace feedrouter {

/// How many shards registrations are spread over. Every store records it (meta row `shard_count`) and refuses to be
/// opened by a build with another count: the shard of a stored registration would mean something else.
constexpr std::uint32_t shard_count = 256;

/// Returns the 64-bit FNV-1a hash of `text`: unlike std::hash, the same on every build and platform.
std::uint64_t fnv1a64(std::string_view text);

/// Returns the shard `trigger` belongs to: fnv1a64("ns/name") mod shard_count.
std::uint32_t shard_of(const trigger_ref& trigger);

} // namespace feedrouter
