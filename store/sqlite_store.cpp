#include "store/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <string_view>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/log.hpp"
#include "core/replay_window.hpp"
#include "core/shard.hpp"
#include "store/detail/loaded_records.hpp"
#include "store/detail/ops.hpp"
#include "store/detail/sqlite_rows.hpp"

namespace feedrouter {

using namespace detail;

namespace {

// -- schema -------------------------------------------------------------------

/// One step of the schema: the statements that take a database from `version - 1` to `version`.
struct migration {
  int version;
  const char* sql;
};

/// Every schema change, oldest first; open() applies the steps newer than the file's user_version in one transaction.
/// To change the schema, append a step (never edit a released one) and bump sqlite_store::schema_version.
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
  // Delivery: counters and checkpoints per registration, events stored before they are acknowledged, dead letters.
  // Events and letters carry no foreign key: erase deletes them explicitly in its transaction, and put_event /
  // put_dead_letter insert only while the registration exists.
  {2, R"sql(
    ALTER TABLE registrations ADD COLUMN dead_letters INTEGER NOT NULL DEFAULT 0 CHECK (dead_letters >= 0);
    ALTER TABLE registrations ADD COLUMN checkpoint TEXT NOT NULL DEFAULT '';
    CREATE TABLE pending_events (
      namespace   TEXT    NOT NULL,
      name        TEXT    NOT NULL,
      seq         INTEGER NOT NULL CHECK (seq >= 0),
      body        TEXT    NOT NULL,
      accepted_ms INTEGER NOT NULL,
      PRIMARY KEY (namespace, name, seq)
    ) STRICT;
    CREATE TABLE dead_letters (
      namespace   TEXT    NOT NULL,
      name        TEXT    NOT NULL,
      seq         INTEGER NOT NULL CHECK (seq >= 0),
      body        TEXT    NOT NULL,
      accepted_ms INTEGER NOT NULL,
      failed_ms   INTEGER NOT NULL,
      status_code INTEGER NOT NULL,
      error       TEXT    NOT NULL,
      attempts    INTEGER NOT NULL CHECK (attempts >= 0),
      PRIMARY KEY (namespace, name, seq)
    ) STRICT;
  )sql"},
  // Secrets at rest: params_json and auth_key hold sealed values from here on (sealed by seal_plaintext_rows() in
  // the same transaction), the bare SHA-256 of the authKey gives way to a keyed hash, and `meta` records which key
  // sealed the store.
  {3, R"sql(
    CREATE TABLE meta (
      name  TEXT NOT NULL PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;
    ALTER TABLE registrations DROP COLUMN auth_hash;
    ALTER TABLE registrations ADD COLUMN auth_lookup TEXT NOT NULL DEFAULT '';
  )sql"},
  // Shards for a cluster of instances (docs/architecture.md section 8): each registration's shard (computed for the
  // existing rows by assign_shards() in the same transaction) and the shard count in meta. SQLite stays one
  // instance; the column lets `migrate` and load_shards() treat both stores alike.
  {4, R"sql(
    ALTER TABLE registrations ADD COLUMN shard INTEGER NOT NULL DEFAULT 0 CHECK (shard >= 0);
    CREATE INDEX registrations_by_shard ON registrations (shard);
  )sql"},
  // The replay window of webhook delivery ids outlives a restart: each taken delivery's id, by the seq of its event,
  // kept after the event is fired; put_delivery keeps the newest replay_window_capacity per registration.
  {5, R"sql(
    CREATE TABLE webhook_deliveries (
      namespace   TEXT    NOT NULL,
      name        TEXT    NOT NULL,
      seq         INTEGER NOT NULL CHECK (seq >= 0),
      delivery_id TEXT    NOT NULL,
      PRIMARY KEY (namespace, name, seq)
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

// -- files ----------------------------------------------------------------------

/// The name of SQLite's file beside the database: "-wal", "-shm" or "-journal".
std::string companion(const std::string& path, std::string_view suffix) {
  return path + std::string{suffix};
}

/// The files SQLite may keep beside a database, each private like the database itself.
constexpr std::string_view companion_suffixes[] = {"-wal", "-shm", "-journal"};

/// Permission bits the store's files must not have: any access by group or others.
constexpr mode_t group_other_bits = S_IRWXG | S_IRWXO;

/// Sets the process's umask for the scope: SQLite creates the database file with mode 0644 less the umask, and the
/// WAL with the database file's mode.
class umask_scope {
public:
  explicit umask_scope(mode_t mask) : saved_(::umask(mask)) {
    // nop
  }

  ~umask_scope() {
    ::umask(saved_);
  }

  umask_scope(const umask_scope&) = delete;
  umask_scope& operator=(const umask_scope&) = delete;

private:
  mode_t saved_;
};

/// Problems an integrity check reports at most: the first few say enough.
constexpr int integrity_problems_shown = 10;

// -- statements -----------------------------------------------------------------

// The parameters of every write are bound in the order they appear, see binder.
constexpr const char* put_registration_sql
  = "INSERT OR REPLACE INTO registrations (namespace, name, shard, feed, params_json, auth_key, auth_lookup, "
    "created_ms, state, reason_kind, reason_code, reason_message, date_changed_ms, fires, failures, last_fired_ms, "
    "triggers_left, last_occurrence_ms, dead_letters, checkpoint) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

constexpr const char* put_status_sql
  = "UPDATE registrations SET state = ?, reason_kind = ?, reason_code = ?, reason_message = ?, "
    "date_changed_ms = ?, fires = ?, failures = ?, last_fired_ms = ?, triggers_left = ?, last_occurrence_ms = ?, "
    "dead_letters = ?, checkpoint = ? WHERE namespace = ? AND name = ?";

constexpr const char* erase_sql = "DELETE FROM registrations WHERE namespace = ? AND name = ?";

constexpr const char* erase_events_of_sql = "DELETE FROM pending_events WHERE namespace = ? AND name = ?";

constexpr const char* erase_dead_letters_of_sql = "DELETE FROM dead_letters WHERE namespace = ? AND name = ?";

constexpr const char* erase_deliveries_of_sql = "DELETE FROM webhook_deliveries WHERE namespace = ? AND name = ?";

// ?1 and ?2 reuse the first two parameters: an event of a registration that is gone (erased earlier in the batch or
// by a concurrent removal) is not stored, so that it cannot attach to a later registration of the same trigger.
constexpr const char* put_event_sql
  = "INSERT INTO pending_events (namespace, name, seq, body, accepted_ms) SELECT ?, ?, ?, ?, ? "
    "WHERE EXISTS (SELECT 1 FROM registrations WHERE namespace = ?1 AND name = ?2)";

constexpr const char* erase_event_sql = "DELETE FROM pending_events WHERE namespace = ? AND name = ? AND seq = ?";

constexpr const char* put_dead_letter_sql
  = "INSERT INTO dead_letters (namespace, name, seq, body, accepted_ms, failed_ms, status_code, error, attempts) "
    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? "
    "WHERE EXISTS (SELECT 1 FROM registrations WHERE namespace = ?1 AND name = ?2)";

constexpr const char* erase_dead_letter_sql = "DELETE FROM dead_letters WHERE namespace = ? AND name = ? AND seq = ?";

// Like put_event_sql: the delivery of a registration that is gone is not stored. A row of the same seq is replaced:
// a registration replaced by a CREATE numbers its events from 1 again while the old one's deliveries are kept.
constexpr const char* put_delivery_sql
  = "INSERT OR REPLACE INTO webhook_deliveries (namespace, name, seq, delivery_id) SELECT ?, ?, ?, ? "
    "WHERE EXISTS (SELECT 1 FROM registrations WHERE namespace = ?1 AND name = ?2)";

// Keeps the newest ?3 deliveries of a registration: those at or below the seq of the one after them go. Both walk the
// primary key index.
constexpr const char* prune_deliveries_sql
  = "DELETE FROM webhook_deliveries WHERE namespace = ?1 AND name = ?2 AND seq <= (SELECT seq FROM webhook_deliveries "
    "WHERE namespace = ?1 AND name = ?2 ORDER BY seq DESC LIMIT 1 OFFSET ?3)";

constexpr const char* select_all_sql
  = "SELECT namespace, name, feed, params_json, auth_key, auth_lookup, created_ms, state, reason_kind, reason_code, "
    "reason_message, date_changed_ms, fires, failures, last_fired_ms, triggers_left, last_occurrence_ms, "
    "dead_letters, checkpoint FROM registrations";

// Both walk the primary key index of their table and nothing else: no event body is read.
constexpr const char* select_pending_sql
  = "SELECT namespace, name, min(seq), max(seq), count(*) FROM pending_events GROUP BY namespace, name";

constexpr const char* select_dead_letter_seqs_sql
  = "SELECT namespace, name, max(seq) FROM dead_letters GROUP BY namespace, name";

constexpr const char* select_deliveries_sql
  = "SELECT namespace, name, seq, delivery_id FROM webhook_deliveries ORDER BY namespace, name, seq";

// The same four for the registrations of some shards, given as a JSON array of numbers.
constexpr const char* select_shards_sql
  = "SELECT namespace, name, feed, params_json, auth_key, auth_lookup, created_ms, state, reason_kind, reason_code, "
    "reason_message, date_changed_ms, fires, failures, last_fired_ms, triggers_left, last_occurrence_ms, "
    "dead_letters, checkpoint FROM registrations WHERE shard IN (SELECT value FROM json_each(?))";

constexpr const char* select_shards_pending_sql
  = "SELECT p.namespace, p.name, min(p.seq), max(p.seq), count(*) FROM pending_events p JOIN registrations r "
    "ON r.namespace = p.namespace AND r.name = p.name WHERE r.shard IN (SELECT value FROM json_each(?)) "
    "GROUP BY p.namespace, p.name";

constexpr const char* select_shards_dead_letter_seqs_sql
  = "SELECT d.namespace, d.name, max(d.seq) FROM dead_letters d JOIN registrations r "
    "ON r.namespace = d.namespace AND r.name = d.name WHERE r.shard IN (SELECT value FROM json_each(?)) "
    "GROUP BY d.namespace, d.name";

constexpr const char* select_shards_deliveries_sql
  = "SELECT w.namespace, w.name, w.seq, w.delivery_id FROM webhook_deliveries w JOIN registrations r "
    "ON r.namespace = w.namespace AND r.name = w.name WHERE r.shard IN (SELECT value FROM json_each(?)) "
    "ORDER BY w.namespace, w.name, w.seq";

constexpr const char* select_names_sql = "SELECT namespace, name FROM registrations";

constexpr const char* update_shard_sql = "UPDATE registrations SET shard = ? WHERE namespace = ? AND name = ?";

constexpr const char* select_meta_value_sql = "SELECT value FROM meta WHERE name = ?";

constexpr const char* put_meta_sql = "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)";

constexpr const char* select_dead_letters_sql
  = "SELECT seq, body, accepted_ms, failed_ms, status_code, error, attempts FROM dead_letters "
    "WHERE namespace = ? AND name = ? ORDER BY seq LIMIT ?";

// Walks the primary key index from (namespace, name, from_seq) on.
constexpr const char* select_pending_of_sql
  = "SELECT seq, body, accepted_ms FROM pending_events WHERE namespace = ? AND name = ? AND seq >= ? ORDER BY seq "
    "LIMIT ?";

// -- binding and reading ----------------------------------------------------------

/// Reads one row of select_all_sql, params_json and auth_key sealed as stored.
registration_record read_row(sqlite3_stmt* stmt) {
  registration_record rec;
  rec.trigger.ns = column_text(stmt, 0);
  rec.trigger.name = column_text(stmt, 1);
  rec.feed = column_text(stmt, 2);
  rec.params_json = column_text(stmt, 3);
  rec.auth_key = column_text(stmt, 4);
  rec.auth_hash = column_text(stmt, 5);
  rec.created = column_time(stmt, 6);
  read_state(rec, column_text(stmt, 7), column_text(stmt, 8), static_cast<int>(column_int(stmt, 9)),
             column_text(stmt, 10));
  auto& st = rec.status;
  st.date_changed = column_time(stmt, 11);
  st.fires = column_int(stmt, 12);
  st.failures = column_int(stmt, 13);
  st.last_fired = column_opt_time(stmt, 14);
  st.triggers_left = column_opt_int(stmt, 15);
  st.last_occurrence = column_opt_time(stmt, 16);
  st.dead_letters = column_int(stmt, 17);
  st.checkpoint = column_text(stmt, 18);
  return rec;
}

std::uint64_t column_seq(sqlite3_stmt* stmt, int col) {
  // The schema's CHECK (seq >= 0) keeps the cast exact.
  return static_cast<std::uint64_t>(column_int(stmt, col));
}

/// Reads the columns seq, body, accepted_ms starting at `col`.
stored_event read_event(sqlite3_stmt* stmt, int col) {
  stored_event result;
  result.seq = column_seq(stmt, col);
  result.body = column_text(stmt, col + 1);
  result.accepted = column_time(stmt, col + 2);
  return result;
}

/// Reads one row of select_dead_letters_sql.
dead_letter read_dead_letter(sqlite3_stmt* stmt) {
  dead_letter result;
  result.event = read_event(stmt, 0);
  result.failed = column_time(stmt, 3);
  result.status_code = static_cast<int>(column_int(stmt, 4));
  result.error = column_text(stmt, 5);
  result.attempts = column_int(stmt, 6);
  return result;
}

std::string_view column_view(sqlite3_stmt* stmt, int col) {
  const auto* data = sqlite3_column_text(stmt, col);
  if (data == nullptr)
    return {};
  return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(stmt, col))};
}

/// Returns the registration named by columns 0 and 1 of the current row, or nullptr for rows of no registration.
registration_record* find_in(record_index& index, sqlite3_stmt* stmt) {
  return index.find(column_view(stmt, 0), column_view(stmt, 1));
}

/// Returns `shards` as a JSON array, the form json_each() reads.
std::string shards_json(const std::vector<std::uint32_t>& shards) {
  std::string result = "[";
  for (auto shard : shards)
    result += (result.size() > 1 ? "," : "") + std::to_string(shard);
  return result + "]";
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

sqlite_store::sqlite_store(const std::string& path, const store_options& opts) : path_(path) {
  refuse_empty_file(opts.init_store);
  open_private(opts.create);
  // SQLite falls back to read-only when it may not write the file; the provider cannot run on that.
  if (sqlite3_db_readonly(db_.get(), "main") == 1)
    throw store_open_error("cannot open store '" + path_ + "': the file is read-only");
  // Fail at once instead of waiting when another process holds the lock.
  sqlite3_busy_timeout(db_.get(), 0);
  // EXCLUSIVE keeps the file lock from the first transaction until close; in WAL mode it also keeps the WAL index in
  // process memory (no -shm file), so no other process can read or write the file while this store is open.
  exec_or_fail("PRAGMA locking_mode = EXCLUSIVE", "setting the locking mode");
  // Deleted rows (an old sealed value, an event) are overwritten, not left in free pages.
  exec_or_fail("PRAGMA secure_delete = ON", "setting secure_delete");
  lock_and_check_version();
  check_integrity(opts.full_check);
  restrict_file_modes();
  enable_wal();
  load_key(opts.key_file);
  migrate();
  check_shard_count();
  begin_ = prepare("BEGIN IMMEDIATE");
  commit_ = prepare("COMMIT");
  rollback_ = prepare("ROLLBACK");
  put_registration_ = prepare(put_registration_sql);
  put_status_ = prepare(put_status_sql);
  erase_ = prepare(erase_sql);
  erase_events_of_ = prepare(erase_events_of_sql);
  erase_dead_letters_of_ = prepare(erase_dead_letters_of_sql);
  erase_deliveries_of_ = prepare(erase_deliveries_of_sql);
  put_event_ = prepare(put_event_sql);
  erase_event_ = prepare(erase_event_sql);
  put_dead_letter_ = prepare(put_dead_letter_sql);
  erase_dead_letter_ = prepare(erase_dead_letter_sql);
  put_delivery_ = prepare(put_delivery_sql);
  prune_deliveries_ = prepare(prune_deliveries_sql);
  select_all_ = prepare(select_all_sql);
  select_pending_ = prepare(select_pending_sql);
  select_dead_letter_seqs_ = prepare(select_dead_letter_seqs_sql);
  select_deliveries_ = prepare(select_deliveries_sql);
  select_shards_ = prepare(select_shards_sql);
  select_shards_pending_ = prepare(select_shards_pending_sql);
  select_shards_dead_letter_seqs_ = prepare(select_shards_dead_letter_seqs_sql);
  select_shards_deliveries_ = prepare(select_shards_deliveries_sql);
  select_dead_letters_ = prepare(select_dead_letters_sql);
  select_pending_of_ = prepare(select_pending_of_sql);
}

sqlite_store::~sqlite_store() = default;

void sqlite_store::fail_open(int rc, const std::string& doing) const {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw store_in_use_error("store '" + path_ + "' is locked by another process");
    case SQLITE_NOTADB:
      throw store_open_error("cannot open store '" + path_ + "': the file is not a SQLite database");
    case SQLITE_CORRUPT:
      throw store_open_error("store '" + path_ + "' is damaged (" + doing + ": " + sqlite3_errmsg(db_.get())
                             + "): restore it from a backup");
    default:
      throw store_open_error("cannot open store '" + path_ + "': " + doing + " failed: " + sqlite3_errmsg(db_.get()));
  }
}

void sqlite_store::refuse_empty_file(bool init_store) const {
  // SQLite takes an empty file for a new database, and deletes a WAL beside it: a store truncated to nothing would
  // start empty without a word. A store file is never empty once created: switching it to WAL writes its header.
  struct stat info {};
  if (init_store || path_ == ":memory:" || ::stat(path_.c_str(), &info) != 0 || !S_ISREG(info.st_mode)
      || info.st_size != 0)
    return;
  throw store_open_error("store '" + path_ + "' is an empty file (0 bytes): it was truncated or never written; restore "
                         "it from a backup, or start once with --init-store to begin with an empty store");
}

void sqlite_store::open_private(bool create) {
  sqlite3* raw = nullptr;
  constexpr int base_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  auto open_flags = create ? base_flags | SQLITE_OPEN_CREATE : base_flags;
  int rc = SQLITE_OK;
  {
    // A new file is created here: private from its first byte. The process's umask is restored right after.
    umask_scope private_files{group_other_bits};
    rc = sqlite3_open_v2(path_.c_str(), &raw, open_flags, nullptr);
  }
  db_.reset(raw); // closes the handle even when opening failed
  if (rc != SQLITE_OK) {
    auto text = std::string{"cannot open store '"} + path_ + "': " + sqlite3_errmsg(raw);
    auto err = sqlite3_system_errno(raw);
    if (err != 0)
      text += " (" + std::generic_category().message(err) + ")";
    if (!create && err == ENOENT)
      throw store_missing_error(text);
    throw store_open_error(text);
  }
  if (path_ != ":memory:")
    identity_ = read_identity();
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

void sqlite_store::check_integrity(bool full) {
  // quick_check reads every page and checks each b-tree's structure, in time linear in the file's size;
  // integrity_check also matches every index against its table.
  auto sql = std::string{"PRAGMA "} + (full ? "integrity_check(" : "quick_check(")
             + std::to_string(integrity_problems_shown) + ")";
  const auto* check = full ? "integrity_check" : "quick_check";
  auto stmt = prepare(sql.c_str());
  std::vector<std::string> problems;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    // A problem may span lines ("*** in database main ***\nPage 3: ..."); the operator gets one line.
    auto problem = column_text(stmt.get(), 0);
    std::replace(problem.begin(), problem.end(), '\n', ' ');
    problems.push_back(std::move(problem));
  }
  if (rc != SQLITE_DONE)
    fail_open(rc, std::string{"SQLite "} + check);
  if (problems.size() == 1 && problems.front() == "ok")
    return;
  auto more = problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more)" : std::string{};
  throw store_open_error("store '" + path_ + "' is damaged (SQLite " + check + ": "
                         + (problems.empty() ? std::string{"no answer"} : problems.front()) + more
                         + "): restore it from a backup");
}

void sqlite_store::restrict_file_modes() const {
  // The file may come from an older feedrouter or a copy with another mode. SQLite gives a new WAL the database
  // file's mode, so the database goes first.
  if (path_ == ":memory:")
    return;
  std::vector<std::string> files{path_};
  for (auto suffix : companion_suffixes)
    files.push_back(companion(path_, suffix));
  for (const auto& file : files) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode) || (info.st_mode & group_other_bits) == 0)
      continue;
    if (::chmod(file.c_str(), info.st_mode & ~group_other_bits & 07777) != 0)
      throw store_open_error("cannot make store file '" + file + "' private to its owner: "
                             + std::generic_category().message(errno));
  }
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
  for (const auto& step : migrations) {
    if (step.version <= from)
      continue;
    exec_or_fail(step.sql, "migrating the schema to version " + std::to_string(step.version));
    if (step.version == sealed_since_version)
      seal_plaintext_rows();
    if (step.version == sharded_since_version)
      assign_shards();
  }
  if (from < schema_version) {
    auto sql = "PRAGMA user_version = " + std::to_string(schema_version);
    exec_or_fail(sql.c_str(), "setting the schema version");
  }
  exec_or_fail("COMMIT", "committing the migration");
  if (from > 0 && from < sealed_since_version) {
    log(log_level::info, "store '", path_, "': sealed the secrets of schema ", from, " under key ", key_->id());
    erase_free_space();
  } else if (from < schema_version) {
    // A new store's schema goes into the file at once rather than waiting in the WAL for the first checkpoint.
    exec_or_fail("PRAGMA wal_checkpoint(TRUNCATE)", "writing the schema into the file");
  }
}

