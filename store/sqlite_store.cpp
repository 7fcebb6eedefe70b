#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <system_error>
#include <utility>

namespace feedrouter {

namespace {

// -- schema -------------------------------------------------------------------

/// One step of the schema: the statements that take a database from `version - 1` to `version`.
struct migration {
  int version;
  const char* sql;
};

/// Every schema change, oldest first; open() applies the steps newer than the file's user_version in one transaction.
/// To change the schema, append a step (never edit a released one) and bump sqlite_store::schema_version. Later
/// tables (checkpoints, pending events, dead letters) arrive this way.
constexpr migration migrations[] = {
  {1, R"sql(
    CREATE TABLE registrations (
      namespace          TEXT    NOT NULL CHECK (namespace <> ''),
      name               TEXT    NOT NULL CHECK (name <> ''),
      feed               TEXT    NOT NULL,
      params_json        TEXT    NOT NULL,
      auth_key           TEXT    NOT NULL,
      auth_hash          TEXT    NOT NULL,
      created_ms         INTEGER NOT NULL,
      state              TEXT    NOT NULL,
      reason_kind        TEXT    NOT NULL,
      reason_code        INTEGER NOT NULL,
      reason_message     TEXT    NOT NULL,
      date_changed_ms    INTEGER NOT NULL,
      fires              INTEGER NOT NULL CHECK (fires >= 0),
      failures           INTEGER NOT NULL CHECK (failures >= 0),
      last_fired_ms      INTEGER,
      triggers_left      INTEGER CHECK (triggers_left >= 0),
      last_occurrence_ms INTEGER,
      PRIMARY KEY (namespace, name)
    ) STRICT;
  )sql"},
};

constexpr bool versions_are_consecutive() {
  for (std::size_t i = 0; i < std::size(migrations); ++i)
    if (migrations[i].version != static_cast<int>(i) + 1)
      return false;
  return true;
}

static_assert(versions_are_consecutive(), "migration versions must be 1, 2, 3, ...");
static_assert(std::size(migrations) == sqlite_store::schema_version,
              "sqlite_store::schema_version must name the last migration");

// -- statements -----------------------------------------------------------------

// The parameters of both writes are bound in the order they appear, see binder.
constexpr const char* put_registration_sql
  = "INSERT OR REPLACE INTO registrations (namespace, name, feed, params_json, auth_key, auth_hash, created_ms, "
    "state, reason_kind, reason_code, reason_message, date_changed_ms, fires, failures, last_fired_ms, "
    "triggers_left, last_occurrence_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

constexpr const char* put_status_sql
  = "UPDATE registrations SET state = ?, reason_kind = ?, reason_code = ?, reason_message = ?, "
    "date_changed_ms = ?, fires = ?, failures = ?, last_fired_ms = ?, triggers_left = ?, last_occurrence_ms = ? "
    "WHERE namespace = ? AND name = ?";

constexpr const char* erase_sql = "DELETE FROM registrations WHERE namespace = ? AND name = ?";

constexpr const char* select_all_sql
  = "SELECT namespace, name, feed, params_json, auth_key, auth_hash, created_ms, state, reason_kind, reason_code, "
    "reason_message, date_changed_ms, fires, failures, last_fired_ms, triggers_left, last_occurrence_ms "
    "FROM registrations ORDER BY namespace, name";

constexpr std::string_view spec_prefix = "sqlite:";

// -- binding and reading ----------------------------------------------------------

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
      .time(x.last_occurrence);
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

std::string column_text(sqlite3_stmt* stmt, int col) {
  const auto* data = sqlite3_column_text(stmt, col);
  if (data == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
}

std::int64_t column_int(sqlite3_stmt* stmt, int col) {
  return sqlite3_column_int64(stmt, col);
}

sys_ms column_time(sqlite3_stmt* stmt, int col) {
  return sys_ms{std::chrono::milliseconds{column_int(stmt, col)}};
}

std::optional<std::int64_t> column_opt_int(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    return std::nullopt;
  return column_int(stmt, col);
}

std::optional<sys_ms> column_opt_time(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    return std::nullopt;
  return column_time(stmt, col);
}

/// Reads one row of select_all_sql. A state or reason this build does not know (a corrupted or hand-edited row)
/// yields a registration disabled by the provider, so that it neither runs nor stops the start-up.
registration_record read_row(sqlite3_stmt* stmt) {
  registration_record rec;
  rec.trigger.ns = column_text(stmt, 0);
  rec.trigger.name = column_text(stmt, 1);
  rec.feed = column_text(stmt, 2);
  rec.params_json = column_text(stmt, 3);
  rec.auth_key = column_text(stmt, 4);
  rec.auth_hash = column_text(stmt, 5);
  rec.created = column_time(stmt, 6);
  auto& st = rec.status;
  auto state_text = column_text(stmt, 7);
  auto kind_text = column_text(stmt, 8);
  auto state = parse_registration_state(state_text);
  auto kind = parse_reason_kind(kind_text);
  if (state && kind) {
    st.state = *state;
    st.reason.kind = *kind;
    st.reason.status_code = static_cast<int>(column_int(stmt, 9));
    st.reason.message = column_text(stmt, 10);
  } else {
    st.state = registration_state::disabled;
    st.reason.kind = reason_kind::automatic;
    st.reason.status_code = 0;
    st.reason.message = state ? "the store holds an unknown reason kind '" + kind_text + "'"
                              : "the store holds an unknown state '" + state_text + "'";
  }
  st.date_changed = column_time(stmt, 11);
  st.fires = column_int(stmt, 12);
  st.failures = column_int(stmt, 13);
  st.last_fired = column_opt_time(stmt, 14);
  st.triggers_left = column_opt_int(stmt, 15);
  st.last_occurrence = column_opt_time(stmt, 16);
  return rec;
}

std::string_view op_name(store_op::kind x) {
  switch (x) {
    case store_op::kind::put_registration:
      return "put_registration";
    case store_op::kind::put_status:
      return "put_status";
    case store_op::kind::erase:
      return "erase";
  }
  return "unknown operation";
}

} // namespace

// -- deleters -------------------------------------------------------------------

void sqlite_store::db_closer::operator()(sqlite3* db) const noexcept {
  // close_v2 also rolls back a transaction left open by a failed open().
  sqlite3_close_v2(db);
}

void sqlite_store::stmt_finalizer::operator()(sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

// -- opening --------------------------------------------------------------------

sqlite_store::sqlite_store(const std::string& path) : path_(path) {
  sqlite3* raw = nullptr;
  constexpr int open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  auto rc = sqlite3_open_v2(path_.c_str(), &raw, open_flags, nullptr);
  db_.reset(raw); // closes the handle even when opening failed
  if (rc != SQLITE_OK) {
    auto text = std::string{"cannot open store '"} + path_ + "': " + sqlite3_errmsg(raw);
    if (auto err = sqlite3_system_errno(raw); err != 0)
      text += " (" + std::generic_category().message(err) + ")";
    throw store_open_error(text);
  }
  // SQLite falls back to read-only when it may not write the file; the provider cannot run on that.
  if (sqlite3_db_readonly(raw, "main") == 1)
    throw store_open_error("cannot open store '" + path_ + "': the file is read-only");
  // Fail at once instead of waiting when another process holds the lock.
  sqlite3_busy_timeout(raw, 0);
  // EXCLUSIVE keeps the file lock from the first transaction until close; in WAL mode it also keeps the WAL index in
  // process memory (no -shm file), so no other process can read or write the file while this store is open.
  exec_or_fail("PRAGMA locking_mode = EXCLUSIVE", "setting the locking mode");
  lock_and_check_version();
  enable_wal();
  migrate();
  begin_ = prepare("BEGIN IMMEDIATE");
  commit_ = prepare("COMMIT");
  rollback_ = prepare("ROLLBACK");
  put_registration_ = prepare(put_registration_sql);
  put_status_ = prepare(put_status_sql);
  erase_ = prepare(erase_sql);
  select_all_ = prepare(select_all_sql);
}

sqlite_store::~sqlite_store() = default;

void sqlite_store::fail_open(int rc, const std::string& doing) const {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw store_open_error("store '" + path_ + "' is locked by another process");
    case SQLITE_NOTADB:
      throw store_open_error("cannot open store '" + path_ + "': the file is not a SQLite database");
    default:
      throw store_open_error("cannot open store '" + path_ + "': " + doing + " failed: " + sqlite3_errmsg(db_.get()));
  }
}

void sqlite_store::exec_or_fail(const char* sql, const std::string& doing) {
  if (auto rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr); rc != SQLITE_OK)
    fail_open(rc, doing);
}

int sqlite_store::read_user_version() {
  auto stmt = prepare("PRAGMA user_version");
  auto rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW)
    fail_open(rc, "reading the schema version");
  return sqlite3_column_int(stmt.get(), 0);
}

