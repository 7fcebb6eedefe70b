#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
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

/// Random bytes a hook id is drawn from: 128 bits, of which make_hook_id() fixes 8 (the shard), so a hook URL
/// cannot be guessed.
constexpr std::size_t hook_id_bytes = 16;

/// Returns the shard a webhook request for `hook_id` is routed to: fnv1a64("hook/" + hook_id) mod shard_count. Any
/// instance of a cluster finds the owner of a hook from its URL alone (docs/cluster.md).
std::uint32_t hook_shard(std::string_view hook_id);

/// Returns a new random hook id (32 hex digits) for `trigger` whose hook_shard() is shard_of(trigger).
std::string make_hook_id(const trigger_ref& trigger);

} // namespace feedrouter
