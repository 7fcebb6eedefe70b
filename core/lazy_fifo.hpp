#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace feedrouter {

/// A first-in first-out queue that allocates nothing while it has never held anything.
///
/// Every registration's delivery core keeps its events in one that is empty nearly all the time; libstdc++'s std::deque
/// allocates about 600 bytes on construction, which across 100 000 registrations would be most of their memory.
template <class T>
class lazy_fifo {
public:
  bool empty() const noexcept {
    return head_ == items_.size();
  }

  std::size_t size() const noexcept {
    return items_.size() - head_;
  }

  T& front() {
    return items_[head_];
  }

  T& operator[](std::size_t index) {
    return items_[head_ + index];
  }

  const T& operator[](std::size_t index) const {
    return items_[head_ + index];
  }

  auto begin() {
    return items_.begin() + static_cast<std::ptrdiff_t>(head_);
  }

  auto end() {
    return items_.end();
  }

  auto begin() const {
    return items_.begin() + static_cast<std::ptrdiff_t>(head_);
  }

  auto end() const {
    return items_.end();
  }

  void push_back(T x) {
    items_.push_back(std::move(x));
  }

  /// Inserts the elements of [first, last) before the element at `index`.
  template <class Iterator>
  void insert(std::size_t index, Iterator first, Iterator last) {
    items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(head_ + index), first, last);
  }

  /// Removes the element at `index`.
  void erase(std::size_t index) {
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(head_ + index));
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    }
  }

  void pop_front() {
    ++head_;
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= compact_threshold && head_ * 2 >= items_.size()) {
      compact();
    }
  }

private:
  /// Consumed elements at the front are dropped once there are this many and they are half the storage.
  static constexpr std::size_t compact_threshold = 64;

  void compact() {
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }

  std::vector<T> items_;
  std::size_t head_ = 0;
};

} // namespace feedrouter
