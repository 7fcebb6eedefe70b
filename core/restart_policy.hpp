#pragma once

#include <chrono>
#include <cstddef>
#include <vector>
#include <optional>

namespace feedrouter {

/// Decides whether and when a crashed child is restarted: exponential back-off between restarts, and a limit of
/// restarts within a sliding window after which the supervisor gives up (the registration becomes disabled).
class restart_policy {
public:
  using clock = std::chrono::steady_clock;

  struct options {
    std::size_t max_restarts = 5;             ///< restarts allowed within `window`
    std::chrono::milliseconds window{60'000}; ///< sliding window the restarts are counted in
    std::chrono::milliseconds first_delay{100};
    std::chrono::milliseconds max_delay{10'000};
  };

  restart_policy() = default;

  explicit restart_policy(options opts) : opts_(opts) {
    // nop
  }

  /// Records a crash at `now`; returns the delay before the restart, or nullopt when the child crashed more than
  /// max_restarts times within the window.
  std::optional<std::chrono::milliseconds> on_crash(clock::time_point now);

  /// Forgets earlier crashes, e.g. after the owner resumed a disabled registration.
  void reset() {
    crashes_.clear();
  }

private:
  options opts_;
  /// Recent crashes, oldest first; a vector, not a deque: it is nearly always empty, and an empty deque still costs an
  /// allocation per registration.
  std::vector<clock::time_point> crashes_;
};

} // namespace feedrouter
