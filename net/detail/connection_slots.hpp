#pragma once

// Private to net/: the bound of open connections a connector keeps (--max-redis-feeds, --max-mqtt-feeds).

#include <atomic>
#include <cstddef>
#include <memory>

namespace feedrouter::client_detail {

/// The places for open connections of one connector. Shared by the connector and its connections, so that a
/// connection gives its place back also when it outlives the connector; used from any thread.
class connection_slots {
public:
  explicit connection_slots(std::size_t max) noexcept : max_(max) {
    // nop
  }

  /// Takes a place and returns true, or returns false and takes none when every place is taken.
  bool try_take() noexcept {
    if (open_.fetch_add(1) < max_)
      return true;
    open_.fetch_sub(1);
    return false;
  }

  /// Gives back a place that try_take() took.
  void give_back() noexcept {
    open_.fetch_sub(1);
  }

  /// Returns whether a place is free now (another thread may take it before the caller does).
  bool has_room() const noexcept {
    return open_.load() < max_;
  }

  /// Returns how many connections may be open at once.
  std::size_t max() const noexcept {
    return max_;
  }

private:
  std::atomic<std::size_t> open_{0};
  const std::size_t max_;
};

using connection_slots_ptr = std::shared_ptr<connection_slots>;

} // namespace feedrouter::client_detail
