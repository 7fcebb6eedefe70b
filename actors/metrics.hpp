#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/registration.hpp"

namespace feedrouter {

/// What an operator did to a registration through the admin routes.
enum class admin_action {
  disable, ///< disabled it with reason ADMIN
  enable,  ///< made it active again
};

/// Process-wide counters for /metrics.
///
/// Plain atomics rather than a metrics actor: the per-fire path only increments a counter, instead of paying one
/// more message per event.
class metrics {
public:
  /// Upper bounds of the fire latency histogram buckets, in milliseconds.
  static constexpr std::array<std::int64_t, 10> latency_bounds_ms = {1, 2, 5, 10, 20, 50, 100, 250, 1000, 10000};

  /// Counts a fire request handed to the HTTP client; fire_finished() uncounts it when its completion runs.
  void fire_started() {
    fires_in_flight_.fetch_add(1, std::memory_order_relaxed);
  }

  void fire_finished() {
    fires_in_flight_.fetch_sub(1, std::memory_order_relaxed);
  }

  /// Returns how many fire requests are on the wire now.
  std::int64_t fires_in_flight() const {
    return fires_in_flight_.load(std::memory_order_relaxed);
  }

  /// Records a finished fire and how long it took from send to answer.
  void record_fire(bool ok, std::chrono::microseconds took);

  /// Records that a registration moved from state `from` to `to` (nullopt: it did not exist / no longer exists).
  void record_state_change(std::optional<registration_state> from, std::optional<registration_state> to);

  /// Returns the number of registrations running, in any state.
  std::int64_t registrations() const;

  /// Counts an operator's `action` on a registration.
  void count_admin_action(admin_action action) {
    admin_actions_[static_cast<std::size_t>(action)].fetch_add(1, std::memory_order_relaxed);
  }

  /// Counts one request to the control API.
  void record_api_request() {
    api_requests_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Returns the Prometheus text exposition of every metric.
  std::string render() const;

private:
  std::atomic<std::uint64_t> fires_ok_{0};
  std::atomic<std::uint64_t> fires_failed_{0};
  std::atomic<std::uint64_t> api_requests_{0};
  std::atomic<std::int64_t> fires_in_flight_{0};
  std::array<std::atomic<std::uint64_t>, latency_bounds_ms.size() + 1> latency_buckets_{};
  std::atomic<std::uint64_t> latency_sum_us_{0};
  std::array<std::atomic<std::int64_t>, 3> registrations_{}; ///< by registration_state
  std::array<std::atomic<std::uint64_t>, 2> admin_actions_{}; ///< by admin_action
};

} // namespace feedrouter
