#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/duration_histogram.hpp"
#include "core/registration.hpp"
#include "core/retry_policy.hpp"

namespace feedrouter {

/// The values of the `feed` label. A kind not listed counts as "other", so that the label has a fixed set of values
/// (a new feed kind is added here).
inline constexpr std::array<std::string_view, 9> metric_feed_kinds = {
  "alarm", "webhook", "github", "poll", "changes", "kafka", "mqtt", "redis-stream", "other"};

/// What happened to events of a registration, counted per feed kind.
enum class event_outcome {
  accepted,      ///< taken into a registration's care: from its source, its schedule or a webhook request
  fired,         ///< part of a fire the controller answered with 2xx
  dead_lettered, ///< moved to dead letters
};

/// Why an event that reached the provider was not accepted.
enum class drop_reason {
  filtered,   ///< a webhook event whose kind the registration's `events` does not list (answered 202, ignored)
  overloaded, ///< the registration holds max-buffered-events already (answered 429)
  inactive,   ///< the registration is paused or disabled (answered 503)
  duplicate,  ///< a webhook delivery whose id the registration took already (answered 202, ignored)
};

/// What an operator did to a registration through the admin routes.
enum class admin_action {
  disable, ///< disabled it with reason ADMIN
  enable,  ///< made it active again
};

/// Process-wide counters for /metrics.
///
/// Plain atomics rather than a metrics actor: the per-fire path only increments a counter, instead of paying one
/// more message per event. Labels have fixed sets of values (feed kind, state, outcome); nothing is labelled per
/// registration, so the exposition stays the same size with 10 or 100 000 registrations.
class metrics {
public:
  /// Upper bounds of the fire duration histogram buckets, in microseconds.
  static constexpr std::array<std::int64_t, 10> fire_bounds_us
    = {1'000, 2'000, 5'000, 10'000, 20'000, 50'000, 100'000, 250'000, 1'000'000, 10'000'000};

  /// Upper bounds of the store commit duration histogram buckets, in microseconds.
  static constexpr std::array<std::int64_t, 12> commit_bounds_us
    = {100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 1'000'000};

  // -- fires --------------------------------------------------------------------

  /// Counts a fire request about to be handed to the HTTP client, unless stop_fires() was called: returns whether the
  /// fire may go. fire_finished() uncounts it when its completion runs.
  bool try_start_fire() {
    // One atomic for the count and the stop, so that no fire is counted after a shutdown saw the count reach zero.
    auto now = fires_in_flight_.load(std::memory_order_relaxed);
    do {
      if ((now & fires_stopped) != 0)
        return false;
    } while (!fires_in_flight_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
    return true;
  }

  void fire_finished() {
    fires_in_flight_.fetch_sub(1, std::memory_order_relaxed);
  }

  /// Lets no further fire start (SIGTERM): from then on fires_in_flight() only falls, so a shutdown waiting for it to
  /// reach zero waits for the fires already on the wire, not for a backlog that would keep the registrations firing.
  void stop_fires() {
    fires_in_flight_.fetch_or(fires_stopped, std::memory_order_relaxed);
  }

  /// Returns how many fire requests are on the wire now.
  std::int64_t fires_in_flight() const {
    return fires_in_flight_.load(std::memory_order_relaxed) & ~fires_stopped;
  }

  /// Records a finished fire attempt: its verdict and how long it took from send to answer.
  void record_fire(fire_verdict verdict, std::chrono::microseconds took);

  // -- events and registrations ---------------------------------------------------------

  /// Counts `n` events of a registration of feed kind `feed` that had `outcome`.
  void count_events(event_outcome outcome, std::string_view feed, std::size_t n = 1);

  /// Counts an event of feed kind `feed` that was not accepted, and why.
  void count_dropped(drop_reason reason, std::string_view feed);

  /// Records that a registration of feed kind `feed` moved from state `from` to `to` (nullopt: it did not exist / no
  /// longer exists).
  void record_state_change(std::string_view feed, std::optional<registration_state> from,
                           std::optional<registration_state> to);

  /// Returns the number of registrations running, in any state and of any feed kind.
  std::int64_t registrations() const;

  /// Counts a registration of feed kind `feed` the provider disabled (reason AUTO) because the controller or its
  /// source refused it, a child crashed too often, its trigger actor failed, or a start found its stored parameters
  /// invalid or its secrets unreadable; a schedule that ended is not counted.
  void count_auto_disable(std::string_view feed);

  /// Counts an operator's `action` on a registration.
  void count_admin_action(admin_action action) {
    admin_actions_[static_cast<std::size_t>(action)].fetch_add(1, std::memory_order_relaxed);
  }

  /// Records what a source of feed kind `feed` reported about itself: a failure, or that it works (again).
  /// `was_failing` is whether its previous report was a failure: a report of working after one counts a reconnect.
  void record_source_report(std::string_view feed, bool was_failing, bool failing);

  // -- the store and the API ----------------------------------------------------------

  /// Records one store commit (a transaction of the group commit): whether it succeeded and how long it took.
  void record_commit(bool ok, std::chrono::microseconds took);

  /// Counts one request to the control API.
  void record_api_request() {
    api_requests_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Returns the Prometheus text exposition (format 0.0.4) of every metric.
  std::string render() const;

  /// Returns the exposition of the gauge feedrouter_ready: 1 while /ready answers 200.
  static std::string render_ready(bool ready);

private:
  static constexpr std::size_t feed_count = metric_feed_kinds.size();
  static constexpr std::size_t state_count = 3;    ///< registration_state values
  static constexpr std::size_t verdict_count = 5;  ///< fire_verdict values
  static constexpr std::size_t outcome_count = 3;  ///< event_outcome values
  static constexpr std::size_t drop_count = 4;     ///< drop_reason values
  static constexpr std::size_t admin_action_count = 2; ///< admin_action values

  using counter = std::atomic<std::uint64_t>;
  template <std::size_t N>
  using per_feed = std::array<std::array<counter, N>, feed_count>;

  static std::size_t feed_index(std::string_view feed);

  std::array<counter, verdict_count> fires_{};
  /// The bit of fires_in_flight_ that stop_fires() sets, far above any count of fires on the wire.
  static constexpr std::int64_t fires_stopped = std::int64_t{1} << 62;
  std::atomic<std::int64_t> fires_in_flight_{0}; ///< fires on the wire, and fires_stopped once they may no longer start
  duration_histogram<fire_bounds_us.size()> fire_duration_{fire_bounds_us};
  per_feed<outcome_count> events_{};
  per_feed<drop_count> dropped_{};
  std::array<std::array<std::atomic<std::int64_t>, state_count>, feed_count> registrations_{};
  std::array<counter, feed_count> auto_disabled_{};
  std::array<counter, admin_action_count> admin_actions_{};
  std::array<counter, feed_count> source_errors_{};
  std::array<counter, feed_count> source_reconnects_{};
  duration_histogram<commit_bounds_us.size()> commit_duration_{commit_bounds_us};
  counter commit_failures_{0};
  counter api_requests_{0};
};

/// Runs `commit`, a store commit that returns its error text or nullopt, and records it in `stats` unless null.
template <class Commit>
auto timed_commit(metrics* stats, Commit&& commit) {
  using std::chrono::steady_clock;
  auto started = steady_clock::now();
  auto failure = commit();
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
  if (stats)
    stats->record_commit(!failure, took);
  return failure;
}

} // namespace feedrouter
