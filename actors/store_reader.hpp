#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/store_actor.hpp"

namespace feedrouter {

/// Cluster mode: answers the reads that need not reach the instance running a registration from the store
/// (docs/cluster.md): a key's list (every shard's registrations are in the store, not in one registry), and READ or
/// the dead letters of a registration whose shard has no valid owner at the moment (a takeover is under way); such a
/// READ shows the stored status marked "stale". A key sees only what it owns, as in the registry; an operator (the
/// admin key) sees every key's registrations and the namespaces' counts.
using store_reader_actor = caf::typed_actor<
  /// Answers api_op::list, api_op::read (stale) or api_op::dead_letters from the store.
  caf::replies_to<api_command>::with<api_result>,
  /// Answers admin_op::list, admin_op::namespaces or admin_op::read (stale) from the store.
  caf::replies_to<admin_command>::with<api_result>,
  /// Answers the triggers named `name` the key `auth_key` owns, in any namespace: how "_" is resolved.
  caf::replies_to<lookup_atom, std::string, std::string>::with<std::vector<trigger_ref>>>;

struct store_reader_config {
  store_actor store;
  /// The lookup hash of an authKey, as registry_config::hash_key.
  std::function<std::string(std::string_view)> hash_key;
  std::string public_url; ///< base of hook URLs
  std::chrono::milliseconds request_timeout{15'000};
};

/// Spawns a store reader.
store_reader_actor spawn_store_reader(caf::actor_system& sys, store_reader_config cfg);

} // namespace feedrouter
