#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace feedrouter {

/// Keeps the provider's state in one SQLite file (WAL, synchronous=NORMAL), locked exclusively for the lifetime of
/// the object so that no second process (or second store in this process) can use the same file.
///
/// Internal to store/: other layers get one through open_store() and see only `store`.
class sqlite_store final : public store {
public:
  // -- constants --------------------------------------------------------------

  /// The schema version (PRAGMA user_version) this build creates and reads; the last step in sqlite_store.cpp's
  /// migration list.
  static constexpr int schema_version = 2;

  // -- constructors, destructors, and assignment operators --------------------

  /// Opens the database at `path` (":memory:" for a private in-memory one), creating the file and schema when
  /// missing and migrating an older schema. Throws store_open_error when the file cannot be opened, is not a SQLite
  /// database, is locked, or has a newer schema; the file is left untouched then.
  explicit sqlite_store(const std::string& path);

  ~sqlite_store() override;

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  // store
  std::vector<registration_record> load_all() override;
  std::vector<dead_letter> load_dead_letters(const trigger_ref& trigger, std::size_t limit) override;
  std::optional<std::string> commit(const std::vector<store_op>& ops) override;

private:
  // -- member types -----------------------------------------------------------

  struct db_closer {
    void operator()(sqlite3* db) const noexcept;
  };

  struct stmt_finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };

  using db_ptr = std::unique_ptr<sqlite3, db_closer>;
  using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

  // -- opening ----------------------------------------------------------------

  [[noreturn]] void fail_open(int rc, const std::string& doing) const;
  void exec_or_fail(const char* sql, const std::string& doing);
  int read_user_version();
  void lock_and_check_version();
  void enable_wal();
  void migrate();
  stmt_ptr prepare(const char* sql);

  // -- committing -------------------------------------------------------------

  std::optional<std::string> apply(const store_op& op);
  std::optional<std::string> erase_registration(const trigger_ref& trigger);
  std::optional<std::string> run(sqlite3_stmt* stmt, int bind_rc);
  void rollback();

  // -- member variables -------------------------------------------------------

  std::string path_;
  db_ptr db_; // declared before the statements: they are finalized first
  stmt_ptr begin_;
  stmt_ptr commit_;
  stmt_ptr rollback_;
  stmt_ptr put_registration_;
  stmt_ptr put_status_;
  stmt_ptr erase_;
  stmt_ptr erase_events_of_;
  stmt_ptr erase_dead_letters_of_;
  stmt_ptr put_event_;
  stmt_ptr erase_event_;
  stmt_ptr put_dead_letter_;
  stmt_ptr erase_dead_letter_;
  stmt_ptr select_all_;
  stmt_ptr select_pending_;
  stmt_ptr select_dead_letter_seqs_;
  stmt_ptr select_dead_letters_;
};

} // namespace feedrouter