void sqlite_store::erase_free_space() {
  // secure_delete zeroes what a statement deletes; VACUUM also drops whatever else a page held before it was rewritten
  // (the plaintext an UPDATE replaced, a dropped column) by writing every live page anew, and the checkpoint moves
  // that into the file and empties the WAL, so that no old value stays readable in either file.
  for (const char* sql : {"VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"}) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) == SQLITE_OK)
      continue;
    // What it follows is committed, and must not be reported as failed: the new values are in place, only traces of
    // the old ones may remain. VACUUM needs as much free disk space as the file takes.
    log(log_level::warn, "store '", path_, "': ", sql, " failed (", sqlite3_errmsg(db_.get()),
        "): the values just replaced may stay readable in the file's free space until it is rewritten; free disk "
        "space, then run feedrouter rotate-key");
    return;
  }
}

void sqlite_store::assign_shards() {
  std::vector<trigger_ref> triggers;
  auto select = prepare(select_names_sql);
  if (auto err = for_each_row(db_.get(), select.get(), [&](sqlite3_stmt* row) {
        triggers.push_back({column_text(row, 0), column_text(row, 1)});
      }))
    fail_open(err->rc, "reading the registrations to shard");
  auto update = prepare(update_shard_sql);
  for (const auto& trigger : triggers) {
    binder args{update.get()};
    args.integer(shard_of(trigger)).key(trigger);
    if (auto err = run(update.get(), args.result()))
      throw store_open_error("cannot open store '" + path_ + "': computing the shard of " + trigger.key()
                             + " failed: " + *err);
  }
  if (auto err = write_meta(shard_count_meta, std::to_string(shard_count)))
    throw store_open_error("cannot open store '" + path_ + "': recording the shard count failed: " + *err);
}

