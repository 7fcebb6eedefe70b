#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace feedrouter {

/// Spaces out fires per key (an OpenWhisk namespace) with a token bucket, for `--namespace-fire-rate N/s`.
///
/// Each key owns a bucket of `burst` tokens refilled at `rate_per_second`. A caller reserves a token before each send
/// and waits as long as it is told; a reservation made while the bucket is empty is not refused but queued behind the
/// earlier ones, so N callers at the same instant are spaced 1/rate apart, in the order they reserved.
///
/// The bucket is kept as its "theoretical arrival time" (the generic cell rate algorithm): the instant at which it
/// would be full again. That is one time point per key, updated in integer clock ticks, so long runs do not drift.
///
/// In a cluster each instance gets a share of each namespace's rate and burst (set_shares(): the part of the
/// namespace's registrations it runs, docs/cluster.md), so that the instances' rates add up to the namespace's.
///
/// One limiter is shared by all firers, so it is guarded by a mutex. A lock is acceptable here, unlike inside actor
/// behaviors: it is held for a map lookup and a few additions (nanoseconds), no I/O happens under it (only a new key
/// allocates), and callers never wait while holding it - they receive the delay and wait on their own timer.
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  // -- constants ---------------------------------------------------------------------

  /// Smallest accepted rate: one fire per day. Slower limits are almost certainly a mistake in the unit.
  static constexpr double min_rate_per_second = 1.0 / 86'400.0;

  /// Largest accepted rate; beyond it the interval between tokens would fall below a microsecond.
  static constexpr double max_rate_per_second = 1'000'000.0;

  /// Largest accepted burst, so that `burst / rate` cannot overflow the clock.
  static constexpr double max_burst = 1'000'000.0;

  /// Keys tracked before the first sweep for idle keys; later sweeps run when the map doubled since the last one.
  static constexpr std::size_t sweep_threshold = 1'024;

  // -- constructors ------------------------------------------------------------------

  /// Creates a limiter allowing `rate_per_second` sends per key on average and `burst` at once.
  /// Throws std::invalid_argument unless the rate lies in [min_rate_per_second, max_rate_per_second] and the burst
  /// in [1, max_burst]: the values come from the command line and are checked once, at start-up.
  rate_limiter(double rate_per_second, double burst);

  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  // -- reservations ------------------------------------------------------------------

  /// Takes one token of `key`'s bucket and returns how long the caller must wait before sending: zero when a token
  /// was available, otherwise the time until its reserved token is due (rounded up to whole milliseconds). `now` is
  /// read by the caller from its monotonic clock; the firer passes its actor clock, so that simulated time in tests
  /// reaches the limiter.
  std::chrono::milliseconds reserve(std::string_view key, clock::time_point now);

  // -- shares in a cluster --------------------------------------------------------------

  /// Key -> the part of the rate (and of the burst) it gets, in (0, 1].
  using share_map = std::map<std::string, double, std::less<>>;

  /// Gives each key of `shares` that part of the rate and of the burst (at least one token, and at least
  /// min_rate_per_second; a share outside (0, 1] counts as 1); every other key gets all of it. Replaces the shares set
  /// before; a bucket's state stays, so a key whose share changes goes on from where it was.
  void set_shares(const share_map& shares);

  /// Returns the part of the rate `key` gets.
  double share_of(std::string_view key) const;

  // -- memory --------------------------------------------------------------------------

  /// Forgets every key whose bucket is full again at `now`; a forgotten key behaves exactly like a new one.
  /// `reserve` calls this on its own whenever the number of keys doubled since the last sweep, which bounds memory by
  /// about twice the number of keys whose buckets are not full (and at least `sweep_threshold` keys).
  void prune(clock::time_point now);

  /// Returns the number of keys currently tracked.
  std::size_t tracked_keys() const;

private:
  void prune_locked(clock::time_point now);

  /// How a bucket refills: the whole rate, or a key's share of it.
  struct pace {
    clock::duration interval;  ///< time to refill one token
    clock::duration tolerance; ///< (burst - 1) * interval: how far ahead of `now` a bucket may run before callers wait
    double share = 1.0;
  };

  /// Returns the pace of `share` of the rate.
  pace pace_of(double share) const;

  double rate_;
  double burst_;
  pace whole_;
  mutable std::mutex mtx_;
  /// The keys with a share of their own, and their paces.
  std::map<std::string, pace, std::less<>> paces_;
  /// The instant each key's bucket is full again; std::less<> allows lookup by string_view without allocating.
  std::map<std::string, clock::time_point, std::less<>> full_at_;
  std::size_t next_sweep_ = sweep_threshold;
};

} // namespace feedrouter
