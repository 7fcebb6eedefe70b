#pragma once

// The cluster's side of the store (docs/cluster.md): the shard leases and the instances, read and written by one
// instance's lease manager on a session of its own, and the notifications that tell instances a lease was given up
// or an instance joined or left. store/postgres_lease_store.cpp implements it; a store of one instance (SQLite) has
// none: that instance holds every shard forever.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/fire_rate_shares.hpp"
#include "core/lease_book.hpp"
#include "core/lease_keeper.hpp"
#include "core/time_format.hpp"
#include "store/store.hpp"

namespace feedrouter {

/// What a call to the lease store returned, or why it failed (one line for the log, no password in it).
template <class T>
struct lease_reply {
  std::optional<T> value;
  std::string error;

  explicit operator bool() const noexcept {
    return value.has_value();
  }
};

/// How a lease store identifies this instance and how long its leases last.
struct lease_store_options {
  std::string instance_id;
  std::string url;     ///< advertised to the other instances in the instances table
  lease_timing timing; ///< ttl: what each acquisition and renewal adds on the server's clock
  /// Instances silent for longer than this are removed from the instances table by the heartbeats of the others.
  std::chrono::milliseconds forget_after{3'600'000};
};

/// The leases and the instances table, seen by one instance. Every call blocks until the server answered and is
/// bounded by the session's time-outs (about a renewal interval); a lost session is opened again by the next call.
/// Not thread-safe: one owner (the lease manager) calls it.
class lease_store {
public:
  virtual ~lease_store() = default;

  /// Records that this instance is alive (inserts or updates its row with the server's now()), and removes the rows
  /// of instances silent for longer than forget_after. Returns the error when it failed.
  virtual std::optional<std::string> heartbeat() = 0;

  /// Extends each of `leases` that this instance still holds at that epoch and that has not expired, to the server's
  /// now() + ttl; returns those it extended.
  virtual lease_reply<std::vector<shard_lease_ref>> renew(const std::vector<shard_lease_ref>& leases) = 0;

  /// Takes up to `n` leases that nobody holds or whose holder let them expire, the lowest shards first, each at its
  /// epoch + 1 until the server's now() + ttl; returns those it took, and notifies the other instances when it took
  /// any. Shards other instances are taking at the same moment are skipped, not waited for.
  virtual lease_reply<std::vector<acquired_lease>> acquire(std::size_t n) = 0;

  /// Gives up each of `leases` this instance still holds at that epoch (its shard is free at once, its epoch kept) and
  /// notifies the other instances. Returns the error when it failed.
  virtual std::optional<std::string> release(const std::vector<shard_lease_ref>& leases) = 0;

  /// Notifies the other instances that the shares changed (this instance joined), so they balance at once.
  virtual std::optional<std::string> announce() = 0;

  /// Removes this instance's row and notifies the others: it leaves the cluster (its leases released before).
  virtual std::optional<std::string> leave() = 0;

  /// Reads the instances and every shard's lease.
  virtual lease_reply<lease_picture> picture() = 0;

  /// Returns how many registrations the shards of each instance hold (by instance id; "" for shards without a valid
  /// lease), for GET /v1/cluster. A full count of the registrations table: not for every heartbeat.
  virtual lease_reply<std::map<std::string, std::size_t>> registrations_by_owner() = 0;

  /// Returns, for each namespace with registrations in the shards of `held`, how many it has there and in every shard:
  /// how this instance's part of the namespace's fire rate is reckoned (core/fire_rate_shares.hpp). A pass over the
  /// registrations table: once a heartbeat, and only with --namespace-fire-rate.
  virtual lease_reply<std::vector<namespace_split>> namespace_splits(const std::vector<shard_lease_ref>& held) = 0;
};

using lease_store_ptr = std::unique_ptr<lease_store>;

/// Waits for the notifications of a lease store (a lease given up, an instance that joined or left), on a session of
/// its own, so that an instance acts on them at once rather than at its next heartbeat.
class lease_listener {
public:
  /// Why wait() returned.
  enum class wake {
    notified,    ///< a notification came, or the session was opened again (and some may have been missed)
    timeout,     ///< nothing came in time
    interrupted, ///< interrupt() was called
    failed,      ///< the session is lost and could not be opened again; last_error() says why
  };

  virtual ~lease_listener() = default;

  /// Blocks until a notification comes, `timeout` passes or interrupt() is called. Not thread-safe but for interrupt().
  virtual wake wait(std::chrono::milliseconds timeout) = 0;

  /// Makes the wait() under way, or the next one, return `interrupted`. Thread-safe.
  virtual void interrupt() = 0;

  /// Returns why the last wait() failed.
  virtual std::string last_error() const = 0;
};

using lease_listener_ptr = std::unique_ptr<lease_listener>;

/// Opens the lease store of the PostgreSQL store `spec` (a connection URI, as open_store() takes it) with the password
/// source of `store_opts`. Throws store_open_error, one line without the password, when the URI is malformed, or the
/// server cannot be reached or refuses the login; the store itself must have been opened first (its schema).
lease_store_ptr open_lease_store(const std::string& spec, const store_options& store_opts, lease_store_options opts);

/// Opens a listener for the notifications of the lease store of `spec`, as open_lease_store() opens the store.
lease_listener_ptr open_lease_listener(const std::string& spec, const store_options& store_opts);

} // namespace feedrouter
