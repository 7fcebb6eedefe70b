#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/registration.hpp"
#include "core/secrets_key.hpp"

namespace feedrouter {

/// The lease a trigger runs under in cluster mode: its shard and the epoch of the lease its instance holds on that
/// shard. A write carrying it is applied only while that lease is still held at that epoch (see store::commit_fenced).
struct fencing_token {
  std::uint32_t shard = 0;
  std::int64_t epoch = 0;
};

/// One change to the store; a batch of them is committed as one transaction.
///
/// A registration's params_json and auth_key are stored sealed under the store's secrets key, and its auth_hash is
/// not written: the store keeps its own keyed hash of auth_key (secrets_key::hash_auth_key), which load_all returns.
struct store_op {
  enum class kind {
    put_registration,  ///< insert or replace the whole record (record.pending, last_seq and deliveries are not written)
    put_status,        ///< replace only record.status of an existing record (no-op when it is gone)
    erase,             ///< remove record.trigger with its events, dead letters and deliveries (no-op when it is gone)
    put_event,         ///< store `event` as pending for record.trigger (no-op when the registration is gone)
    erase_event,       ///< remove the pending event `event.seq` of record.trigger (no-op when it is gone)
    put_dead_letter,   ///< store `letter` as a dead letter of record.trigger (no-op when the registration is gone)
    erase_dead_letter, ///< remove the dead letter `letter.event.seq` of record.trigger (no-op when it is gone)
    /// remember `delivery` as taken by record.trigger (replacing one of the same seq), forgetting all but its newest
    /// replay_window_capacity ones (no-op when the registration is gone); kept after the event is erased, removed
    /// with the registration; load_all counts its seq into last_seq
    put_delivery,
  };

  kind op = kind::put_registration;
  registration_record record; ///< for every op but put_registration only record.trigger (and status) are read
  stored_event event;         ///< put_event, erase_event
  dead_letter letter;         ///< put_dead_letter, erase_dead_letter
  taken_delivery delivery;    ///< put_delivery
  /// The lease of the trigger that makes the change (cluster mode); unset: applied without a lease (one instance,
  /// a change the service makes on its own behalf, migrate).
  std::optional<fencing_token> fence;
};

/// What commit_fenced() did with a batch.
struct commit_result {
  /// Why the batch failed; then nothing of it was applied.
  std::optional<std::string> error;
  /// The triggers whose changes were refused because their fencing token is stale (the lease moved on, or names
  /// another shard than the trigger's), each once, in batch order; every other change was applied.
  std::vector<trigger_ref> fenced;
};

/// How many registrations one namespace holds.
struct namespace_count {
  std::string ns;
  std::size_t registrations = 0;
};

/// Persistent state of the provider behind one interface: SQLite for one instance, PostgreSQL for a cluster.
///
/// Not thread-safe: one owner (the store actor) calls it; disk I/O happens nowhere else.
class store {
public:
  virtual ~store() = default;

  /// Returns every stored registration with the span of its pending events (their first seq and count; the bodies
  /// are read with load_pending), last_seq and its latest webhook deliveries, ordered by namespace, then name
  /// (bytewise). Reads no event body. Throws store_open_error when the store cannot be read.
  virtual std::vector<registration_record> load_all() = 0;

  /// Returns what load_all() returns, for the registrations of `shards` only (shard_of() in core/shard.hpp).
  /// This default filters load_all(); a store with a shard column reads only those rows.
  virtual std::vector<registration_record> load_shards(const std::vector<std::uint32_t>& shards);

  /// Returns the stored registration of `trigger`, without its pending events, or nullopt when there is none. This
  /// default reads load_shards() of its shard. Throws store_open_error when the store cannot be read.
  virtual std::optional<registration_record> load_registration(const trigger_ref& trigger);

  /// Returns the registrations whose authKey hash is `auth_hash` (registration_record::auth_hash as loaded) in
  /// namespace `ns`, or in every namespace when `ns` is empty, ordered by namespace, then name; without their pending
  /// events. This default filters load_all(). Throws store_open_error when the store cannot be read.
  virtual std::vector<registration_record> load_owned(const std::string& auth_hash, const std::string& ns);

  /// Returns how many registrations namespace `ns` holds, in every shard: the count a per-namespace quota is checked
  /// against in a cluster (docs/architecture.md section 9). This default counts load_all(). Throws store_open_error
  /// when the store cannot be read.
  virtual std::size_t count_registrations(const std::string& ns);

  /// Returns up to `limit` registrations of namespace `ns`, or of every namespace when `ns` is empty, in the order of
  /// namespace, then name (bytewise), from after `after` on (from the first without it); without their pending events.
  /// An operator's list in a cluster (docs/cluster.md). This default filters load_all(). Throws store_open_error when
  /// the store cannot be read.
  virtual std::vector<registration_record> load_page(const std::string& ns, const std::optional<trigger_ref>& after,
                                                     std::size_t limit);

  /// Returns up to `limit` of the namespaces that hold registrations, in name order (bytewise) from after `after` on
  /// (from the first when it is empty: no namespace is), each with how many it holds in every shard: an operator's
  /// count of the namespaces in a cluster. This default counts load_all(). Throws store_open_error when the store
  /// cannot be read.
  virtual std::vector<namespace_count> count_namespaces(const std::string& after, std::size_t limit);

  /// Returns up to `limit` dead letters of `trigger`, oldest first; an empty list on a read failure (logged).
  virtual std::vector<dead_letter> load_dead_letters(const trigger_ref& trigger, std::size_t limit) = 0;