void sqlite_store::lock_and_check_version() {
  // Reads the header under a write lock before anything is written: a locked file, a foreign file or a newer schema
  // must be refused without touching it.
  exec_or_fail("BEGIN IMMEDIATE", "locking the file");
  auto version = read_user_version();
  if (version > schema_version) {
    exec_or_fail("ROLLBACK", "unlocking the file");
    throw store_open_error("store '" + path_ + "' was written by a newer feedrouter (schema " + std::to_string(version)
                           + ", this build knows " + std::to_string(schema_version) + ")");
  }
  if (version == 0) {
    // Version 0 is a new file; a file with tables but no version belongs to something else.
    auto stmt = prepare("SELECT count(*) FROM sqlite_schema");
    auto rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW)
      fail_open(rc, "reading the schema");
    if (sqlite3_column_int64(stmt.get(), 0) != 0) {
      stmt.reset();
      exec_or_fail("ROLLBACK", "unlocking the file");
      throw store_open_error("cannot open store '" + path_
                             + "': the file is a SQLite database without a feedrouter schema");
    }
  }
  exec_or_fail("COMMIT", "locking the file");
}

void sqlite_store::enable_wal() {
  // journal_mode cannot change inside a transaction, hence its own step between the check and the migration.
  auto stmt = prepare("PRAGMA journal_mode = WAL");
  auto rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW)
    fail_open(rc, "switching to WAL");
  auto mode = column_text(stmt.get(), 0);
  stmt.reset();
  // An in-memory database keeps its "memory" journal; a file must be in WAL from here on.
  if (mode != "wal" && !(mode == "memory" && path_ == ":memory:"))
    throw store_open_error("cannot open store '" + path_ + "': switching to WAL failed (journal mode is " + mode + ")");
  exec_or_fail("PRAGMA synchronous = NORMAL", "setting synchronous");
}

