#include "core/byte_budget.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace feedrouter {

namespace {

/// Calls the wakers collected under the budget's lock, after it was let go: a waker posts a message, which must not
/// happen under a lock other threads wait for.
void call_all(const std::vector<std::function<void()>>& wakers) {
  for (const auto& wake : wakers)
    wake();
}

} // namespace

// -- byte_budget ---------------------------------------------------------------------

byte_budget::limits byte_budget::limits_for(std::size_t total) noexcept {
  limits lim;
  lim.total = total;
  lim.share = std::max<std::size_t>(total / share_divisor, 1);
  lim.reserve = total / share_divisor;
  // A guaranteed minimum above the reserve could never be had from it.
  lim.guaranteed = std::min(guaranteed_bytes, lim.reserve);
  return lim;
}

byte_budget::byte_budget(limits lim) noexcept : limits_(lim) {
  limits_.reserve = std::min(limits_.reserve, limits_.total);
}

std::size_t byte_budget::waiting() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return line_.size();
}

std::uint64_t byte_budget::next_account_id() noexcept {
  return ++next_id_;
}

std::size_t byte_budget::pool_size() const noexcept {
  return limits_.total - limits_.reserve;
}

/// Returns whether `n` more bytes fit the shared pool. A single body larger than the whole pool fits only once the
/// pool is empty: otherwise it would wait forever, and the line behind it.
bool byte_budget::fits_pool(std::size_t n) const noexcept {
  return pool_held_ + std::min(n, pool_size()) <= pool_size();
}

void byte_budget::publish() noexcept {
  held_.store(pool_held_ + reserve_held_, std::memory_order_relaxed);
}

std::deque<byte_budget::waiter>::iterator byte_budget::find(std::uint64_t id) {
  return std::find_if(line_.begin(), line_.end(), [id](const waiter& w) { return w.account == id; });
}

byte_budget::grant byte_budget::take(std::uint64_t id, std::size_t holding, std::size_t n,
                                     const std::function<void()>* wake, wake_list& woken) {
  std::lock_guard<std::mutex> guard{mutex_};
  // Within its guaranteed minimum a registration takes from the reserve, without waiting in line.
  if (holding + n <= limits_.guaranteed && reserve_held_ + n <= limits_.reserve) {
    reserve_held_ += n;
    publish();
    return grant::reserve;
  }
  auto mine = find(id);
  auto first = line_.empty() || line_.front().account == id;
  if (first && fits_pool(n)) {
    pool_held_ += n;
    publish();
    if (mine != line_.end()) {
      line_.erase(mine);
      wake_head(woken);
    }
    return grant::shared_pool;
  }
  if (wake == nullptr)
    return grant::refused;
  if (mine == line_.end()) {
    line_.push_back(waiter{id, n, *wake, false});
  } else {
    mine->need = n;
    // Refused once more: told again when it may fit.
    mine->woken = false;
  }
  return grant::refused;
}

void byte_budget::force(std::size_t n) noexcept {
  std::lock_guard<std::mutex> guard{mutex_};
  pool_held_ += n;
  publish();
}

void byte_budget::give_back(std::size_t from_pool, std::size_t from_reserve, wake_list& woken) {
  std::lock_guard<std::mutex> guard{mutex_};
  pool_held_ -= std::min(from_pool, pool_held_);
  reserve_held_ -= std::min(from_reserve, reserve_held_);
  publish();
  wake_head(woken);
}

void byte_budget::leave(std::uint64_t id, wake_list& woken) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto mine = find(id);
  if (mine == line_.end())
    return;
  auto was_head = mine == line_.begin();
  line_.erase(mine);
  if (was_head)
    wake_head(woken);
}

std::size_t byte_budget::available(std::uint64_t id, std::size_t holding) const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::size_t from_reserve = 0;
  if (holding < limits_.guaranteed)
    from_reserve = std::min(limits_.guaranteed - holding, limits_.reserve - std::min(reserve_held_, limits_.reserve));
  std::size_t from_pool = 0;
  if (line_.empty() || line_.front().account == id) {
    auto share_left = limits_.share - std::min(holding, limits_.share);
    from_pool = std::min(pool_size() - std::min(pool_held_, pool_size()), share_left);
  }
  // One take is granted from one of them.
  return std::max(from_reserve, from_pool);
}

