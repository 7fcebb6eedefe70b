#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
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
///
/// A change may carry the fencing token of the lease its trigger runs under (cluster mode): the store leaves out a
/// change whose lease moved on and commits the others of the batch; a request with such a change is answered with
/// store_errc::fenced (is_fenced()), and its trigger must stop, since its shard runs elsewhere now.
using store_actor = caf::typed_actor<
  /// Inserts or replaces a registration; answers once it is committed.
  caf::replies_to<put_atom, registration_record>::with<commit_atom>,
  /// As above, under a lease.
  caf::replies_to<put_atom, registration_record, fencing_token>::with<commit_atom>,
  /// Inserts a registration in place of one of the same trigger, whose pending events, dead letters and deliveries are
  /// erased in the same transaction (a CREATE starts afresh); answers once it is committed.
  caf::replies_to<create_atom, registration_record>::with<commit_atom>,
  /// As above, under a lease.
  caf::replies_to<create_atom, registration_record, fencing_token>::with<commit_atom>,
  /// Removes a registration; answers once it is committed.
  caf::replies_to<erase_atom, trigger_ref>::with<commit_atom>,
  /// As above, under a lease.
  caf::replies_to<erase_atom, trigger_ref, fencing_token>::with<commit_atom>,
  /// Replaces the status of a registration; not answered (fire and forget, coalesced).
  caf::reacts_to<status_atom, trigger_ref, registration_status>,
  /// As above, under a lease: left out when the lease moved on.
  caf::reacts_to<status_atom, trigger_ref, registration_status, fencing_token>,
  /// Applies several changes in one transaction (events, dead letters, status); answers once committed.
  caf::replies_to<write_atom, std::vector<store_op>>::with<commit_atom>,
  /// As above for changes no fire waits for (the outcomes of fires; a webhook event handed to its fire at once): they
  /// may wait store_watch::event_delay for others to share their commit. An erase_event whose put_event still waits
  /// in the same batch cancels it: neither is written.
  caf::replies_to<write_atom, std::vector<store_op>, linger_atom>::with<commit_atom>,
  /// Answers up to N dead letters of a registration, oldest first, after committing what is queued.
  caf::replies_to<load_atom, trigger_ref, std::size_t>::with<std::vector<dead_letter>>,
  /// Answers the registrations of some shards with their pending events (store::load_shards), after committing what is
  /// queued.
  caf::replies_to<load_shards_atom, std::vector<std::uint32_t>>::with<std::vector<registration_record>>,
  /// Answers one registration as stored, without its events (store::load_registration).
  caf::replies_to<lookup_atom, trigger_ref>::with<std::optional<registration_record>>,
  /// Answers a key's registrations by the hash of the key, in one namespace or, for "", all (store::load_owned).
  caf::replies_to<owned_atom, std::string, std::string>::with<std::vector<registration_record>>,
  /// Answers how many registrations a namespace holds in every shard (store::count_registrations).
  caf::replies_to<count_atom, std::string>::with<std::size_t>,
  /// Answers a page of every key's registrations in a namespace or all, after a cursor (store::load_page).
  caf::replies_to<page_atom, std::string, std::optional<trigger_ref>, std::size_t>::with<
    std::vector<registration_record>>,
  /// Answers a page of the namespaces with their counts, after a cursor (store::count_namespaces).
  caf::replies_to<tally_atom, std::string, std::size_t>::with<std::vector<namespace_count>>,
  /// Answers a registration's pending events from a seq on, within rows and bytes (store::load_pending), after
  /// committing what is queued; an error when the read fails.
  caf::replies_to<pending_atom, trigger_ref, std::uint64_t, std::size_t, std::size_t>::with<pending_page>,
  /// Answers once every write received before it is committed.
  caf::replies_to<flush_atom>::with<commit_atom>,
  /// Internal: commits what has queued up; the store actor sends it to itself.
  caf::reacts_to<commit_atom>,
  /// Internal: asks the store whether it still accepts writes; the store actor sends it to itself (see store_watch).
  caf::reacts_to<watch_atom>>;

/// The errors the store actor answers with besides CAF's own.
enum class store_errc : std::uint8_t {
  fenced = 1, ///< a change's lease is no longer held at its epoch: its shard runs on another instance now
};

/// Returns the error for `x`, with a message.
caf::error make_error(store_errc x, std::string message);

/// Returns whether `err` says that a change was fenced: its trigger must stop.
bool is_fenced(const caf::error& err);

/// How the store actor watches its store. Whenever the store says it refuses writes for good (store::check(): its
/// file deleted or replaced, damage, an I/O error), the actor writes one error line and marks `health`.
struct store_watch {
  /// Marked unwritable when the store refuses writes; nullptr: the problem is only logged.
  std::shared_ptr<store_health> health;
  /// How often the store is asked without a write; zero: only after a failed write or read.
  std::chrono::milliseconds interval{0};
  /// Where each commit's duration and failure are counted; nullptr: nowhere.
  std::shared_ptr<metrics> stats{};
  /// How long a status update (status_atom) may wait for others to share its commit; zero: committed as soon as the
  /// mailbox is empty. A write that is answered (put, erase, write, flush) or a read commits what waits at once.
  std::chrono::milliseconds status_delay{0};
  /// How long a lingering write (write_atom with linger_atom) may wait for others to share its commit; zero: as a
  /// write. A webhook event is fired beside its put: when its fire answers within this delay, its erase cancels the
  /// put and neither reaches the store.
  std::chrono::milliseconds event_delay{0};
};

/// How the store actor runs: on a thread of its own (production: disk I/O must not hold a scheduler thread), or on the
/// scheduler (deterministic tests).
enum class store_thread { dedicated, scheduler };

/// Spawns the store actor, which owns `db` from now on.
store_actor spawn_store_actor(caf::actor_system& sys, store_ptr db, store_thread where, store_watch watch = {});

} // namespace feedrouter
