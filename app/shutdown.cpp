#include "app/shutdown.hpp"

#include <cstdlib>
#include <thread>

#include "core/log.hpp"

namespace feedrouter {

namespace {

/// How often the wait looks at the in-flight count: a fire's answer has no signal of its own that reaches main.
constexpr std::chrono::milliseconds poll_interval{10};

} // namespace

bool wait_for_fires_in_flight(const metrics& stats, std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (stats.fires_in_flight() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      log(log_level::warn, "shutting down with ", stats.fires_in_flight(),
          " fires unanswered after the grace period; their events stay pending and fire after the restart");
      return false;
    }
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}

void end_process() {
  std::_Exit(0);
}

void arm_exit_watchdog(std::chrono::milliseconds grace) {
  std::thread{[grace] {
    std::this_thread::sleep_for(grace);
    log(log_level::warn, "actors did not stop within ", grace.count(), " ms after the store was flushed; exiting");
    std::_Exit(0);
  }}.detach();
}

} // namespace feedrouter