/// Tells the first in line, once, that what it waits for fits now. Called under the lock; the waker runs later.
void byte_budget::wake_head(wake_list& woken) {
  if (line_.empty())
    return;
  auto& head = line_.front();
  if (head.woken || !fits_pool(head.need))
    return;
  head.woken = true;
  woken.push_back(head.wake);
}

// -- byte_account --------------------------------------------------------------------------

byte_account::byte_account(byte_budget_ptr budget, std::function<void()> wake)
  : budget_(std::move(budget)), wake_(std::move(wake)) {
  if (budget_)
    id_ = budget_->next_account_id();
}

byte_account::byte_account(byte_account&& other) noexcept
  : budget_(std::move(other.budget_)),
    wake_(std::move(other.wake_)),
    id_(std::exchange(other.id_, 0)),
    held_(std::exchange(other.held_, 0)),
    from_reserve_(std::exchange(other.from_reserve_, 0)),
    in_line_(std::exchange(other.in_line_, false)) {
  // nop
}

byte_account& byte_account::operator=(byte_account&& other) noexcept {
  if (this != &other) {
    release_all();
    budget_ = std::move(other.budget_);
    wake_ = std::move(other.wake_);
    id_ = std::exchange(other.id_, 0);
    held_ = std::exchange(other.held_, 0);
    from_reserve_ = std::exchange(other.from_reserve_, 0);
    in_line_ = std::exchange(other.in_line_, false);
  }
  return *this;
}

byte_account::~byte_account() {
  release_all();
}

void byte_account::release_all() noexcept {
  if (!budget_)
    return;
  // Destruction must not throw: a waker that cannot be copied or called here is dropped with the account.
  try {
    byte_budget::wake_list woken;
    budget_->leave(id_, woken);
    budget_->give_back(held_ - from_reserve_, from_reserve_, woken);
    call_all(woken);
  } catch (...) {
    // nop
  }
  held_ = 0;
  from_reserve_ = 0;
  in_line_ = false;
  budget_.reset();
}

bool byte_account::take(std::size_t n, wait w) {
  if (!budget_) {
    held_ += n;
    return true;
  }
  // Beyond its share a registration waits for its own bytes to come back, not in line: it must not hold up others.
  if (held_ > 0 && held_ + n > budget_->bounds().share) {
    leave_line();
    return false;
  }
  byte_budget::wake_list woken;
  auto granted = budget_->take(id_, held_, n, w == wait::yes ? &wake_ : nullptr, woken);
  if (granted == byte_budget::grant::reserve) {
    from_reserve_ += n;
    held_ += n;
  } else if (granted == byte_budget::grant::shared_pool) {
    held_ += n;
    in_line_ = false;
  } else if (w == wait::yes) {
    in_line_ = true;
  }
  call_all(woken);
  return granted != byte_budget::grant::refused;
}

void byte_account::force(std::size_t n) {
  held_ += n;
  if (budget_)
    budget_->force(n);
}

void byte_account::give_back(std::size_t n) {
  n = std::min(n, held_);
  held_ -= n;
  if (!budget_)
    return;
  // The reserve first: it is what other small registrations take without waiting.
  auto reserve = std::min(n, from_reserve_);
  from_reserve_ -= reserve;
  byte_budget::wake_list woken;
  budget_->give_back(n - reserve, reserve, woken);
  call_all(woken);
}

void byte_account::leave_line() {
  if (!budget_ || !in_line_)
    return;
  byte_budget::wake_list woken;
  budget_->leave(id_, woken);
  in_line_ = false;
  call_all(woken);
}

std::size_t byte_account::share() const noexcept {
  return budget_ ? budget_->bounds().share : SIZE_MAX;
}

std::size_t byte_account::available() const {
  if (!budget_)
    return SIZE_MAX;
  return budget_->available(id_, held_);
}

} // namespace feedrouter
