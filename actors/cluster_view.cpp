#include "actors/cluster_view.hpp"

namespace feedrouter {

void cluster_view::set_owners(const std::vector<holding>& holdings, mono_time read_at) {
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& x : owners_)
    x = entry{};
  for (const auto& x : holdings)
    if (x.shard < shard_count && !x.holder.id.empty() && x.remaining.count() > 0)
      owners_[x.shard] = entry{x.holder, read_at + x.remaining};
}

std::optional<cluster_view::owner> cluster_view::owner_of(std::uint32_t shard, mono_time now) const {
  if (shard >= shard_count)
    return std::nullopt;
  std::lock_guard<std::mutex> guard{mutex_};
  const auto& x = owners_[shard];
  if (x.holder.id.empty() || x.valid_until <= now)
    return std::nullopt;
  return x.holder;
}

} // namespace feedrouter
