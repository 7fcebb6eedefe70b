#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/lease_book.hpp"
#include "core/shard.hpp"
#include "core/time_format.hpp"

namespace feedrouter {

/// What this instance knows of its cluster, shared between the lease manager and the shard runner (which write it)
/// and the control API (which reads it on I/O threads to route requests, answer /ready and GET /v1/cluster).
/// Thread-safe; readers never wait for the store.
class cluster_view {
public:
  /// The instance that holds a shard's lease, as the last look at the leases found it.
  struct owner {
    std::string id;
    std::string url; ///< where requests for its registrations are forwarded
  };

  explicit cluster_view(std::string self_id) : self_id_(std::move(self_id)) {
    // nop
  }

  cluster_view(const cluster_view&) = delete;
  cluster_view& operator=(const cluster_view&) = delete;

  /// Returns this instance's id.
  const std::string& self_id() const noexcept {
    return self_id_;
  }

  // -- what the lease manager writes ---------------------------------------------

  /// A shard's lease as the lease manager read it.
  struct holding {
    std::uint32_t shard = 0;
    owner holder;                         ///< empty id: nobody
    std::chrono::milliseconds remaining{0}; ///< how long the lease lasted when it was read
  };

  /// Replaces what is known of the shards' owners with `holdings`, read at `read_at` (this instance's monotonic clock):
  /// an owner counts as valid until read_at + remaining. Shards not among them have no owner.
  void set_owners(const std::vector<holding>& holdings, mono_time read_at);

  /// Records whether the last look at the leases (heartbeat, renewal, balancing) reached the store.
  void set_leases_reachable(bool reachable) noexcept {
    leases_reachable_.store(reachable);
  }

  // -- what the shard runner writes ----------------------------------------------

  /// Records which shards this instance holds whose registrations are not running yet (being loaded, started).
  void set_shards_starting(const std::vector<std::uint32_t>& shards);

  // -- what the control API reads ------------------------------------------------

  /// Returns the owner of `shard` if its lease is valid at `now` as far as this instance knows; nullopt when nobody
  /// holds it (free, or expired: a takeover is due).
  std::optional<owner> owner_of(std::uint32_t shard, mono_time now) const;

  /// Returns whether the shards this instance holds are running: the leases were reachable at the last look and no
  /// held shard waits to start.
  bool shards_running() const noexcept {
    return leases_reachable_.load() && shards_starting_.load() == 0;
  }

  /// Returns whether `shard` is held here but its registrations are not running yet: a request for it would find
  /// none of them, so it waits rather than being answered "not found".
  bool shard_starting(std::uint32_t shard) const;

  /// Returns whether the last look at the leases reached the store.
  bool leases_reachable() const noexcept {
    return leases_reachable_.load();
  }

  /// Returns how many held shards wait to start.
  std::size_t shards_starting() const noexcept {
    return shards_starting_.load();
  }

private:
  struct entry {
    owner holder;
    mono_time valid_until{};
  };

  std::string self_id_;
  mutable std::mutex mutex_;
  std::array<entry, shard_count> owners_{};
  std::array<bool, shard_count> starting_{}; ///< guarded by mutex_
  std::atomic<bool> leases_reachable_{false};
  std::atomic<std::size_t> shards_starting_{0};
};

/// One instance as GET /v1/cluster shows it.
struct cluster_member {
  std::string id;
  std::string url;
  sys_ms started{};
  std::chrono::milliseconds heartbeat_age{0};
  bool live = false;                ///< its heartbeat is younger than the lease TTL
  std::size_t shards = 0;           ///< shards whose valid lease it holds
  std::size_t registrations = 0;    ///< registrations in those shards
};

/// What GET /v1/cluster answers: the instances and how the shards and registrations are spread over them.
struct cluster_report {
  std::string mode;    ///< "single" (one instance, SQLite) or "cluster" (PostgreSQL)
  std::string self_id; ///< the instance that answered
  std::size_t shard_count = 0;
  std::chrono::milliseconds lease_ttl{0};
  std::vector<cluster_member> instances;
  std::size_t unowned_shards = 0;        ///< shards without a valid lease: a takeover is due
  std::size_t unowned_registrations = 0; ///< registrations in those shards
  /// Asked for with the admin key: the answer shows each instance's advertised URL too, which a tenant never sees.
  bool for_operator = false;
};

} // namespace feedrouter