std::optional<std::string> sqlite_store::write_meta(std::string_view name, std::string_view value) {
  auto put = prepare(put_meta_sql);
  binder args{put.get()};
  args.text(name).text(value);
  return run(put.get(), args.result());
}

void sqlite_store::check_shard_count() {
  auto stored = read_meta(shard_count_meta);
  if (stored != std::to_string(shard_count))
    throw store_open_error("store '" + path_ + "' spreads its registrations over "
                           + stored.value_or("an unknown number of") + " shards, this build over "
                           + std::to_string(shard_count) + ": use the feedrouter build that made it");
}

std::optional<std::string> sqlite_store::read_meta(std::string_view name) {
  auto stmt = prepare(select_meta_value_sql);
  binder args{stmt.get()};
  args.text(name);
  std::optional<std::string> result;
  if (auto err = for_each_row(db_.get(), stmt.get(), [&](sqlite3_stmt* row) { result = column_text(row, 0); }))
    fail_open(err->rc, "reading the meta table");
  return result;
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
  return load(select_all_.get(), select_pending_.get(), select_dead_letter_seqs_.get(), select_deliveries_.get(), {});
}

std::vector<registration_record> sqlite_store::load_shards(const std::vector<std::uint32_t>& shards) {
  return load(select_shards_.get(), select_shards_pending_.get(), select_shards_dead_letter_seqs_.get(),
              select_shards_deliveries_.get(), shards_json(shards));
}

