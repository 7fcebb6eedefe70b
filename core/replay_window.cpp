#include "core/replay_window.hpp"

#include <algorithm>

namespace feedrouter {

replay_window::replay_window(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {
  // The ring grows to its capacity as ids come, so an idle registration costs nothing.
}

bool replay_window::admit(std::string_view id) {
  // A blank slot is an empty id: never remember one.
  if (id.empty())
    return true;
  std::string key{id};
  if (ids_.count(key) != 0)
    return false;
  if (ring_.size() < capacity_) {
    ring_.push_back(key);
  } else {
    ids_.erase(ring_[next_]);
    ring_[next_] = key;
    next_ = (next_ + 1) % capacity_;
  }
  ids_.insert(std::move(key));
  return true;
}

void replay_window::forget(std::string_view id) {
  auto i = ids_.find(std::string{id});
  if (i == ids_.end())
    return;
  ids_.erase(i);
  // Blank its slot, so that when the slot is reused it does not erase the id if it comes again later.
  auto slot = std::find(ring_.begin(), ring_.end(), id);
  if (slot != ring_.end())
    slot->clear();
}

bool replay_window::contains(std::string_view id) const {
  return ids_.count(std::string{id}) != 0;
}

} // namespace feedrouter
