#pragma once

// The lease arithmetic of a cluster (docs/cluster.md, docs/architecture.md section 8): how long a renewed lease may
// be used, how many shards an instance should hold, and the leases one instance holds. Pure: times are given, never
// read, so that every transition is tested without a clock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace feedrouter {

/// A point on the instance's monotonic clock (CLOCK_MONOTONIC): what its lease deadlines are measured on.
using mono_time = std::chrono::steady_clock::time_point;

/// The times of a cluster's leases, all derived from --lease-ttl.
struct lease_timing {
  /// How long a lease lasts on the server's clock after its last renewal (expires_at = now() + ttl).
  std::chrono::milliseconds ttl{10'000};

  /// Returns how often an instance renews its leases and sends its heartbeat: a third of the TTL.
  std::chrono::milliseconds renew_interval() const noexcept {
    return ttl / 3;
  }

  /// Returns how long after a renewal was *sent* the instance may run the shards it renewed: two thirds of the TTL.
  ///
  /// The server sets expires_at = now() + ttl when it runs the renewal, and its now() is not before the renewal was
  /// sent. So the instance stops a third of the TTL before anyone may take the lease over, whatever the offset between
  /// the two clocks, as long as their rates differ by less than a third.
  std::chrono::milliseconds usable_for() const noexcept {
    return ttl * 2 / 3;
  }
};

/// Returns how many shards one of `live` instances sharing `shards` should hold at most: ceil(shards / live). The
/// shares add up to at least `shards`, so no shard stays without an owner while each instance holds its share.
std::size_t fair_share(std::size_t shards, std::size_t live);

/// What an instance does next about its share of the shards.
struct share_plan {
  std::size_t acquire = 0; ///< take this many leases that have no valid owner
  std::size_t release = 0; ///< give this many of its leases away, gracefully
};

/// Returns the plan of an instance that holds `held` leases when `live` instances (itself among them) share `shards`
/// and `available` shards have no valid lease: up to its fair share, and what is above it given away.
share_plan plan_share(std::size_t shards, std::size_t live, std::size_t held, std::size_t available);

/// A lease as the server names it: a shard and the epoch the lease has while its current owner holds it.
struct shard_lease_ref {
  std::uint32_t shard = 0;
  std::int64_t epoch = 0;

  friend bool operator==(const shard_lease_ref& x, const shard_lease_ref& y) noexcept {
    return x.shard == y.shard && x.epoch == y.epoch;
  }
};

/// What the answer to a renewal meant.
struct renewal_outcome {
  /// Leases the book held that the server did not renew: another instance holds them now, or they expired. Their
  /// shards must stop at once.
  std::vector<shard_lease_ref> lost;
  /// Leases the server renewed that the book no longer holds (it gave them up when their deadline passed while the
  /// renewal was on its way): they are still this instance's on the server and must be released there.
  std::vector<shard_lease_ref> orphaned;
};

/// The leases one instance holds, each with its deadline on the instance's monotonic clock.
///
/// A lease is *held* from its acquisition until it is lost (not renewed, or its deadline passed) or released; while
/// it is being *released* (its triggers stop and their writes are flushed before the server is told) it is still
/// renewed, but no longer counts towards the instance's share. A lost lease is gone for good: the shard is run again
/// only under a new epoch, acquired again.
class lease_book {
public:
  explicit lease_book(lease_timing timing);

  // -- changes ----------------------------------------------------------------

  /// Records leases an acquisition returned; the acquisition was sent at `sent`, so they are usable until
  /// sent + usable_for.
  void acquired(const std::vector<shard_lease_ref>& leases, mono_time sent);

  /// Applies the answer to a renewal of leases() sent at `sent`: the leases in `still_held` are usable until
  /// sent + usable_for (never shortened); those the book holds and the answer lacks are lost and forgotten.
  renewal_outcome renewed(const std::vector<shard_lease_ref>& still_held, mono_time sent);

  /// Forgets every lease whose deadline is not after `now` and returns them: their shards must stop now
  /// (self-fencing), before the server may give the lease to another instance.
  std::vector<shard_lease_ref> expire(mono_time now);

  /// Marks the lease of `shard` as being released and returns it; nullopt when the book does not hold it, or is
  /// releasing it already.
  std::optional<shard_lease_ref> begin_release(std::uint32_t shard);

  /// Forgets `lease` once it was released (or could not be); returns it, or nullopt when the book no longer holds it
  /// at that epoch (it was lost meanwhile, and its shard maybe acquired again under a new epoch).
  std::optional<shard_lease_ref> finish_release(const shard_lease_ref& lease);

  // -- queries ----------------------------------------------------------------

  /// Returns every lease the book holds, held or being released, by shard: what a renewal covers.
  std::vector<shard_lease_ref> leases() const;

  /// Returns how many leases count towards the instance's share: held and not being released.
  std::size_t holding() const noexcept;

  /// Returns how many leases the book holds, being released ones included.
  std::size_t size() const noexcept {
    return leases_.size();
  }

  /// Returns whether the book holds the lease of `shard` (also while releasing it).
  bool holds(std::uint32_t shard) const noexcept;

  /// Returns the deadline of the lease of `shard`, or nullopt when the book does not hold it.
  std::optional<mono_time> deadline_of(std::uint32_t shard) const noexcept;

  /// Returns the earliest deadline of all leases, or nullopt when the book holds none: when expire() must run next.
  std::optional<mono_time> next_deadline() const noexcept;

  /// Returns up to `n` held shards (not already being released) to give away: the highest-numbered ones, so that
  /// every instance that gives shards away picks alike and the choice is reproducible.
  std::vector<std::uint32_t> pick_release(std::size_t n) const;

  const lease_timing& timing() const noexcept {
    return timing_;
  }

private:
  struct entry {
    std::int64_t epoch = 0;
    mono_time deadline;
    bool releasing = false;
  };

  lease_timing timing_;
  std::map<std::uint32_t, entry> leases_; ///< by shard
};

} // namespace feedrouter
