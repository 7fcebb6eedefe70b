#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/registration.hpp"
#include "core/secrets_key.hpp"

namespace feedrouter {

/// One change to the store; a batch of them is committed as one transaction.
///
/// A registration's params_json and auth_key are stored sealed under the store's secrets key, and its auth_hash is
/// not written: the store keeps its own keyed hash of auth_key (secrets_key::hash_auth_key), which load_all returns.
struct store_op {
  enum class kind {
    put_registration,  ///< insert or replace the whole record (record.pending and last_seq are not written)
    put_status,        ///< replace only record.status of an existing record (no-op when it is gone)
    erase,             ///< remove record.trigger with its pending events and dead letters (no-op when it is gone)
    put_event,         ///< store `event` as pending for record.trigger (no-op when the registration is gone)
    erase_event,       ///< remove the pending event `event.seq` of record.trigger (no-op when it is gone)
    put_dead_letter,   ///< store `letter` as a dead letter of record.trigger (no-op when the registration is gone)
    erase_dead_letter, ///< remove the dead letter `letter.event.seq` of record.trigger (no-op when it is gone)
  };

  kind op = kind::put_registration;
  registration_record record; ///< for every op but put_registration only record.trigger (and status) are read
  stored_event event;         ///< put_event, erase_event
  dead_letter letter;         ///< put_dead_letter, erase_dead_letter
};

/// Persistent state of the provider behind one interface (SQLite now, PostgreSQL later).
///
/// Not thread-safe: one owner (the store actor) calls it; disk I/O happens nowhere else.
class store {
public:
  virtual ~store() = default;

  /// Returns every stored registration with its pending events (oldest first) and last_seq.
  virtual std::vector<registration_record> load_all() = 0;

  /// Returns up to `limit` dead letters of `trigger`, oldest first; an empty list on a read failure (logged).
  virtual std::vector<dead_letter> load_dead_letters(const trigger_ref& trigger, std::size_t limit) = 0;

  /// Returns pending events of `trigger` with a seq of `from_seq` or more, in seq order: at most `max_rows` of them,
  /// and no more than `max_bytes` of bodies; when the byte bound stops the read, `next_bytes` is the size of the body
  /// that did not fit. nullopt on a read failure (logged). What the delivery core reads back of bodies that waited in
  /// the store (docs/delivery.md "Memory").
  virtual std::optional<pending_page> load_pending(const trigger_ref& trigger, std::uint64_t from_seq,
                                                   std::size_t max_rows, std::size_t max_bytes) = 0;

  /// Applies `ops` in order in one transaction; returns an error text when it failed, and then nothing was applied.
  virtual std::optional<std::string> commit(const std::vector<store_op>& ops) = 0;

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

  /// Returns how many registrations the last load_all() loaded disabled because their secrets did not open (an altered
  /// or damaged row).
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
  /// as long as the store. A missing file is created with a new key unless the store holds sealed values already.
  std::string key_file;
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

/// Returns the secrets key file open_store() uses for `spec`: opts.key_file, else default_key_file() of a sqlite:PATH
/// store; empty for ":memory:" without one. Throws store_open_error when the spec is malformed.
std::string secrets_key_file_of(const std::string& spec, const store_options& opts);

/// Opens the store named by `spec`: "sqlite:PATH" (":memory:" for a private in-memory database). Creates the file
/// (mode 0600) and schema when missing, checks the database's integrity, loads the secrets key (see store_options) and
/// migrates an older schema, sealing its secrets. Throws store_open_error when the spec is malformed, the file cannot
/// be opened, is locked by another process, is empty, damaged, or has a newer schema than this build knows, or when
/// the key does not match the store; the file is never modified then.
store_admin_ptr open_store(const std::string& spec, const store_options& opts = {});

} // namespace feedrouter
