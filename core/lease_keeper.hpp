#pragma once

// The decisions of an instance's lease manager (docs/cluster.md): which leases a renewal covers and until when each
// may be used, when a lease must be given up before the server can pass it on (self-fencing), how many leases to
// acquire and which to give away to balance, and when leaving is done. Pure: no I/O, and time only from the clock it
// is given, so that every transition is tested with a manual clock. actors/lease_manager.cpp carries the decisions
// out against the lease store, the shard runner and the fire fence.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/lease_book.hpp"
#include "core/time_format.hpp"

namespace feedrouter {

// -- what the lease store reports -------------------------------------------------

/// One row of the instances table.
struct cluster_instance {
  std::string id;
  std::string url; ///< where the other instances forward requests to it (--advertise-url)
  sys_ms started{};
  /// How long ago its last heartbeat reached the server, on the server's clock.
  std::chrono::milliseconds heartbeat_age{0};
};

/// One shard's lease as the server has it.
struct shard_owner {
  std::uint32_t shard = 0;
  std::string owner; ///< the instance holding it; empty when none
  std::int64_t epoch = 0;
  /// How long the lease lasts from the moment it was read, on the server's clock; zero or less: expired or free.
  std::chrono::milliseconds remaining{0};
};

/// The instances and every shard's lease, read together.
struct lease_picture {
  std::vector<cluster_instance> instances; ///< by id, live or not
  std::vector<shard_owner> shards;         ///< by shard, every shard
};

/// A lease an acquisition took.
struct acquired_lease {
  shard_lease_ref lease;
  /// Another instance held it before and its lease expired: a takeover (not a free or released shard).
  bool taken_over = false;
};

// -- what the keeper decides --------------------------------------------------------

/// Reads the instance's monotonic clock.
using mono_clock = std::function<mono_time()>;

/// A lease this instance may use, and until when: its shard's fire fence stays open until `deadline` (excluded).
struct usable_lease {
  shard_lease_ref lease;
  mono_time deadline;
};

/// A renewal on its way to the store: the leases it covers and when it was sent.
struct renewal_ticket {
  std::vector<shard_lease_ref> leases;
  mono_time sent;
};

/// What the answer to a renewal means for the shards.
struct renewal_effects {
  std::vector<usable_lease> renewed;     ///< their fences stay open until the new deadlines
  std::vector<shard_lease_ref> lost;     ///< another instance holds them or they expired: stop their shards now
  std::vector<shard_lease_ref> orphaned; ///< renewed on the server, given up here: release them at the store
};

/// An acquisition on its way to the store: how many leases it asks for and when it was sent.
struct acquisition_ticket {
  std::size_t count = 0;
  mono_time sent;
};

/// What an acquisition brought.
struct acquisition_effects {
  std::vector<usable_lease> gained; ///< open their fences and start their shards
  std::size_t takeovers = 0;        ///< of them, leases another instance had let expire
};

/// What an instance does about its share after a look at every lease.
struct balance_plan {
  /// Leases the server says this instance holds that it does not hold (an acquisition whose answer was lost, a lease
  /// given up at its deadline while its renewal was on the way): release them at the store at once.
  std::vector<shard_lease_ref> orphans;
  /// How many free or expired leases to acquire (acquisition_ticket).
  std::size_t acquire = 0;
  /// Leases above the fair share to give away gracefully: stop their shards, flush, then finish_release().
  std::vector<shard_lease_ref> give_away;
  /// How many instances count as live, this one included.
  std::size_t live = 0;
  /// When the soonest lease of another instance runs out, if that is within a renewal interval: its owner stopped
  /// renewing (a live one renews every interval), so the next look is due then rather than at the next heartbeat,
  /// and a takeover takes the TTL, not the TTL plus up to one interval.
  std::optional<std::chrono::milliseconds> expiry_elsewhere;
};

/// Decides what an instance does with its shard leases. One owner (the lease manager) calls it; not thread-safe.
///
/// A round is: start_renewal(), the store's renewal, finish_renewal(); expire(); the store's picture, balance();
/// then the acquisition (start_acquisition(), finish_acquisition()) or the graceful release (finish_release() once
/// the shards stopped) the plan asks for. expire() also runs whenever next_deadline() falls due.
class lease_keeper {
public:
  lease_keeper(std::string self_id, lease_timing timing, mono_clock clock);

  // -- renewal and self-fencing --------------------------------------------------

  /// Returns the renewal to send now: every lease held, being released ones included.
  renewal_ticket start_renewal() const;

  /// Applies the store's answer to `ticket` (the leases it still held at their epochs and renewed).
  renewal_effects finish_renewal(const renewal_ticket& ticket, const std::vector<shard_lease_ref>& still_held);

  /// Gives up every lease whose deadline (two thirds of the TTL after the renewal that last covered it was sent) has
  /// come, and returns them: their shards must stop now, a third of the TTL before the server lets another instance
  /// take them.
  std::vector<shard_lease_ref> expire();

  /// Returns when expire() must run next: the earliest deadline; nullopt when no lease is held.
  std::optional<mono_time> next_deadline() const;

  // -- balancing -------------------------------------------------------------------

  /// Decides, on a fresh `picture` of every lease, whether to acquire leases up to the fair share
  /// (ceil(shards / live instances); an instance is live while its heartbeat is younger than the TTL, this one always)
  /// or to give away what is above it; gives nothing away while an earlier give-away is still under way, and nothing
  /// at all while leaving. The leases to give away are marked as being released.
  balance_plan balance(const lease_picture& picture);

  /// Returns the acquisition of `count` leases to send now.
  acquisition_ticket start_acquisition(std::size_t count) const;

  /// Applies what the acquisition `ticket` took: each lease usable until two thirds of the TTL after it was sent.
  acquisition_effects finish_acquisition(const acquisition_ticket& ticket, const std::vector<acquired_lease>& taken);

  /// The shards of `leases` (a give-away) stopped and their writes are flushed: forgets the leases and returns those
  /// still held, which are to be released at the store (one lost meanwhile is not).
  std::vector<shard_lease_ref> finish_release(const std::vector<shard_lease_ref>& leases);

  // -- leaving ---------------------------------------------------------------------

  /// Starts leaving the cluster (SIGTERM): returns every lease not being released yet, to give away gracefully; from
  /// now on balance() plans nothing.
  std::vector<shard_lease_ref> leave();

  /// Returns whether leave() was called.
  bool leaving() const noexcept {
    return leaving_;
  }

  /// Returns whether leaving is done: no lease held, none being released.
  bool left() const noexcept;

  // -- queries ---------------------------------------------------------------------

  /// Returns how many leases count towards the share: held and not being released.
  std::size_t holding() const noexcept {
    return book_.holding();
  }

  /// Returns how many leases are held, being released ones included.
  std::size_t held() const noexcept {
    return book_.size();
  }

  /// Returns every lease held, being released ones included (their shards still run), by shard.
  std::vector<shard_lease_ref> leases() const {
    return book_.leases();
  }

  /// Returns whether `shard`'s lease is held (also while being released).
  bool holds(std::uint32_t shard) const noexcept {
    return book_.holds(shard);
  }

  /// Returns how many leases are being given away.
  std::size_t releasing() const noexcept {
    return releasing_;
  }

  const std::string& self_id() const noexcept {
    return self_id_;
  }

  const lease_timing& timing() const noexcept {
    return book_.timing();
  }

private:
  std::string self_id_;
  mono_clock clock_;
  lease_book book_;
  std::size_t releasing_ = 0;
  bool leaving_ = false;
};

} // namespace feedrouter