void sqlite_store::migrate() {
  exec_or_fail("BEGIN IMMEDIATE", "starting the migration");
  auto from = read_user_version();
  for (const auto& step : migrations)
    if (step.version > from)
      exec_or_fail(step.sql, "migrating the schema to version " + std::to_string(step.version));
  if (from < schema_version) {
    auto sql = "PRAGMA user_version = " + std::to_string(schema_version);
    exec_or_fail(sql.c_str(), "setting the schema version");
  }
  exec_or_fail("COMMIT", "committing the migration");
}

sqlite_store::stmt_ptr sqlite_store::prepare(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  auto rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  stmt_ptr result{raw};
  if (rc != SQLITE_OK)
    fail_open(rc, std::string{"preparing '"} + sql + "'");
  return result;
}

// -- store ----------------------------------------------------------------------

std::vector<registration_record> sqlite_store::load_all() {
  std::vector<registration_record> result;
  auto* stmt = select_all_.get();
  reset_on_exit guard{stmt};
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    result.push_back(read_row(stmt));
  if (rc != SQLITE_DONE)
    throw store_open_error("cannot read store '" + path_ + "': " + sqlite3_errmsg(db_.get()));
  return result;
}

std::optional<std::string> sqlite_store::commit(const std::vector<store_op>& ops) {
  if (ops.empty())
    return std::nullopt;
  if (auto err = run(begin_.get(), SQLITE_OK))
    return "BEGIN: " + *err;
  for (const auto& op : ops) {
    if (auto err = apply(op)) {
      rollback();
      return std::string{op_name(op.op)} + " " + op.record.trigger.key() + ": " + *err;
    }
  }
  if (auto err = run(commit_.get(), SQLITE_OK)) {
    rollback();
    return "COMMIT: " + *err;
  }
  return std::nullopt;
}

// -- committing -----------------------------------------------------------------

std::optional<std::string> sqlite_store::apply(const store_op& op) {
  const auto& rec = op.record;
  switch (op.op) {
    case store_op::kind::put_registration: {
      auto* stmt = put_registration_.get();
      binder args{stmt};
      args.key(rec.trigger)
        .text(rec.feed)
        .text(rec.params_json)
        .text(rec.auth_key)
        .text(rec.auth_hash)
        .time(rec.created)
        .status(rec.status);
      return run(stmt, args.result());
    }
    case store_op::kind::put_status: {
      auto* stmt = put_status_.get();
      binder args{stmt};
      args.status(rec.status).key(rec.trigger);
      return run(stmt, args.result());
    }
    case store_op::kind::erase: {
      auto* stmt = erase_.get();
      binder args{stmt};
      args.key(rec.trigger);
      return run(stmt, args.result());
    }
  }
  return std::string{"unknown operation kind"};
}

std::optional<std::string> sqlite_store::run(sqlite3_stmt* stmt, int bind_rc) {
  reset_on_exit guard{stmt};
  if (bind_rc != SQLITE_OK)
    return std::string{sqlite3_errstr(bind_rc)};
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return std::string{sqlite3_errmsg(db_.get())}; // read before the reset overwrites it
  return std::nullopt;
}

void sqlite_store::rollback() {
  // A failed step may already have rolled the transaction back (e.g. SQLITE_FULL, SQLITE_IOERR).
  if (sqlite3_get_autocommit(db_.get()) == 0)
    run(rollback_.get(), SQLITE_OK);
}

// -- factory --------------------------------------------------------------------

store_ptr open_store(const std::string& spec) {
  std::string_view text{spec};
  if (text.substr(0, spec_prefix.size()) != spec_prefix || text.size() == spec_prefix.size())
    throw store_open_error("invalid --store value '" + spec + "': expected sqlite:PATH");
  return std::make_unique<sqlite_store>(std::string{text.substr(spec_prefix.size())});
}

} // namespace feedrouter