std::vector<registration_record> sqlite_store::load(sqlite3_stmt* registrations, sqlite3_stmt* pending,
                                                    sqlite3_stmt* dead_letter_seqs, sqlite3_stmt* deliveries,
                                                    const std::string& shards_json) {
  auto fail = [this](const sqlite_error& err) {
    note_failure(err.rc);
    throw store_open_error("cannot read store '" + path_ + "': " + err.message);
  };
  // The statements of load_shards() take the shards as their one parameter; for_each_row() clears it again.
  auto select = [&](sqlite3_stmt* stmt, auto&& on_row) {
    if (!shards_json.empty()) {
      binder args{stmt};
      args.text(shards_json);
      if (args.result() != SQLITE_OK)
        fail({args.result(), sqlite3_errstr(args.result())});
    }
    if (auto err = for_each_row(db_.get(), stmt, on_row))
      fail(*err);
  };
  std::vector<registration_record> result;
  select(registrations, [&](sqlite3_stmt* row) { result.push_back(read_row(row)); });
  unreadable_ = open_loaded_secrets(result, *key_, path_);
  // Scanned in table order, which reads each page once, and sorted here: walking the key index instead seeks one row
  // at a time across a table larger than SQLite's page cache. The order matches SQLite's BINARY collation.
  sort_by_trigger(result);
  // Most registrations have no events: one ordered pass over each table, joined in memory, instead of a query per
  // registration. Rows of no registration cannot exist (see put_event_sql) and would be skipped.
  record_index index{result};
  select(pending, [&](sqlite3_stmt* row) {
    if (auto* rec = find_in(index, row)) {
      rec->pending = {column_seq(row, 2), static_cast<std::size_t>(column_int(row, 4))};
      rec->last_seq = std::max(rec->last_seq, column_seq(row, 3));
    }
  });
  select(dead_letter_seqs, [&](sqlite3_stmt* row) {
    if (auto* rec = find_in(index, row))
      rec->last_seq = std::max(rec->last_seq, column_seq(row, 2));
  });
  select(deliveries, [&](sqlite3_stmt* row) {
    if (auto* rec = find_in(index, row)) {
      rec->deliveries.push_back({column_seq(row, 2), column_text(row, 3)});
      // Its seqs go on after the deliveries it remembers, so that a new one never takes an old one's seq.
      rec->last_seq = std::max(rec->last_seq, rec->deliveries.back().seq);
    }
  });
  return result;
}