  /// Returns pending events of `trigger` with a seq of `from_seq` or more, in seq order: at most `max_rows` of them,
  /// and no more than `max_bytes` of bodies; when the byte bound stops the read, `next_bytes` is the size of the body
  /// that did not fit. nullopt on a read failure (logged). What the delivery core reads back of bodies that waited in
  /// the store (docs/delivery.md "Memory").
  virtual std::optional<pending_page> load_pending(const trigger_ref& trigger, std::uint64_t from_seq,
                                                   std::size_t max_rows, std::size_t max_bytes) = 0;

  /// Applies `ops` in order in one transaction; returns an error text when it failed, and then nothing was applied.
  /// A change whose fencing token is stale fails the whole batch.
  virtual std::optional<std::string> commit(const std::vector<store_op>& ops) = 0;

  /// Applies `ops` in order in one transaction, except the changes whose fencing token is stale: those are left out
  /// and their triggers reported, so that one stale owner's changes do not fail the other triggers' in a group
  /// commit. The check and the changes are one transaction: a lease cannot move between them. This default, for a
  /// store of one instance (which holds every lease), is commit().
  virtual commit_result commit_fenced(const std::vector<store_op>& ops) {
    return {commit(ops), {}};
  }

  /// Returns why the store refuses every write from now on (its file was deleted or replaced, the database reported
  /// damage or an I/O error), as one line for the operator; nullopt while it is sound. Looks at the file again, so
  /// the owner calls it now and then to notice a problem before a write does.
  virtual std::optional<std::string> check() {
    return std::nullopt;
  }
};

using store_ptr = std::unique_ptr<store>;

/// A store as open_store() hands it over: reads and writes, plus the key it seals with and what the operator's
/// commands need. The service uses it as a plain `store` once started.
class store_admin : public store {
public:
  /// Returns the key the store seals secrets with and hashes authKeys with.
  virtual std::shared_ptr<const secrets_key> key() const = 0;

  /// Returns how many registrations the last load_all() (or load_shards()) loaded disabled because their secrets did
  /// not open (an altered or damaged row).
  virtual std::size_t unreadable_secrets() const = 0;

  /// Seals every secret again under `next`, recomputes every authKey hash with it and makes it the store's key, all
  /// in one transaction; afterwards removes what the old key sealed from the file's free space. Returns how many
  /// registrations were sealed again. Throws store_open_error when it fails, and then the store still uses its key.
  virtual std::size_t reseal(std::shared_ptr<const secrets_key> next) = 0;
};

using store_admin_ptr = std::unique_ptr<store_admin>;

/// How open_store() finds the secrets key and which files it accepts.
struct store_options {
  /// The secrets key file; empty: default_key_file() beside a sqlite:PATH store, or for ":memory:" a key that lives
  /// as long as the store; a PostgreSQL store needs one named. A missing file is created with a new key unless the
  /// store holds sealed values already.
  std::string key_file;
  /// PostgreSQL: a file whose first line is the password (--store-password-file); empty: the URI's password, or
  /// libpq's own sources (PGPASSFILE, ~/.pgpass).
  std::string password_file;
  /// PostgreSQL in cluster mode: the id this instance holds shard leases under. A change carrying a fencing token is
  /// applied only while the token's lease names this id at the token's epoch; empty: no lease is held.
  std::string instance_id;
  /// Accept an existing zero-byte store file as a new, empty store; without it such a file (a truncated store) is
  /// refused.
  bool init_store = false;
  /// Run the full integrity check when opening instead of the quick one (--check-store).
  bool full_check = false;
  /// Create the store when it does not exist; without it (--check-store, rotate-key) a missing store is refused.
  bool create = true;
};

/// Thrown at start-up when a store cannot be opened; the message is one line meant for the operator.
struct store_open_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Thrown by open_store() when another process holds the store (a running feedrouter): `check-config` reports it as
/// such and checks the rest.
struct store_in_use_error : store_open_error {
  using store_open_error::store_open_error;
};

/// Thrown by open_store() without store_options::create when the store does not exist.
struct store_missing_error : store_open_error {
  using store_open_error::store_open_error;
};

/// Returns the secrets key file open_store() uses for `spec`: opts.key_file, else default_key_file() of a sqlite:PATH
/// store; empty for ":memory:" without one. Throws store_open_error when the spec is malformed, and for a PostgreSQL
/// store without opts.key_file.
std::string secrets_key_file_of(const std::string& spec, const store_options& opts);

/// Returns whether `spec` names a store that several instances may share (PostgreSQL): feedrouter then runs as one
/// instance of a cluster (docs/cluster.md).
bool is_shared_store(const std::string& spec);

/// Returns `spec` as messages and logs name the store: a PostgreSQL URI without its password and options.
std::string store_display_name(const std::string& spec);

/// Opens the store named by `spec`: "sqlite:PATH" (":memory:" for a private in-memory database), or a PostgreSQL
/// connection URI "postgresql://..." / "postgres://..." (postgres_store.hpp). Creates the file (mode 0600) or the
/// schema when missing, checks the store's integrity, loads the secrets key (see store_options) and migrates an
/// older schema, sealing its secrets. Throws store_open_error when the spec is malformed, the store cannot be opened
/// or reached, is locked by another process, is empty, damaged, or has a newer schema than this build knows, or
/// when the key does not match the store; the store is never modified then.
store_admin_ptr open_store(const std::string& spec, const store_options& opts = {});

} // namespace feedrouter
