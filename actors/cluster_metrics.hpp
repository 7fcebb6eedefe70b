#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace feedrouter {

/// The cluster's counters for /metrics (docs/cluster.md), kept apart from the process-wide ones: written by the lease
/// manager and the control API, rendered after them. Plain atomics, like metrics.
class cluster_metrics {
public:
  /// Sets how many shard leases this instance holds.
  void set_shards_held(std::int64_t n) noexcept {
    shards_held_.store(n, std::memory_order_relaxed);
  }

  /// Counts `n` leases renewed.
  void record_renewals(std::uint64_t n) noexcept {
    renewals_.fetch_add(n, std::memory_order_relaxed);
  }

  /// Counts `n` leases lost: not renewed in time, or found held by another instance.
  void record_losses(std::uint64_t n) noexcept {
    losses_.fetch_add(n, std::memory_order_relaxed);
  }

  /// Counts `n` leases taken over from an instance that let them expire.
  void record_takeovers(std::uint64_t n) noexcept {
    takeovers_.fetch_add(n, std::memory_order_relaxed);
  }

  /// Counts a request forwarded to the instance that runs its registration.
  void record_forward() noexcept {
    forwards_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Returns the Prometheus text exposition of these metrics.
  std::string render() const;

private:
  std::atomic<std::int64_t> shards_held_{0};
  std::atomic<std::uint64_t> renewals_{0};
  std::atomic<std::uint64_t> losses_{0};
  std::atomic<std::uint64_t> takeovers_{0};
  std::atomic<std::uint64_t> forwards_{0};
};

} // namespace feedrouter
