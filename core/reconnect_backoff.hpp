#pragma once

#include <chrono>
#include <random>

namespace feedrouter {

/// How a source (changes, kafka, mqtt, redis-stream) waits before it connects again after a failure: full-jitter
/// exponential back-off like a fire's retries, from 1 s up to 30 s, and without a limit on attempts, since a
/// database or broker may be down for a day and the feed must come back. A success resets it.
class reconnect_backoff {
public:
  /// The delay the first failure's wait is drawn below, and the one a source waits for a quick retry.
  static constexpr std::chrono::milliseconds first_delay{1'000};

  /// Counts one more failure in a row and returns how long to wait before the next attempt.
  std::chrono::milliseconds after_failure();

  /// A connection or read succeeded: the next failure starts from first_delay again.
  void reset() noexcept {
    failures_ = 0;
  }

private:
  int failures_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
};

} // namespace feedrouter
