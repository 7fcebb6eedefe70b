#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace feedrouter {

/// Delivery ids a registration remembers at most: GitHub redelivers one event with the same X-GitHub-Delivery, and a
/// captured request replays its id. 1024 ids of at most 128 bytes bound a window to about 200 KB per registration.
inline constexpr std::size_t replay_window_capacity = 1024;

/// Longest delivery id taken into a window; a longer one is refused (GitHub's are 36-character GUIDs).
inline constexpr std::size_t max_delivery_id_length = 128;

/// The ids of a registration's latest deliveries, so that one delivery is taken once (docs/webhook-feed.md).
///
/// A fixed-size window: it holds the last `capacity` ids it was given, and the oldest is forgotten when a new one
/// comes, so its memory is bounded whatever a sender does. It lives in memory only: after a restart it starts empty.
class replay_window {
public:
  explicit replay_window(std::size_t capacity = replay_window_capacity);

  /// Records `id` and returns true, or returns false when the window already holds it (a replay).
  bool admit(std::string_view id);

  /// Forgets `id` (its event could not be stored, so a redelivery must be taken).
  void forget(std::string_view id);

  /// Returns whether the window holds `id`.
  bool contains(std::string_view id) const;

  /// Returns how many ids the window holds.
  std::size_t size() const noexcept {
    return ids_.size();
  }

private:
  std::size_t capacity_;
  std::vector<std::string> ring_; ///< the ids in the order admitted; an empty slot was never filled or was forgotten
  std::size_t next_ = 0;          ///< the slot the next id takes: the oldest one's
  std::unordered_set<std::string> ids_;
};

} // namespace feedrouter
