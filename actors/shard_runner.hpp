#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/cluster_view.hpp"
#include "actors/registry.hpp"
#include "actors/store_actor.hpp"
#include "core/lease_book.hpp"

namespace feedrouter {

/// Cluster mode: runs the registrations of the shards whose leases the lease manager holds (docs/cluster.md). It
/// loads a gained shard's registrations from the store and has the registry start them, has the registry stop a lost
/// shard's at once, and stops a shard given away gracefully: its triggers first, then their writes flushed, and only
/// then is the lease released. It tells the cluster view how many held shards are not running yet (/ready).
using shard_runner_actor = caf::typed_actor<
  /// Leases acquired: load their shards' registrations and start them.
  caf::reacts_to<gained_atom, std::vector<shard_lease_ref>>,
  /// Leases lost (their fire fence is closed already): stop their registrations now.
  caf::reacts_to<lost_atom, std::vector<shard_lease_ref>>,
  /// Leases to give away: answers how many registrations stopped, once their triggers are gone and everything they
  /// wrote is committed.
  caf::replies_to<release_atom, std::vector<shard_lease_ref>>::with<std::size_t>>;

struct shard_runner_config {
  registry_actor registry;
  store_actor store;
  std::shared_ptr<cluster_view> view;
  /// How long the runner waits for the store or the registry; a load that fails is tried again after retry_delay.
  std::chrono::milliseconds request_timeout{15'000};
  std::chrono::milliseconds retry_delay{1'000};
};

/// Spawns the shard runner.
shard_runner_actor spawn_shard_runner(caf::actor_system& sys, shard_runner_config cfg);

} // namespace feedrouter
