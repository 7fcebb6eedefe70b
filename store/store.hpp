#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/registration.hpp"

namespace feedrouter {

/// One change to the store; a batch of them is committed as one transaction.
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

  /// Applies `ops` in order in one transaction; returns an error text when it failed, and then nothing was applied.
  virtual std::optional<std::string> commit(const std::vector<store_op>& ops) = 0;
};

using store_ptr = std::unique_ptr<store>;

/// Thrown at start-up when a store cannot be opened; the message is one line meant for the operator.
struct store_open_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Opens the store named by `spec`: "sqlite:PATH" (":memory:" for a private in-memory database). Creates the file and
/// schema when missing. Throws store_open_error when the spec is malformed, the file cannot be opened or is locked by
/// another process, or its schema version is newer than this build knows; the file is never modified then.
store_ptr open_store(const std::string& spec);

} // namespace feedrouter
