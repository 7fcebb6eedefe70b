#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/lease_book.hpp"
#include "core/shard.hpp"

namespace feedrouter {

/// Until when this instance may fire the registrations of each shard: the fire-path fence of a cluster
/// (docs/cluster.md). The lease manager opens a shard until the deadline of its lease and closes it when the lease is
/// lost or given away; the firers check it right before each attempt, so a process resumed after being frozen past its
/// deadline sends nothing, whatever its triggers still believe. Store writes are fenced by the store itself.
///
/// Thread-safe without locks: one atomic deadline per shard.
class fire_fence {
public:
  /// Every shard closed.
  fire_fence() noexcept;

  fire_fence(const fire_fence&) = delete;
  fire_fence& operator=(const fire_fence&) = delete;

  /// Lets `shard` fire until `deadline` (excluded).
  void open_until(std::uint32_t shard, mono_time deadline) noexcept;

  /// Lets `shard` fire no more.
  void close(std::uint32_t shard) noexcept;

  /// Returns whether the registrations of `shard` may fire at `now`.
  bool may_fire(std::uint32_t shard, mono_time now) const noexcept;

  /// Returns whether `shard` is open, its deadline passed or not: this instance holds its lease as far as it knows.
  bool holds(std::uint32_t shard) const noexcept;

  /// Returns how many shards are open.
  std::size_t open_count() const noexcept;

  /// Returns whether every open shard may fire at `now`: no lease this instance holds has passed its deadline.
  bool all_usable(mono_time now) const noexcept;

private:
  /// Nanoseconds of the deadline since the monotonic clock's epoch; `closed` when the shard may not fire.
  static constexpr std::int64_t closed = 0;

  std::array<std::atomic<std::int64_t>, shard_count> deadlines_;
};

} // namespace feedrouter
