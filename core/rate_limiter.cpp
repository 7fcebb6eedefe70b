#include "core/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace feedrouter {

namespace {

using std::chrono::duration;
using std::chrono::milliseconds;

rate_limiter::clock::duration to_clock(double secs) {
  return std::chrono::round<rate_limiter::clock::duration>(duration<double>{secs});
}

} // namespace

rate_limiter::rate_limiter(double rate_per_second, double burst) {
  // Written so that NaN fails each check.
  if (!(rate_per_second >= min_rate_per_second && rate_per_second <= max_rate_per_second))
    throw std::invalid_argument("the fire rate must lie between one per day and 1000000 per second");
  if (!(burst >= 1.0 && burst <= max_burst))
    throw std::invalid_argument("the burst must lie between 1 and 1000000");
  rate_ = rate_per_second;
  burst_ = burst;
  whole_ = pace_of(1.0);
}

rate_limiter::pace rate_limiter::pace_of(double share) const {
  if (!(share > 0.0 && share <= 1.0))
    share = 1.0;
  // Slower than the slowest rate accepted is not useful, and would let `interval` overflow the clock.
  auto rate = std::max(rate_ * share, min_rate_per_second);
  auto burst = std::max(1.0, burst_ * share);
  return {to_clock(1.0 / rate), to_clock((burst - 1.0) / rate), share};
}

void rate_limiter::set_shares(const share_map& shares) {
  std::map<std::string, pace, std::less<>> paces;
  for (const auto& [key, share] : shares)
    paces.emplace(key, pace_of(share));
  std::lock_guard<std::mutex> guard{mtx_};
  paces_.swap(paces);
}

double rate_limiter::share_of(std::string_view key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = paces_.find(key);
  return i == paces_.end() ? 1.0 : i->second.share;
}

milliseconds rate_limiter::reserve(std::string_view key, clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = full_at_.find(key);
  if (i == full_at_.end()) {
    if (full_at_.size() >= next_sweep_)
      prune_locked(now);
    // A new key starts with a full bucket.
    i = full_at_.emplace(std::string{key}, now).first;
  }
  auto& full_at = i->second;
  auto own = paces_.find(key);
  const auto& pace = own == paces_.end() ? whole_ : own->second;
  // The token is due once the bucket runs no more than `tolerance` ahead of the clock.
  const auto due = std::max(now, full_at - pace.tolerance);
  full_at = std::max(full_at, now) + pace.interval;
  return std::chrono::ceil<milliseconds>(due - now);
}

void rate_limiter::prune(clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  prune_locked(now);
}

std::size_t rate_limiter::tracked_keys() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return full_at_.size();
}

void rate_limiter::prune_locked(clock::time_point now) {
  for (auto i = full_at_.begin(); i != full_at_.end();) {
    if (i->second <= now)
      i = full_at_.erase(i);
    else
      ++i;
  }
  next_sweep_ = std::max(sweep_threshold, 2 * full_at_.size());
}

} // namespace feedrouter
