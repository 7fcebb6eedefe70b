#pragma once

#include <atomic>

namespace feedrouter {

/// Whether the store can still be written: the store actor marks it unwritable once the store reports a problem that
/// lasts (its file deleted or replaced, damage, an I/O error), and the control API answers /ready with 503 and refuses
/// changes from then on. Thread-safe; shared through a shared_ptr.
class store_health {
public:
  /// Returns whether no lasting problem was reported.
  bool writable() const noexcept {
    return !unwritable_.load();
  }

  /// Marks the store as refusing writes for the rest of the process's life; returns whether it was writable until now,
  /// so that the caller reports the problem once.
  bool mark_unwritable() noexcept {
    return !unwritable_.exchange(true);
  }

private:
  std::atomic<bool> unwritable_{false};
};

} // namespace feedrouter
