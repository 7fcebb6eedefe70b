#include "core/lease_keeper.hpp"

#include <algorithm>
#include <utility>

#include "core/shard.hpp"

namespace feedrouter {

lease_keeper::lease_keeper(std::string self_id, lease_timing timing, mono_clock clock)
  : self_id_(std::move(self_id)), clock_(std::move(clock)), book_(timing) {
  // nop
}

// -- renewal and self-fencing ----------------------------------------------------------

renewal_ticket lease_keeper::start_renewal() const {
  return {book_.leases(), clock_()};
}

renewal_effects lease_keeper::finish_renewal(const renewal_ticket& ticket,
                                             const std::vector<shard_lease_ref>& still_held) {
  // A lease acquired after the renewal was sent is not in its answer, and not lost for that: it counts as renewed,
  // which leaves its later deadline as it is (a renewal never shortens one).
  auto answer = still_held;
  for (const auto& lease : book_.leases())
    if (std::find(ticket.leases.begin(), ticket.leases.end(), lease) == ticket.leases.end())
      answer.push_back(lease);
  auto outcome = book_.renewed(answer, ticket.sent);
  renewal_effects result;
  for (const auto& lease : still_held)
    if (auto deadline = book_.deadline_of(lease.shard); deadline && book_.holds(lease.shard))
      result.renewed.push_back({lease, *deadline});
  result.lost = std::move(outcome.lost);
  result.orphaned = std::move(outcome.orphaned);
  return result;
}

std::vector<shard_lease_ref> lease_keeper::expire() {
  return book_.expire(clock_());
}

std::optional<mono_time> lease_keeper::next_deadline() const {
  return book_.next_deadline();
}

// -- balancing ---------------------------------------------------------------------------

balance_plan lease_keeper::balance(const lease_picture& picture) {
  balance_plan plan;
  if (leaving_)
    return plan;
  bool counted_self = false;
  for (const auto& instance : picture.instances) {
    // This instance is live even when its own heartbeat did not reach the server.
    if (instance.heartbeat_age >= timing().ttl && instance.id != self_id_)
      continue;
    ++plan.live;
    counted_self = counted_self || instance.id == self_id_;
  }
  if (!counted_self)
    ++plan.live;
  std::size_t available = 0;
  for (const auto& shard : picture.shards) {
    if (shard.owner.empty() || shard.remaining.count() <= 0)
      ++available;
    else if (shard.owner == self_id_ && !book_.holds(shard.shard))
      plan.orphans.push_back({shard.shard, shard.epoch});
    else if (shard.owner != self_id_ && shard.remaining < timing().renew_interval())
      plan.expiry_elsewhere = std::min(plan.expiry_elsewhere.value_or(shard.remaining), shard.remaining);
  }
  auto share = plan_share(shard_count, plan.live, book_.holding(), available);
  if (share.acquire > 0) {
    plan.acquire = share.acquire;
  } else if (share.release > 0 && releasing_ == 0) {
    for (auto shard : book_.pick_release(share.release))
      if (auto lease = book_.begin_release(shard))
        plan.give_away.push_back(*lease);
    releasing_ += plan.give_away.size();
  }
  return plan;
}

acquisition_ticket lease_keeper::start_acquisition(std::size_t count) const {
  return {count, clock_()};
}

acquisition_effects lease_keeper::finish_acquisition(const acquisition_ticket& ticket,
                                                     const std::vector<acquired_lease>& taken) {
  std::vector<shard_lease_ref> leases;
  acquisition_effects result;
  for (const auto& x : taken) {
    leases.push_back(x.lease);
    result.takeovers += x.taken_over ? 1 : 0;
  }
  book_.acquired(leases, ticket.sent);
  for (const auto& lease : leases)
    result.gained.push_back({lease, *book_.deadline_of(lease.shard)});
  return result;
}

std::vector<shard_lease_ref> lease_keeper::finish_release(const std::vector<shard_lease_ref>& leases) {
  std::vector<shard_lease_ref> released;
  for (const auto& lease : leases)
    if (auto held = book_.finish_release(lease))
      released.push_back(*held);
  releasing_ -= std::min(releasing_, leases.size());
  return released;
}

// -- leaving -------------------------------------------------------------------------------

std::vector<shard_lease_ref> lease_keeper::leave() {
  leaving_ = true;
  std::vector<shard_lease_ref> result;
  for (auto shard : book_.pick_release(shard_count))
    if (auto lease = book_.begin_release(shard))
      result.push_back(*lease);
  releasing_ += result.size();
  return result;
}

bool lease_keeper::left() const noexcept {
  return leaving_ && releasing_ == 0 && book_.size() == 0;
}

} // namespace feedrouter
