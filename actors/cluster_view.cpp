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

void cluster_view::set_shards_starting(const std::vector<std::uint32_t>& shards) {
  std::lock_guard<std::mutex> guard{mutex_};
  starting_.fill(false);
  for (auto shard : shards)
    if (shard < shard_count)
      starting_[shard] = true;
  shards_starting_.store(shards.size());
}

bool cluster_view::shard_starting(std::uint32_t shard) const {
  if (shard >= shard_count)
    return false;
  std::lock_guard<std::mutex> guard{mutex_};
  return starting_[shard];
}

} // namespace feedrouter
