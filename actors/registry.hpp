#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/controller_client.hpp"
#include "actors/github_hooks.hpp"
#include "actors/messages.hpp"
#include "actors/trigger_env.hpp"
#include "core/crypto.hpp"
#include "core/lease_book.hpp"

namespace feedrouter {

/// Cluster mode: the registrations of shards whose leases this instance acquired, as the store held them then.
struct shard_start {
  std::vector<shard_lease_ref> leases;
  std::vector<registration_record> records;
};

/// The map from trigger to trigger actor, and the only entry point for lifecycle requests.
using registry_actor = caf::typed_actor<
  /// Carries out one lifecycle request (or hands a webhook event to its registration) and answers how it ended.
  caf::replies_to<api_command>::with<api_result>,
  /// Carries out one request of an operator (the admin key): any registration, whoever owns it.
  caf::replies_to<admin_command>::with<api_result>,
  /// Removes a registration on the provider's own behalf (a one-shot alarm with deleteAfterFire has fired).
  caf::reacts_to<remove_atom, trigger_ref>,
  /// A registration's trigger changed its state: the registry's copy, which lists answer from, follows.
  caf::reacts_to<status_atom, trigger_ref, registration_status>,
  /// Answers the number of registrations; the registry answers only once every stored one is running.
  caf::replies_to<ready_atom>::with<std::size_t>,
  /// Cluster mode: runs the shards of the leases given, each registration under its shard's lease, started in batches
  /// like those of start-up; answers how many it started, once they run.
  caf::replies_to<start_shards_atom, shard_start>::with<std::size_t>,
  /// Cluster mode: stops every registration of the shards given and forgets them; answers how many it stopped, once
  /// their trigger actors are gone (whatever they sent the store is queued there by then).
  caf::replies_to<stop_shards_atom, std::vector<std::uint32_t>>::with<std::size_t>>;

struct registry_config {
  /// Cluster mode (docs/cluster.md): the registry starts with no registration and runs the shards the shard runner
  /// hands it; a request about a registration of a shard it does not run is answered api_outcome::not_owner.
  bool cluster = false;
  trigger_env_ptr env;
  /// The controller client that checks an authKey on CREATE; nullopt (--no-verify-auth) trusts the caller.
  std::optional<controller_actor> controller;
  /// How long the registry waits for a trigger, the store or the controller before answering 503.
  std::chrono::milliseconds request_timeout{15'000};
  /// Registrations one namespace may have (--max-registrations-per-namespace); a CREATE beyond it is refused.
  std::size_t max_registrations_per_namespace = 10'000;
  /// Returns the lookup hash of an authKey: what registration_record::auth_hash holds and every request is checked
  /// against. Every hash of a key the registry computes goes through this one function; the service sets the store's
  /// keyed hash (secrets_key::hash_auth_key).
  std::function<std::string(std::string_view)> hash_key = default_key_hash;
  /// Keeps the repository hooks of github registrations at GitHub; without it a github CREATE answers 503.
  std::optional<github_hooks_actor> github_hooks;

  /// The hash of a key unless configured otherwise: hex SHA-256.
  static std::string default_key_hash(std::string_view key);
};

/// Spawns the registry and one trigger actor per stored registration in its stored state, started in batches.
registry_actor spawn_registry(caf::actor_system& sys, registry_config cfg, std::vector<registration_record> records);

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::shard_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::shard_lease_ref>)