std::vector<dead_letter> sqlite_store::load_dead_letters(const trigger_ref& trigger, std::size_t limit) {
  std::vector<dead_letter> result;
  auto* stmt = select_dead_letters_.get();
  reset_on_exit guard{stmt};
  binder args{stmt};
  // LIMIT takes a signed integer, where a negative one means no limit.
  args.key(trigger).integer(static_cast<std::int64_t>(std::min<std::uint64_t>(limit, max_seq)));
  auto err = args.result() != SQLITE_OK
               ? std::optional<sqlite_error>{sqlite_error{args.result(), sqlite3_errstr(args.result())}}
               : for_each_row(db_.get(), stmt, [&](sqlite3_stmt* row) { result.push_back(read_dead_letter(row)); });
  if (err) {
    log(log_level::error, "cannot read the dead letters of ", trigger.key(), " from store '", path_, "': ",
        err->message);
    note_failure(err->rc);
    result.clear();
  }
  return result;
}

std::optional<pending_page> sqlite_store::load_pending(const trigger_ref& trigger, std::uint64_t from_seq,
                                                       std::size_t max_rows, std::size_t max_bytes) {
  pending_page page;
  if (max_rows == 0 || from_seq > max_seq)
    return page;
  auto* stmt = select_pending_of_.get();
  reset_on_exit guard{stmt};
  binder args{stmt};
  args.key(trigger).seq(from_seq).integer(static_cast<std::int64_t>(std::min<std::uint64_t>(max_rows, max_seq)));
  auto rc = args.result();
  std::size_t bytes = 0;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1));
      if (bytes + size > max_bytes) {
        page.next_bytes = size;
        rc = SQLITE_DONE;
        break;
      }
      bytes += size;
      page.events.push_back(read_event(stmt, 0));
    }
  }
  if (rc != SQLITE_DONE) {
    log(log_level::error, "cannot read the pending events of ", trigger.key(), " from store '", path_, "': ",
        sqlite3_errmsg(db_.get()));
    note_failure(rc);
    return std::nullopt;
  }
  return page;
}

