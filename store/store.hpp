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
    put_registration, ///< insert or replace the whole record
    put_status,       ///< replace only record.status of an existing record (no-op when it is gone)
    erase,            ///< remove record.trigger (no-op when it is gone)
  };

  kind op = kind::put_registration;
  registration_record record; ///< for put_status and erase only trigger (and status) are read
};

/// Persistent state of the provider behind one interface (SQLite now, PostgreSQL later).
///
/// Not thread-safe: one owner (the store actor) calls it; disk I/O happens nowhere else.
class store {
public:
  virtual ~store() = default;

  /// Returns every stored registration.
  virtual std::vector<registration_record> load_all() = 0;

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
