#pragma once

#include <chrono>
#include <memory>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/metrics.hpp"
#include "actors/messages.hpp"
#include "store/store.hpp"
#include "store/store_health.hpp"

namespace feedrouter {

/// The single writer over the store. Writes that arrive while a commit runs are committed together in the next
/// transaction (group commit), and status updates of one registration still waiting are coalesced into the newest.
using store_actor = caf::typed_actor<
  /// Inserts or replaces a registration; answers once it is committed.
  caf::replies_to<put_atom, registration_record>::with<commit_atom>,
  /// Removes a registration; answers once it is committed.
  caf::replies_to<erase_atom, trigger_ref>::with<commit_atom>,
  /// Replaces the status of a registration; not answered (fire and forget, coalesced).
  caf::reacts_to<status_atom, trigger_ref, registration_status>,
  /// Applies several changes in one transaction (events, dead letters, status); answers once committed.
  caf::replies_to<write_atom, std::vector<store_op>>::with<commit_atom>,
  /// Answers up to N dead letters of a registration, oldest first, after committing what is queued.
  caf::replies_to<load_atom, trigger_ref, std::size_t>::with<std::vector<dead_letter>>,
  /// Answers a registration's pending events from a seq on, within rows and bytes (store::load_pending), after
  /// committing what is queued; an error when the read fails.
  caf::replies_to<pending_atom, trigger_ref, std::uint64_t, std::size_t, std::size_t>::with<pending_page>,
  /// Answers once every write received before it is committed.
  caf::replies_to<flush_atom>::with<commit_atom>,
  /// Internal: commits what has queued up; the store actor sends it to itself.
  caf::reacts_to<commit_atom>,
  /// Internal: asks the store whether it still accepts writes; the store actor sends it to itself (see store_watch).
  caf::reacts_to<watch_atom>>;

/// How the store actor watches its store. Whenever the store says it refuses writes for good (store::check(): its
/// file deleted or replaced, damage, an I/O error), the actor writes one error line and marks `health`.
struct store_watch {
  /// Marked unwritable when the store refuses writes; nullptr: the problem is only logged.
  std::shared_ptr<store_health> health;
  /// How often the store is asked without a write; zero: only after a failed write or read.
  std::chrono::milliseconds interval{0};
  /// Where each commit's duration and failure are counted; nullptr: nowhere.
  std::shared_ptr<metrics> stats{};
};

/// How the store actor runs: on a thread of its own (production: disk I/O must not hold a scheduler thread), or on the
/// scheduler (deterministic tests).
enum class store_thread { dedicated, scheduler };

/// Spawns the store actor, which owns `db` from now on.
store_actor spawn_store_actor(caf::actor_system& sys, store_ptr db, store_thread where, store_watch watch = {});

} // namespace feedrouter
