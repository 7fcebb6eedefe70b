#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace feedrouter {

/// Appends `us` microseconds as seconds in exact decimal ("0.001", "0.0025", "10"): bucket bounds and sums are
/// integers of microseconds, so the exposition never shows a bound a float rounded.
void append_seconds(std::string& out, std::int64_t us);

/// A Prometheus histogram of durations with fixed upper bounds in microseconds, counted lock-free.
///
/// A duration goes into the first bucket whose bound it does not exceed: `le` is inclusive, as Prometheus defines it,
/// and compared in whole microseconds, so a fire of exactly 1.000 ms is counted in le="0.001".
template <std::size_t N>
class duration_histogram {
public:
  explicit constexpr duration_histogram(const std::array<std::int64_t, N>& bounds_us) : bounds_us_(bounds_us) {}

  /// Counts one duration.
  void observe(std::chrono::microseconds took) {
    auto us = took.count() < 0 ? 0 : took.count();
    std::size_t bucket = 0;
    while (bucket < N && us > bounds_us_[bucket])
      ++bucket;
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(static_cast<std::uint64_t>(us), std::memory_order_relaxed);
  }

  /// Appends the samples of the histogram `name` (its HELP and TYPE lines are the caller's).
  void render(std::string& out, std::string_view name) const {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= N; ++i) {
      cumulative += buckets_[i].load(std::memory_order_relaxed);
      out.append(name).append("_bucket{le=\"");
      if (i < N)
        append_seconds(out, bounds_us_[i]);
      else
        out += "+Inf";
      out.append("\"} ").append(std::to_string(cumulative)) += '\n';
    }
    out.append(name).append("_sum ");
    append_seconds(out, static_cast<std::int64_t>(sum_us_.load(std::memory_order_relaxed)));
    out += '\n';
    out.append(name).append("_count ").append(std::to_string(cumulative)) += '\n';
  }

private:
  std::array<std::int64_t, N> bounds_us_;
  std::array<std::atomic<std::uint64_t>, N + 1> buckets_{}; ///< the last one: above every bound (+Inf)
  std::atomic<std::uint64_t> sum_us_{0};
};

} // namespace feedrouter
