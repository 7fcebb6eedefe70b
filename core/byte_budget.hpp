#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace feedrouter {

class byte_account;

/// The bytes of event bodies that all registrations together hold in memory (`--max-buffered-bytes`,
/// docs/delivery.md "Memory"). Each registration's delivery core draws on it through a byte_account; what does not fit
/// waits in the store.
///
/// Fair between registrations: one registration holds at most its `share` (beyond one event, which it may always
/// hold), and registrations that find the budget spent wait in one line, first come first served. A part of the
/// budget, the `reserve`, is kept for registrations within their `guaranteed` minimum: they take from it without
/// waiting in line, so small events keep flowing while large ones wait. Thread-safe: the delivery cores of every
/// trigger actor share it.
class byte_budget {
public:
  // -- member types ------------------------------------------------------------------

  struct limits {
    std::size_t total = 0;      ///< bytes all registrations hold at most
    std::size_t share = 0;      ///< bytes one registration holds at most, unless it holds one event only
    std::size_t guaranteed = 0; ///< bytes one registration may hold from the reserve
    std::size_t reserve = 0;    ///< the part of `total` only registrations within their guaranteed minimum take
  };

  /// One registration's share, and the reserve, are this fraction of the budget: one tenant's burst leaves the rest
  /// to the others.
  static constexpr std::size_t share_divisor = 8;

  /// Its guaranteed minimum: small events flow while large ones wait, but never more than this.
  static constexpr std::size_t guaranteed_bytes = 64 * 1024;

  // -- construction ------------------------------------------------------------------

  /// Returns the limits of a budget of `total` bytes: a share and a reserve of total / share_divisor each, and a
  /// guaranteed minimum of guaranteed_bytes (at most the reserve).
  static limits limits_for(std::size_t total) noexcept;

  explicit byte_budget(limits lim) noexcept;

  byte_budget(const byte_budget&) = delete;
  byte_budget& operator=(const byte_budget&) = delete;

  // -- queries -----------------------------------------------------------------------

  const limits& bounds() const noexcept {
    return limits_;
  }

  /// Returns the bytes held now, by all registrations.
  std::size_t held() const noexcept {
    return held_.load(std::memory_order_relaxed);
  }

  /// Returns how many registrations wait in line for bytes.
  std::size_t waiting() const;

private:
  friend class byte_account;

  /// One registration waiting for bytes.
  struct waiter {
    std::uint64_t account = 0;
    std::size_t need = 0;
    std::function<void()> wake;
    bool woken = false; ///< told once that its need fits; told again only if it is refused again
  };

  using wake_list = std::vector<std::function<void()>>;

  /// Where granted bytes came from.
  enum class grant { refused, shared_pool, reserve };

  std::uint64_t next_account_id() noexcept;
  grant take(std::uint64_t id, std::size_t holding, std::size_t n, const std::function<void()>* wake,
             wake_list& woken);
  void force(std::size_t n) noexcept;
  void give_back(std::size_t from_pool, std::size_t from_reserve, wake_list& woken);
  void leave(std::uint64_t id, wake_list& woken);
  std::size_t available(std::uint64_t id, std::size_t holding) const;
  std::size_t pool_size() const noexcept;
  bool fits_pool(std::size_t n) const noexcept;
  void wake_head(wake_list& woken);
  void publish() noexcept;
  std::deque<waiter>::iterator find(std::uint64_t id);

  limits limits_;
  mutable std::mutex mutex_;
  std::size_t pool_held_ = 0;    ///< taken from the shared pool (total - reserve), or forced
  std::size_t reserve_held_ = 0; ///< taken from the reserve
  std::atomic<std::size_t> held_{0}; ///< their sum, written under mutex_ and read without it
  std::deque<waiter> line_;
  std::atomic<std::uint64_t> next_id_{0};
};

using byte_budget_ptr = std::shared_ptr<byte_budget>;

/// One registration's account with the byte budget: what it holds, and its place in line. Without a budget (the
/// default) every take succeeds and nothing is counted. Owned by one delivery core; not thread-safe itself.
class byte_account {
public:
  /// Whether a take that is refused waits in line.
  enum class wait { no, yes };

  byte_account() = default;

  /// An account with `budget`; `wake` is called (from any thread, once per turn in line) when bytes the account waits
  /// for may be taken now. It must only post a message.
  byte_account(byte_budget_ptr budget, std::function<void()> wake);

  byte_account(byte_account&& other) noexcept;
  byte_account& operator=(byte_account&& other) noexcept;
  byte_account(const byte_account&) = delete;
  byte_account& operator=(const byte_account&) = delete;

  /// Gives back what it holds and leaves the line.
  ~byte_account();

  /// Takes `n` bytes if the budget and fairness allow; otherwise, with wait::yes, waits in line (or updates its need
  /// there) and is woken once `n` may fit. Returns whether it took them.
  bool take(std::size_t n, wait w);

  /// Counts `n` bytes that cannot wait: the bodies of events no store can give back (sent on credit).
  void force(std::size_t n);

  /// Gives back `n` of the bytes it holds.
  void give_back(std::size_t n);

  /// Leaves the line: it no longer waits for bytes.
  void leave_line();

  /// Returns how many bytes a take without waiting would get now (0 while others wait before it).
  std::size_t available() const;

  /// Returns the most bytes it may hold beyond a single event: its share of the budget; unbounded without one.
  std::size_t share() const noexcept;

  /// Returns the bytes it holds.
  std::size_t held() const noexcept {
    return held_;
  }

  /// Returns whether it waits in line.
  bool in_line() const noexcept {
    return in_line_;
  }

  /// Returns whether a budget bounds it.
  bool limited() const noexcept {
    return budget_ != nullptr;
  }

private:
  void release_all() noexcept;

  byte_budget_ptr budget_;
  std::function<void()> wake_;
  std::uint64_t id_ = 0;
  std::size_t held_ = 0;
  std::size_t from_reserve_ = 0; ///< the part of held_ taken from the reserve
  bool in_line_ = false;
};

} // namespace feedrouter