std::optional<std::string> sqlite_store::commit(const std::vector<store_op>& ops) {
  if (ops.empty())
    return std::nullopt;
  // The file is looked at before and after: a batch is reported committed only if it went into the file that a
  // restart opens.
  check();
  if (!refusal_.empty())
    return "the store refuses writes: " + refusal_;
  if (auto err = run(begin_.get(), SQLITE_OK))
    return "BEGIN: " + *err;
  for (const auto& op : ops) {
    if (auto err = apply(op)) {
      rollback();
      return describe(op) + ": " + *err;
    }
  }
  if (auto err = run(commit_.get(), SQLITE_OK)) {
    rollback();
    return "COMMIT: " + *err;
  }
  check();
  if (!refusal_.empty())
    return "the store refuses writes: " + refusal_;
  return std::nullopt;
}

std::optional<std::string> sqlite_store::check() {
  if (refusal_.empty() && identity_) {
    auto now = read_identity();
    if (!now)
      refuse_writes("its file is gone (" + std::generic_category().message(errno) + ")");
    else if (!(*now == *identity_))
      refuse_writes("its file was replaced by another file");
  }
  if (refusal_.empty())
    return std::nullopt;
  return "store '" + path_ + "' refuses every write from now on: " + refusal_
         + "; restore the file (or a backup) and restart the service";
}

