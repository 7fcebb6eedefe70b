#include "core/fire_fence.hpp"

#include <algorithm>

namespace feedrouter {

namespace {

std::int64_t to_ns(mono_time t) noexcept {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  // A deadline at the clock's epoch itself would read as closed: one nanosecond later changes nothing.
  return std::max<std::int64_t>(ns, 1);
}

} // namespace

fire_fence::fire_fence() noexcept {
  for (auto& deadline : deadlines_)
    deadline.store(closed, std::memory_order_relaxed);
}

void fire_fence::open_until(std::uint32_t shard, mono_time deadline) noexcept {
  if (shard < shard_count)
    deadlines_[shard].store(to_ns(deadline), std::memory_order_release);
}

void fire_fence::close(std::uint32_t shard) noexcept {
  if (shard < shard_count)
    deadlines_[shard].store(closed, std::memory_order_release);
}

bool fire_fence::may_fire(std::uint32_t shard, mono_time now) const noexcept {
  if (shard >= shard_count)
    return false;
  auto deadline = deadlines_[shard].load(std::memory_order_acquire);
  return deadline != closed && to_ns(now) < deadline;
}

bool fire_fence::holds(std::uint32_t shard) const noexcept {
  return shard < shard_count && deadlines_[shard].load(std::memory_order_acquire) != closed;
}

std::size_t fire_fence::open_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(deadlines_.begin(), deadlines_.end(), [](const auto& deadline) {
    return deadline.load(std::memory_order_acquire) != closed;
  }));
}

bool fire_fence::all_usable(mono_time now) const noexcept {
  auto at = to_ns(now);
  return std::all_of(deadlines_.begin(), deadlines_.end(), [at](const auto& deadline) {
    auto value = deadline.load(std::memory_order_acquire);
    return value == closed || at < value;
  });
}

} // namespace feedrouter
