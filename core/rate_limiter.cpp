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
  interval_ = to_clock(1.0 / rate_per_second);
  tolerance_ = to_clock((burst - 1.0) / rate_per_second);
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
  // The token is due once the bucket runs no more than `tolerance_` ahead of the clock.
  const auto due = std::max(now, full_at - tolerance_);
  full_at = std::max(full_at, now) + interval_;
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