// -- committing -----------------------------------------------------------------

std::optional<std::string> sqlite_store::apply(const store_op& op) {
  if (auto err = check_seq_range(op))
    return err;
  const auto& rec = op.record;
  switch (op.op) {
    case store_op::kind::put_registration: {
      auto* stmt = put_registration_.get();
      auto params = key_->seal(rec.params_json, rec.trigger, secret_column::params_json);
      auto auth_key = key_->seal(rec.auth_key, rec.trigger, secret_column::auth_key);
      auto lookup = key_->hash_auth_key(rec.auth_key);
      binder args{stmt};
      args.key(rec.trigger)
        .integer(shard_of(rec.trigger))
        .text(rec.feed)
        .text(params)
        .text(auth_key)
        .text(lookup)
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
    case store_op::kind::erase:
      return erase_registration(rec.trigger);
    case store_op::kind::put_event: {
      auto* stmt = put_event_.get();
      binder args{stmt};
      args.key(rec.trigger).event(op.event);
      return run(stmt, args.result());
    }
    case store_op::kind::erase_event: {
      auto* stmt = erase_event_.get();
      binder args{stmt};
      args.key(rec.trigger).seq(op.event.seq);
      return run(stmt, args.result());
    }
    case store_op::kind::put_dead_letter: {
      const auto& letter = op.letter;
      auto* stmt = put_dead_letter_.get();
      binder args{stmt};
      args.key(rec.trigger)
        .event(letter.event)
        .time(letter.failed)
        .integer(letter.status_code)
        .text(letter.error)
        .integer(letter.attempts);
      return run(stmt, args.result());
    }
    case store_op::kind::erase_dead_letter: {
      auto* stmt = erase_dead_letter_.get();
      binder args{stmt};
      args.key(rec.trigger).seq(op.letter.event.seq);
      return run(stmt, args.result());
    }
    case store_op::kind::put_delivery:
      return put_delivery(rec.trigger, op.delivery);
  }
  return std::string{"unknown operation kind"};
}

std::optional<std::string> sqlite_store::put_delivery(const trigger_ref& trigger, const taken_delivery& delivery) {
  auto* put = put_delivery_.get();
  binder put_args{put};
  put_args.key(trigger).seq(delivery.seq).text(delivery.id);
  if (auto err = run(put, put_args.result()))
    return err;
  auto* prune = prune_deliveries_.get();
  binder prune_args{prune};
  prune_args.key(trigger).integer(static_cast<std::int64_t>(replay_window_capacity));
  return run(prune, prune_args.result());
}

std::optional<std::string> sqlite_store::erase_registration(const trigger_ref& trigger) {
  for (auto* stmt : {erase_events_of_.get(), erase_dead_letters_of_.get(), erase_deliveries_of_.get(), erase_.get()}) {
    binder args{stmt};
    args.key(trigger);
    if (auto err = run(stmt, args.result()))
      return err;
  }
  return std::nullopt;
}

std::optional<std::string> sqlite_store::run(sqlite3_stmt* stmt, int bind_rc) {
  reset_on_exit guard{stmt};
  if (bind_rc != SQLITE_OK)
    return std::string{sqlite3_errstr(bind_rc)};
  if (auto rc = sqlite3_step(stmt); rc != SQLITE_DONE) {
    std::string message = sqlite3_errmsg(db_.get()); // read before the reset overwrites it
    note_failure(rc);
    return message;
  }
  return std::nullopt;
}

void sqlite_store::rollback() {
  // A failed step may already have rolled the transaction back (e.g. SQLITE_FULL, SQLITE_IOERR).
  if (sqlite3_get_autocommit(db_.get()) == 0)
    run(rollback_.get(), SQLITE_OK);
}

// -- watching -------------------------------------------------------------------

std::optional<sqlite_store::file_identity> sqlite_store::read_identity() const {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0)
    return std::nullopt;
  return file_identity{static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino)};
}

void sqlite_store::refuse_writes(const std::string& reason) {
  if (refusal_.empty())
    refusal_ = reason;
}

void sqlite_store::note_failure(int rc) {
  switch (rc & 0xff) {
    // Damage, a failing disk, a file moved away (SQLITE_READONLY_DBMOVED) or gone: nothing written from here on can
    // be trusted to be there after a restart. A full disk (SQLITE_FULL) or a refused row is not among them.
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      refuse_writes(std::string{"SQLite reported "} + sqlite3_errstr(rc) + " (" + sqlite3_errmsg(db_.get()) + ")");
      break;
    default:
      break;
  }
}

} // namespace feedrouter
