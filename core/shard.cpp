#include "core/shard.hpp"

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

} // namespace feedrouter
