#include "core/lease_book.hpp"

#include <algorithm>

namespace feedrouter {

std::size_t fair_share(std::size_t shards, std::size_t live) {
  // This instance is live even when its own heartbeat did not reach the server.
  live = std::max<std::size_t>(live, 1);
  return (shards + live - 1) / live;
}

share_plan plan_share(std::size_t shards, std::size_t live, std::size_t held, std::size_t available) {
  auto share = fair_share(shards, live);
  share_plan plan;
  if (held > share)
    plan.release = held - share;
  else
    plan.acquire = std::min(share - held, available);
  return plan;
}

lease_book::lease_book(lease_timing timing) : timing_(timing) {
  // nop
}

void lease_book::acquired(const std::vector<shard_lease_ref>& leases, mono_time sent) {
  for (const auto& lease : leases)
    leases_[lease.shard] = entry{lease.epoch, sent + timing_.usable_for(), false};
}

renewal_outcome lease_book::renewed(const std::vector<shard_lease_ref>& still_held, mono_time sent) {
  renewal_outcome result;
  auto deadline = sent + timing_.usable_for();
  std::map<std::uint32_t, std::int64_t> answer;
  for (const auto& lease : still_held)
    answer.emplace(lease.shard, lease.epoch);
  for (auto i = leases_.begin(); i != leases_.end();) {
    auto renewed = answer.find(i->first);
    if (renewed == answer.end() || renewed->second != i->second.epoch) {
      result.lost.push_back({i->first, i->second.epoch});
      i = leases_.erase(i);
      continue;
    }
    // A renewal that took longer than the one before it must not shorten the deadline.
    i->second.deadline = std::max(i->second.deadline, deadline);
    answer.erase(renewed);
    ++i;
  }
  for (const auto& [shard, epoch] : answer)
    result.orphaned.push_back({shard, epoch});
  return result;
}

std::vector<shard_lease_ref> lease_book::expire(mono_time now) {
  std::vector<shard_lease_ref> result;
  for (auto i = leases_.begin(); i != leases_.end();) {
    if (i->second.deadline > now) {
      ++i;
      continue;
    }
    result.push_back({i->first, i->second.epoch});
    i = leases_.erase(i);
  }
  return result;
}

std::optional<shard_lease_ref> lease_book::begin_release(std::uint32_t shard) {
  auto i = leases_.find(shard);
  if (i == leases_.end() || i->second.releasing)
    return std::nullopt;
  i->second.releasing = true;
  return shard_lease_ref{shard, i->second.epoch};
}

std::optional<shard_lease_ref> lease_book::finish_release(const shard_lease_ref& lease) {
  auto i = leases_.find(lease.shard);
  if (i == leases_.end() || i->second.epoch != lease.epoch)
    return std::nullopt;
  leases_.erase(i);
  return lease;
}

std::vector<shard_lease_ref> lease_book::leases() const {
  std::vector<shard_lease_ref> result;
  result.reserve(leases_.size());
  for (const auto& [shard, lease] : leases_)
    result.push_back({shard, lease.epoch});
  return result;
}

std::size_t lease_book::holding() const noexcept {
  return static_cast<std::size_t>(
    std::count_if(leases_.begin(), leases_.end(), [](const auto& x) { return !x.second.releasing; }));
}

bool lease_book::holds(std::uint32_t shard) const noexcept {
  return leases_.count(shard) > 0;
}

std::optional<mono_time> lease_book::deadline_of(std::uint32_t shard) const noexcept {
  auto i = leases_.find(shard);
  if (i == leases_.end())
    return std::nullopt;
  return i->second.deadline;
}

std::optional<mono_time> lease_book::next_deadline() const noexcept {
  std::optional<mono_time> result;
  for (const auto& [shard, lease] : leases_)
    if (!result || lease.deadline < *result)
      result = lease.deadline;
  return result;
}

std::vector<std::uint32_t> lease_book::pick_release(std::size_t n) const {
  std::vector<std::uint32_t> result;
  for (auto i = leases_.rbegin(); i != leases_.rend() && result.size() < n; ++i)
    if (!i->second.releasing)
      result.push_back(i->first);
  return result;
}

} // namespace feedrouter
