#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/controller_client.hpp"
#include "actors/lease_manager.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"

namespace feedrouter {

/// Answers GET /v1/cluster: how the instances share the shards and registrations (docs/cluster.md). Which caller may
/// ask is the control API's decision (with an admin key configured, only an operator); this actor checks a tenant's
/// key: one the controller accepts (GET /api/v1/namespaces answers 200), or any well-formed one with --no-verify-auth.
using cluster_info_actor = caf::typed_actor<
  /// Answers the report for a tenant with authKey `auth_key`: counts and instance ids only.
  caf::replies_to<cluster_atom, std::string>::with<api_result>,
  /// Answers the report for an operator, whom the control API authenticated with the admin key: with the instances'
  /// advertised URLs.
  caf::replies_to<cluster_atom>::with<api_result>>;

struct cluster_info_config {
  /// Checks the caller's key; nullopt (--no-verify-auth): any well-formed key.
  std::optional<controller_actor> controller;
  /// Cluster mode: the lease manager that reads the leases and instances; nullopt: one instance (SQLite), which holds
  /// every shard.
  std::optional<lease_manager_actor> leases;
  std::string self_id;
  std::string url;
  sys_ms started{};
  std::shared_ptr<const metrics> stats; ///< one instance: its registrations
  std::chrono::milliseconds request_timeout{15'000};
};

/// Spawns the actor.
cluster_info_actor spawn_cluster_info(caf::actor_system& sys, cluster_info_config cfg);

} // namespace feedrouter
