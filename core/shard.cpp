#include "core/shard.hpp"

#include "core/crypto.hpp"

namespace feedrouter {

std::uint64_t fnv1a64(std::string_view text) {
  constexpr std::uint64_t offset_basis = 14695981039346656037ull;
  constexpr std::uint64_t prime = 1099511628211ull;
  auto hash = offset_basis;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= prime;
  }
  return hash;
}

std::uint32_t shard_of(const trigger_ref& trigger) {
  return static_cast<std::uint32_t>(fnv1a64(trigger.key()) % shard_count);
}

std::uint32_t hook_shard(std::string_view hook_id) {
  std::string text{"hook/"};
  text += hook_id;
  return static_cast<std::uint32_t>(fnv1a64(text) % shard_count);
}

std::string make_hook_id(const trigger_ref& trigger) {
  // One draw in shard_count fits; the expected 256 draws of 16 random bytes cost well under a millisecond.
  auto shard = shard_of(trigger);
  for (;;) {
    auto id = random_hex(hook_id_bytes);
    if (hook_shard(id) == shard)
      return id;
  }
}

} // namespace feedrouter
