#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/cluster_metrics.hpp"
#include "actors/cluster_view.hpp"
#include "actors/shard_runner.hpp"
#include "core/fire_fence.hpp"
#include "core/lease_book.hpp"
#include "core/rate_limiter.hpp"
#include "store/lease_store.hpp"

namespace feedrouter {

/// Cluster mode: holds this instance's share of the shard leases (docs/cluster.md). Every renewal interval (a third of
/// the TTL) it sends its heartbeat, renews its leases, looks at every lease and balances: it acquires free or expired
/// leases up to its fair share and gives away what is above it, gracefully (the shard runner stops those triggers
/// and flushes their writes before the lease is released and the other instances are notified). A notification from
/// another instance (a release, a join, a departure) makes it look at once.
///
/// With --namespace-fire-rate each round also counts the registrations of each namespace in its shards and in all, and
/// gives this instance's namespace limiter that part of each namespace's rate (docs/cluster.md, "Limits").
///
/// Self-fencing: each lease is usable until two thirds of the TTL after its renewal was sent, on this instance's
/// monotonic clock; the fire fence closes at that deadline and the shard runner stops the shard, before the server
/// lets anyone take the lease over. A lease the server no longer renews is lost the same way.
///
/// The decisions (what to renew, acquire and give away, and when a lease is given up) are core/lease_keeper.hpp's,
/// tested on a manual clock; this actor carries them out. It runs on a thread of its own: its calls to the store block
/// (bounded by the lease store's time-outs), and its listener waits for notifications on another thread.
using lease_manager_actor = caf::typed_actor<
  /// Gives every lease away gracefully and leaves the cluster (SIGTERM); answers how many leases it released.
  caf::replies_to<leave_atom>::with<std::size_t>,
  /// Answers the cluster's report for GET /v1/cluster.
  caf::replies_to<cluster_atom>::with<cluster_report>,
  /// Looks at the leases now: another instance changed them, or a request found its registration's owner gone.
  caf::reacts_to<notified_atom>>;

struct lease_manager_config {
  lease_store_ptr store;
  lease_listener_ptr listener; ///< null: no notifications, only the heartbeat
  lease_timing timing;
  shard_runner_actor runner;
  std::shared_ptr<fire_fence> fence;
  std::shared_ptr<cluster_view> view;
  std::shared_ptr<cluster_metrics> stats;
  /// --namespace-fire-rate: given, each round sets this instance's part of each namespace's rate (the part of the
  /// namespace's registrations it runs); null: no limit to share.
  std::shared_ptr<rate_limiter> namespace_limiter;
};

/// Spawns the lease manager on a thread of its own; it joins the cluster at once.
lease_manager_actor spawn_lease_manager(caf::actor_system& sys, lease_manager_config cfg);

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::cluster_report)
