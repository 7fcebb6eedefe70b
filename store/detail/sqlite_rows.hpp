#pragma once

// Binding parameters and reading rows of SQLite statements: shared by the parts of sqlite_store.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/registration.hpp"

namespace feedrouter::detail {

/// Binds parameters of a statement in order and keeps the first failure, so a whole row is checked once.
class binder {
public:
  explicit binder(sqlite3_stmt* stmt) : stmt_(stmt) {
    // nop
  }

  binder& text(const std::string& x) {
    // SQLITE_STATIC: the caller's strings outlive the sqlite3_step that reads them.
    return check(sqlite3_bind_text64(stmt_, index_++, x.data(), x.size(), SQLITE_STATIC, SQLITE_UTF8));
  }

  binder& text(std::string_view x) {
    // A default-constructed view has no data pointer, which SQLite would store as NULL instead of ''.
    const char* data = x.data() != nullptr ? x.data() : "";
    return check(sqlite3_bind_text64(stmt_, index_++, data, x.size(), SQLITE_STATIC, SQLITE_UTF8));
  }

  binder& integer(std::int64_t x) {
    return check(sqlite3_bind_int64(stmt_, index_++, x));
  }

  binder& time(sys_ms x) {
    return integer(x.time_since_epoch().count());
  }

  binder& integer(const std::optional<std::int64_t>& x) {
    return x ? integer(*x) : null();
  }

  binder& time(const std::optional<sys_ms>& x) {
    return x ? time(*x) : null();
  }

  binder& key(const trigger_ref& x) {
    return text(x.ns).text(x.name);
  }

  /// Binds a seq the caller checked against max_seq.
  binder& seq(std::uint64_t x) {
    return integer(static_cast<std::int64_t>(x));
  }

  binder& event(const stored_event& x) {
    return seq(x.seq).text(x.body).time(x.accepted);
  }

  binder& status(const registration_status& x) {
    return text(to_string(x.state))
      .text(to_string(x.reason.kind))
      .integer(x.reason.status_code)
      .text(x.reason.message)
      .time(x.date_changed)
      .integer(x.fires)
      .integer(x.failures)
      .time(x.last_fired)
      .integer(x.triggers_left)
      .time(x.last_occurrence)
      .integer(x.dead_letters)
      .text(x.checkpoint);
  }

  int result() const noexcept {
    return rc_;
  }

private:
  binder& null() {
    return check(sqlite3_bind_null(stmt_, index_++));
  }

  binder& check(int rc) {
    if (rc_ == SQLITE_OK)
      rc_ = rc;
    return *this;
  }

  sqlite3_stmt* stmt_;
  int index_ = 1;
  int rc_ = SQLITE_OK;
};

/// Resets a cached statement when the scope ends, so that it holds no lock and no bound pointer past its use.
class reset_on_exit {
public:
  explicit reset_on_exit(sqlite3_stmt* stmt) : stmt_(stmt) {
    // nop
  }

  ~reset_on_exit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  reset_on_exit(const reset_on_exit&) = delete;
  reset_on_exit& operator=(const reset_on_exit&) = delete;

private:
  sqlite3_stmt* stmt_;
};

inline std::string column_text(sqlite3_stmt* stmt, int col) {
  const auto* data = sqlite3_column_text(stmt, col);
  if (data == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
}

inline std::int64_t column_int(sqlite3_stmt* stmt, int col) {
  return sqlite3_column_int64(stmt, col);
}

inline sys_ms column_time(sqlite3_stmt* stmt, int col) {
  return sys_ms{std::chrono::milliseconds{column_int(stmt, col)}};
}

inline std::optional<std::int64_t> column_opt_int(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    return std::nullopt;
  return column_int(stmt, col);
}

inline std::optional<sys_ms> column_opt_time(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    return std::nullopt;
  return column_time(stmt, col);
}

/// A failed SQLite call: its (extended) result code and message.
struct sqlite_error {
  int rc;
  std::string message;
};

/// Steps `stmt` to its end, calling `on_row(stmt)` for each row, and resets it; returns SQLite's error, if any.
template <class F>
std::optional<sqlite_error> for_each_row(sqlite3* db, sqlite3_stmt* stmt, F&& on_row) {
  reset_on_exit guard{stmt};
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    on_row(stmt);
  if (rc != SQLITE_DONE)
    return sqlite_error{rc, sqlite3_errmsg(db)}; // read before the reset overwrites it
  return std::nullopt;
}

} // namespace feedrouter::detail
