#include "store/postgres_store.hpp"

#include <algorithm>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/log.hpp"
#include "core/replay_window.hpp"
#include "core/shard.hpp"
#include "store/detail/loaded_records.hpp"
#include "store/detail/ops.hpp"
#include "store/pg/session_settings.hpp"

namespace feedrouter {

using namespace detail;

namespace {

// -- schema -------------------------------------------------------------------

/// One step of the schema: the statements that take a database from `version - 1` to `version`.
struct migration {
  int version;
  const char* sql;
};

/// Every schema change, oldest first, numbered like sqlite_store.cpp's list and with the same tables and columns in
/// PostgreSQL's dialect (BIGINT for SQLite's 64-bit INTEGER, keys compared bytewise with COLLATE "C"). The steps
/// newer than the database's version run in one transaction. No PostgreSQL store exists below version 4 (the first
/// build that has one is at 4), so steps 1 to 3 only ever run on an empty database, together with step 4: unlike
/// SQLite's, step 3 has no plaintext to seal. To change the schema, append a step to both lists.
constexpr migration migrations[] = {
  {1, R"sql(
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version (version) VALUES (0);
    CREATE TABLE registrations (
      namespace          TEXT COLLATE "C" NOT NULL CHECK (namespace <> ''),
      name               TEXT COLLATE "C" NOT NULL CHECK (name <> ''),
      feed               TEXT   NOT NULL,
      params_json        TEXT   NOT NULL,
      auth_key           TEXT   NOT NULL,
      auth_hash          TEXT   NOT NULL,
      created_ms         BIGINT NOT NULL,
      state              TEXT   NOT NULL,
      reason_kind        TEXT   NOT NULL,
      reason_code        BIGINT NOT NULL,
      reason_message     TEXT   NOT NULL,
      date_changed_ms    BIGINT NOT NULL,
      fires              BIGINT NOT NULL CHECK (fires >= 0),
      failures           BIGINT NOT NULL CHECK (failures >= 0),
      last_fired_ms      BIGINT,
      triggers_left      BIGINT CHECK (triggers_left >= 0),
      last_occurrence_ms BIGINT,
      PRIMARY KEY (namespace, name)
    );
  )sql"},
  {2, R"sql(
    ALTER TABLE registrations ADD COLUMN dead_letters BIGINT NOT NULL DEFAULT 0 CHECK (dead_letters >= 0);
    ALTER TABLE registrations ADD COLUMN checkpoint TEXT NOT NULL DEFAULT '';
    CREATE TABLE pending_events (
      namespace   TEXT COLLATE "C" NOT NULL,
      name        TEXT COLLATE "C" NOT NULL,
      seq         BIGINT NOT NULL CHECK (seq >= 0),
      body        TEXT   NOT NULL,
      accepted_ms BIGINT NOT NULL,
      PRIMARY KEY (namespace, name, seq)
    );
    CREATE TABLE dead_letters (
      namespace   TEXT COLLATE "C" NOT NULL,
      name        TEXT COLLATE "C" NOT NULL,
      seq         BIGINT NOT NULL CHECK (seq >= 0),
      body        TEXT   NOT NULL,
      accepted_ms BIGINT NOT NULL,
      failed_ms   BIGINT NOT NULL,
      status_code BIGINT NOT NULL,
      error       TEXT   NOT NULL,
      attempts    BIGINT NOT NULL CHECK (attempts >= 0),
      PRIMARY KEY (namespace, name, seq)
    );
  )sql"},
  {3, R"sql(
    CREATE TABLE meta (
      name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
      value TEXT NOT NULL
    );
    ALTER TABLE registrations DROP COLUMN auth_hash;
    ALTER TABLE registrations ADD COLUMN auth_lookup TEXT NOT NULL DEFAULT '';
  )sql"},
  // The cluster (docs/architecture.md section 8): each registration's shard, and the leases and instances that
  // decide which instance runs which shard. initialise_shards() adds one lease row per shard and the shard count.
  {4, R"sql(
    ALTER TABLE registrations ADD COLUMN shard INTEGER NOT NULL DEFAULT 0 CHECK (shard >= 0);
    CREATE INDEX registrations_by_shard ON registrations (shard);
    CREATE TABLE shard_lease (
      shard      INTEGER PRIMARY KEY CHECK (shard >= 0),
      owner      TEXT NULL,
      epoch      BIGINT NOT NULL DEFAULT 0,
      expires_at TIMESTAMPTZ NULL
    );
    CREATE TABLE instances (
      id             TEXT PRIMARY KEY,
      url            TEXT NOT NULL,
      started_at     TIMESTAMPTZ NOT NULL,
      last_heartbeat TIMESTAMPTZ NOT NULL
    );
  )sql"},
  // The replay window of webhook delivery ids outlives a restart and a takeover (see sqlite_store.cpp).
  {5, R"sql(
    CREATE TABLE webhook_deliveries (
      namespace   TEXT COLLATE "C" NOT NULL,
      name        TEXT COLLATE "C" NOT NULL,
      seq         BIGINT NOT NULL CHECK (seq >= 0),
      delivery_id TEXT   NOT NULL,
      PRIMARY KEY (namespace, name, seq)
    );
  )sql"},
};

constexpr bool versions_are_consecutive() {
  for (std::size_t i = 0; i < std::size(migrations); ++i)
    if (migrations[i].version != static_cast<int>(i) + 1)
      return false;
  return true;
}

static_assert(versions_are_consecutive(), "migration versions must be 1, 2, 3, ...");
static_assert(std::size(migrations) == postgres_store::schema_version,
              "postgres_store::schema_version must name the last migration");

/// The advisory lock that serialises instances migrating or re-sealing the same database: any 64-bit number that
/// nothing else sharing the database uses ("feedrtr" in ASCII).
constexpr std::int64_t schema_lock = 0x66656564727472;

// -- statements -----------------------------------------------------------------

// The parameters of every statement are bound in the order binder adds them.
constexpr pg::statement put_registration_stmt{
  "fr_put_registration",
  "INSERT INTO registrations (namespace, name, shard, feed, params_json, auth_key, auth_lookup, created_ms, state, "
  "reason_kind, reason_code, reason_message, date_changed_ms, fires, failures, last_fired_ms, triggers_left, "
  "last_occurrence_ms, dead_letters, checkpoint) "
  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) "
  "ON CONFLICT (namespace, name) DO UPDATE SET shard = EXCLUDED.shard, feed = EXCLUDED.feed, "
  "params_json = EXCLUDED.params_json, auth_key = EXCLUDED.auth_key, auth_lookup = EXCLUDED.auth_lookup, "
  "created_ms = EXCLUDED.created_ms, state = EXCLUDED.state, reason_kind = EXCLUDED.reason_kind, "
  "reason_code = EXCLUDED.reason_code, reason_message = EXCLUDED.reason_message, "
  "date_changed_ms = EXCLUDED.date_changed_ms, fires = EXCLUDED.fires, failures = EXCLUDED.failures, "
  "last_fired_ms = EXCLUDED.last_fired_ms, triggers_left = EXCLUDED.triggers_left, "
  "last_occurrence_ms = EXCLUDED.last_occurrence_ms, dead_letters = EXCLUDED.dead_letters, "
  "checkpoint = EXCLUDED.checkpoint"};

constexpr pg::statement put_status_stmt{
  "fr_put_status",
  "UPDATE registrations SET state = $1, reason_kind = $2, reason_code = $3, reason_message = $4, "
  "date_changed_ms = $5, fires = $6, failures = $7, last_fired_ms = $8, triggers_left = $9, "
  "last_occurrence_ms = $10, dead_letters = $11, checkpoint = $12 WHERE namespace = $13 AND name = $14"};

// erase runs these four in this order. The registration goes first: its row lock makes a concurrent put_event wait
// and then find it gone, and the two DELETEs after it, each with a snapshot of its own, see any event committed
// before that lock was taken.
constexpr pg::statement erase_stmt{"fr_erase", "DELETE FROM registrations WHERE namespace = $1 AND name = $2"};

constexpr pg::statement erase_events_of_stmt{"fr_erase_events_of",
                                             "DELETE FROM pending_events WHERE namespace = $1 AND name = $2"};

constexpr pg::statement erase_dead_letters_of_stmt{"fr_erase_dead_letters_of",
                                                   "DELETE FROM dead_letters WHERE namespace = $1 AND name = $2"};

constexpr pg::statement erase_deliveries_of_stmt{"fr_erase_deliveries_of",
                                                 "DELETE FROM webhook_deliveries WHERE namespace = $1 AND name = $2"};

// An event of a registration that is gone is not stored (see sqlite_store.cpp); FOR KEY SHARE keeps the
// registration from being erased until this transaction ends.
constexpr pg::statement put_event_stmt{
  "fr_put_event",
  "INSERT INTO pending_events (namespace, name, seq, body, accepted_ms) "
  "SELECT r.namespace, r.name, $3::bigint, $4::text, $5::bigint FROM registrations r "
  "WHERE r.namespace = $1 AND r.name = $2 FOR KEY SHARE"};

constexpr pg::statement erase_event_stmt{
  "fr_erase_event", "DELETE FROM pending_events WHERE namespace = $1 AND name = $2 AND seq = $3"};

constexpr pg::statement put_dead_letter_stmt{
  "fr_put_dead_letter",
  "INSERT INTO dead_letters (namespace, name, seq, body, accepted_ms, failed_ms, status_code, error, attempts) "
  "SELECT r.namespace, r.name, $3::bigint, $4::text, $5::bigint, $6::bigint, $7::bigint, $8::text, $9::bigint "
  "FROM registrations r WHERE r.namespace = $1 AND r.name = $2 FOR KEY SHARE"};

constexpr pg::statement erase_dead_letter_stmt{
  "fr_erase_dead_letter", "DELETE FROM dead_letters WHERE namespace = $1 AND name = $2 AND seq = $3"};

// Like put_event: the delivery of a registration that is gone is not stored; a row of the same seq is replaced (see
// sqlite_store.cpp).
constexpr pg::statement put_delivery_stmt{
  "fr_put_delivery",
  "INSERT INTO webhook_deliveries (namespace, name, seq, delivery_id) "
  "SELECT r.namespace, r.name, $3::bigint, $4::text FROM registrations r "
  "WHERE r.namespace = $1 AND r.name = $2 FOR KEY SHARE "
  "ON CONFLICT (namespace, name, seq) DO UPDATE SET delivery_id = EXCLUDED.delivery_id"};

// Keeps the newest $3 deliveries of a registration (see sqlite_store.cpp).
constexpr pg::statement prune_deliveries_stmt{
  "fr_prune_deliveries",
  "DELETE FROM webhook_deliveries WHERE namespace = $1 AND name = $2 AND seq <= (SELECT seq FROM webhook_deliveries "
  "WHERE namespace = $1 AND name = $2 ORDER BY seq DESC LIMIT 1 OFFSET $3::bigint)"};

constexpr pg::statement commit_stmt{nullptr, "COMMIT"};

// The lease rows of the batch's shards that still name this instance, locked until the batch ends: a takeover's
// UPDATE of a lease waits for them, so no lease can move between this check and the commit.
constexpr pg::statement select_leases_stmt{
  "fr_select_leases", "SELECT shard, epoch FROM shard_lease WHERE owner = $1 AND shard = ANY($2::integer[]) FOR SHARE"};

#define FR_REGISTRATION_COLUMNS                                                                                      \
  "namespace, name, feed, params_json, auth_key, auth_lookup, created_ms, state, reason_kind, reason_code, "         \
  "reason_message, date_changed_ms, fires, failures, last_fired_ms, triggers_left, last_occurrence_ms, "              \
  "dead_letters, checkpoint"

constexpr pg::statement select_all_stmt{"fr_select_all", "SELECT " FR_REGISTRATION_COLUMNS " FROM registrations"};

// The span of each registration's pending events, from the primary key: no event body is read.
constexpr pg::statement select_pending_stmt{
  "fr_select_pending",
  "SELECT namespace, name, min(seq), max(seq), count(*) FROM pending_events GROUP BY namespace, name"};

constexpr pg::statement select_dead_letter_seqs_stmt{
  "fr_select_dead_letter_seqs", "SELECT namespace, name, max(seq) FROM dead_letters GROUP BY namespace, name"};

constexpr pg::statement select_deliveries_stmt{
  "fr_select_deliveries",
  "SELECT namespace, name, seq, delivery_id FROM webhook_deliveries ORDER BY namespace, name, seq"};

// The same four for the registrations of some shards, given as an array.
constexpr pg::statement select_shards_stmt{
  "fr_select_shards", "SELECT " FR_REGISTRATION_COLUMNS " FROM registrations WHERE shard = ANY($1::integer[])"};

// One registration, a key's registrations (in one namespace or all of them) and a namespace's count, without the
// pending events: the reads a cluster answers from the store (docs/cluster.md).
constexpr pg::statement select_one_stmt{
  "fr_select_one", "SELECT " FR_REGISTRATION_COLUMNS " FROM registrations WHERE namespace = $1 AND name = $2"};

constexpr pg::statement select_owned_stmt{
  "fr_select_owned", "SELECT " FR_REGISTRATION_COLUMNS " FROM registrations WHERE auth_lookup = $1 "
                     "AND ($2 = '' OR namespace = $2) ORDER BY namespace, name"};

// A page of every key's registrations, in one namespace or all ('' for all), after a cursor (('', '') before the first
// one: no namespace is empty): an operator's list (docs/cluster.md).
constexpr pg::statement select_page_stmt{
  "fr_select_page", "SELECT " FR_REGISTRATION_COLUMNS " FROM registrations WHERE ($1 = '' OR namespace = $1) "
                    "AND (namespace, name) > ($2, $3) ORDER BY namespace, name LIMIT $4"};

#undef FR_REGISTRATION_COLUMNS

constexpr pg::statement count_namespace_stmt{"fr_count_namespace",
                                             "SELECT count(*) FROM registrations WHERE namespace = $1"};

// A page of the namespaces with their counts, after a cursor ('' before the first one): an operator's count.
constexpr pg::statement count_namespaces_stmt{
  "fr_count_namespaces",
  "SELECT namespace, count(*) FROM registrations WHERE namespace > $1 GROUP BY namespace ORDER BY namespace LIMIT $2"};

constexpr pg::statement select_shards_pending_stmt{
  "fr_select_shards_pending",
  "SELECT p.namespace, p.name, min(p.seq), max(p.seq), count(*) FROM pending_events p JOIN registrations r "
  "ON r.namespace = p.namespace AND r.name = p.name WHERE r.shard = ANY($1::integer[]) "
  "GROUP BY p.namespace, p.name"};

constexpr pg::statement select_shards_dead_letter_seqs_stmt{
  "fr_select_shards_dead_letter_seqs",
  "SELECT d.namespace, d.name, max(d.seq) FROM dead_letters d JOIN registrations r "
  "ON r.namespace = d.namespace AND r.name = d.name WHERE r.shard = ANY($1::integer[]) "
  "GROUP BY d.namespace, d.name"};

constexpr pg::statement select_shards_deliveries_stmt{
  "fr_select_shards_deliveries",
  "SELECT w.namespace, w.name, w.seq, w.delivery_id FROM webhook_deliveries w JOIN registrations r "
  "ON r.namespace = w.namespace AND r.name = w.name WHERE r.shard = ANY($1::integer[]) "
  "ORDER BY w.namespace, w.name, w.seq"};

constexpr pg::statement select_dead_letters_stmt{
  "fr_select_dead_letters",
  "SELECT seq, body, accepted_ms, failed_ms, status_code, error, attempts FROM dead_letters "
  "WHERE namespace = $1 AND name = $2 ORDER BY seq LIMIT $3"};

// The byte bound is applied by the server: rows beyond it come without their bodies, only their sizes, so a page
// never carries more than max_bytes of bodies however large the rows are.
constexpr pg::statement select_pending_of_stmt{
  "fr_select_pending_of",
  "SELECT seq, CASE WHEN total <= $5 THEN body END, accepted_ms, size FROM (SELECT seq, body, accepted_ms, "
  "octet_length(body) AS size, sum(octet_length(body)) OVER (ORDER BY seq) AS total FROM pending_events "
  "WHERE namespace = $1 AND name = $2 AND seq >= $3 ORDER BY seq LIMIT $4) AS page ORDER BY seq"};

constexpr pg::statement update_secrets_stmt{
  "fr_update_secrets",
  "UPDATE registrations SET params_json = $1, auth_key = $2, auth_lookup = $3 WHERE namespace = $4 AND name = $5"};

constexpr pg::statement put_meta_stmt{
  "fr_put_meta", "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2"};

/// What the store's session is called on the server (pg_stat_activity) unless the URI names it.
constexpr std::string_view application_name = "feedrouter";

/// How long connecting may take when the URI does not say (libpq waits forever by default).
constexpr std::chrono::seconds connect_timeout{10};

/// Every statement the store prepares in each session.
const std::vector<pg::statement> prepared_statements{
  put_registration_stmt,
  put_status_stmt,
  erase_stmt,
  erase_events_of_stmt,
  erase_dead_letters_of_stmt,
  erase_deliveries_of_stmt,
  put_event_stmt,
  erase_event_stmt,
  put_dead_letter_stmt,
  erase_dead_letter_stmt,
  put_delivery_stmt,
  prune_deliveries_stmt,
  select_leases_stmt,
  select_all_stmt,
  select_pending_stmt,
  select_dead_letter_seqs_stmt,
  select_deliveries_stmt,
  select_shards_stmt,
  select_shards_pending_stmt,
  select_shards_dead_letter_seqs_stmt,
  select_shards_deliveries_stmt,
  select_dead_letters_stmt,
  select_one_stmt,
  select_owned_stmt,
  count_namespace_stmt,
  select_page_stmt,
  count_namespaces_stmt,
  select_pending_of_stmt,
  update_secrets_stmt,
  put_meta_stmt,
};

// -- binding and reading ----------------------------------------------------------

/// Adds the values of a store's rows to a statement's parameters in the order its statements name them.
class binder {
public:
  binder& text(std::string_view x) {
    args_.text(x);
    return *this;
  }

  binder& integer(std::int64_t x) {
    args_.integer(x);
    return *this;
  }

  binder& integer(const std::optional<std::int64_t>& x) {
    args_.integer(x);
    return *this;
  }

  binder& time(sys_ms x) {
    return integer(x.time_since_epoch().count());
  }

  binder& time(const std::optional<sys_ms>& x) {
    return x ? time(*x) : integer(std::nullopt);
  }

  binder& key(const trigger_ref& x) {
    return text(x.ns).text(x.name);
  }

  /// Adds a seq the caller checked against max_seq.
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

  pg::params take() {
    return std::move(args_);
  }

private:
  pg::params args_;
};

sys_ms time_at(const pg::result& rows, int row, int col) {
  return sys_ms{std::chrono::milliseconds{rows.integer(row, col)}};
}

std::optional<sys_ms> opt_time_at(const pg::result& rows, int row, int col) {
  if (rows.is_null(row, col))
    return std::nullopt;
  return time_at(rows, row, col);
}

std::uint64_t seq_at(const pg::result& rows, int row, int col) {
  // The schema's CHECK (seq >= 0) keeps the cast exact.
  return static_cast<std::uint64_t>(rows.integer(row, col));
}

/// Reads one row of select_all_stmt, params_json and auth_key sealed as stored.
registration_record read_registration(const pg::result& rows, int row) {
  registration_record rec;
  rec.trigger.ns = rows.text(row, 0);
  rec.trigger.name = rows.text(row, 1);
  rec.feed = rows.text(row, 2);
  rec.params_json = rows.text(row, 3);
  rec.auth_key = rows.text(row, 4);
  rec.auth_hash = rows.text(row, 5);
  rec.created = time_at(rows, row, 6);
  read_state(rec, rows.view(row, 7), rows.view(row, 8), static_cast<int>(rows.integer(row, 9)), rows.text(row, 10));
  auto& st = rec.status;
  st.date_changed = time_at(rows, row, 11);
  st.fires = rows.integer(row, 12);
  st.failures = rows.integer(row, 13);
  st.last_fired = opt_time_at(rows, row, 14);
  st.triggers_left = rows.opt_integer(row, 15);
  st.last_occurrence = opt_time_at(rows, row, 16);
  st.dead_letters = rows.integer(row, 17);
  st.checkpoint = rows.text(row, 18);
  return rec;
}

/// Reads the columns seq, body, accepted_ms starting at `col`.
stored_event read_event(const pg::result& rows, int row, int col) {
  stored_event result;
  result.seq = seq_at(rows, row, col);
  result.body = rows.text(row, col + 1);
  result.accepted = time_at(rows, row, col + 2);
  return result;
}

dead_letter read_dead_letter(const pg::result& rows, int row) {
  dead_letter result;
  result.event = read_event(rows, row, 0);
  result.failed = time_at(rows, row, 3);
  result.status_code = static_cast<int>(rows.integer(row, 4));
  result.error = rows.text(row, 5);
  result.attempts = rows.integer(row, 6);
  return result;
}

/// Returns `shards` as a PostgreSQL array literal, bound as one parameter.
std::string shard_array(const std::vector<std::uint32_t>& shards) {
  std::string result = "{";
  for (auto shard : shards)
    result += (result.size() > 1 ? "," : "") + std::to_string(shard);
  return result + "}";
}

} // namespace

// -- opening --------------------------------------------------------------------

postgres_store::postgres_store(const std::string& uri, const store_options& opts)
  : name_(display_name(uri)), instance_id_(opts.instance_id) {
  // Throws unless a key file is named: a key of this process's own would seal the shared store for it alone.
  secrets_key_file_of(uri, opts);
  connect(uri, opts);
  migrate(opts);
  if (auto err = conn_->prepare_on_connect(prepared_statements))
    fail_open("preparing its statements", *err);
}

postgres_store::~postgres_store() = default;

std::string postgres_store::display_name(const std::string& uri) {
  std::unordered_map<std::string, std::string> parts;
  try {
    parts = pg::parse_uri(uri, {pg::raw_uri_password(uri)});
  } catch (const store_open_error&) {
    return "postgresql://(invalid)";
  }
  auto part = [&](const char* keyword) {
    auto i = parts.find(keyword);
    return i != parts.end() ? i->second : std::string{};
  };
  auto result = std::string{"postgresql://"};
  if (auto user = part("user"); !user.empty())
    result += user + '@';
  result += part("host").empty() ? part("hostaddr") : part("host");
  if (auto port = part("port"); !port.empty())
    result += ':' + port;
  return result + '/' + part("dbname");
}

void postgres_store::fail_open(const std::string& doing, const pg::error& err) {
  throw store_open_error("cannot open store '" + name_ + "': " + doing + " failed: " + err.message);
}

void postgres_store::connect(const std::string& uri, const store_options& opts) {
  auto settings = pg::settings_for(uri, opts.password_file, name_, std::string{application_name}, connect_timeout);
  auto opened = pg::connection::open(settings.keywords, settings.secrets);
  if (auto* err = std::get_if<pg::error>(&opened))
    throw store_open_error("cannot connect to store '" + name_ + "': " + err->message);
  conn_.emplace(std::move(std::get<pg::connection>(opened)));
}

void postgres_store::migrate(const store_options& opts) {
  auto run = [this](const char* sql, const std::string& doing) {
    auto answer = conn_->exec(sql);
    if (!answer)
      fail_open(doing, answer.error());
  };
  // Nothing is kept unless every step succeeds: a failure throws, and the session's end rolls the transaction back.
  run("BEGIN", "starting the migration");
  pg::params lock;
  lock.integer(schema_lock);
  if (auto answer = conn_->exec("SELECT pg_advisory_xact_lock($1::bigint)", lock); !answer)
    fail_open("waiting for other instances migrating the schema", answer.error());
  auto from = read_version();
  if (from > schema_version)
    throw store_open_error("store '" + name_ + "' was written by a newer feedrouter (schema " + std::to_string(from)
                           + ", this build knows " + std::to_string(schema_version) + ")");
  if (from == 0 && !opts.create)
    throw store_missing_error("cannot open store '" + name_ + "': the database holds no feedrouter store");
  key_ = load_store_key(opts.key_file, read_sealing_key(), name_);
  for (const auto& step : migrations) {
    if (step.version <= from)
      continue;
    run(step.sql, "migrating the schema to version " + std::to_string(step.version));
    if (step.version == sealed_since_version)
      if (auto err = write_sealing_key(*key_))
        fail_open("recording the secrets key", *err);
    if (step.version == sharded_since_version)
      initialise_shards();
  }
  if (from < schema_version) {
    pg::params version;
    version.integer(schema_version);
    if (auto answer = conn_->exec("UPDATE schema_version SET version = $1::integer", version); !answer)
      fail_open("setting the schema version", answer.error());
  }
  check_shard_count();
  run("COMMIT", "committing the migration");
  if (from < schema_version)
    log(log_level::info, "store '", name_, "': schema ", from == 0 ? "created" : "migrated", " at version ",
        schema_version);
}

int postgres_store::read_version() {
  // to_regclass() follows the search path the session uses for the tables, and needs no privilege on them.
  auto tables
    = conn_->exec("SELECT to_regclass('schema_version') IS NOT NULL, to_regclass('registrations') IS NOT NULL");
  if (!tables)
    fail_open("reading the schema version", tables.error());
  if (tables->view(0, 0) != "t") {
    if (tables->view(0, 1) == "t")
      throw store_open_error("cannot open store '" + name_
                             + "': the database has a table 'registrations' but no feedrouter schema version");
    return 0;
  }
  auto version = conn_->exec("SELECT version FROM schema_version");
  if (!version)
    fail_open("reading the schema version", version.error());
  if (version->rows() != 1)
    throw store_open_error("cannot open store '" + name_ + "': its table schema_version holds "
                           + std::to_string(version->rows()) + " rows instead of one");
  return static_cast<int>(version->integer(0, 0));
}

std::optional<std::string> postgres_store::read_meta(std::string_view name) {
  pg::params args;
  args.text(name);
  auto answer = conn_->exec("SELECT value FROM meta WHERE name = $1", args);
  if (!answer)
    fail_open("reading the meta table", answer.error());
  if (answer->rows() == 0)
    return std::nullopt;
  return answer->text(0, 0);
}

std::optional<sealing_key> postgres_store::read_sealing_key() {
  if (read_version() < sealed_since_version)
    return std::nullopt;
  auto check_value = read_meta(key_check_meta);
  if (!check_value || check_value->empty())
    return std::nullopt;
  return sealing_key{read_meta(key_id_meta).value_or(""), std::move(*check_value)};
}

void postgres_store::initialise_shards() {
  pg::params count;
  count.integer(shard_count);
  if (auto answer = conn_->exec("INSERT INTO shard_lease (shard) SELECT generate_series(0, $1::integer - 1)", count);
      !answer)
    fail_open("creating the shard leases", answer.error());
  pg::params meta;
  meta.text(shard_count_meta).text(std::to_string(shard_count));
  if (auto answer = conn_->exec("INSERT INTO meta (name, value) VALUES ($1, $2)", meta); !answer)
    fail_open("recording the shard count", answer.error());
}

void postgres_store::check_shard_count() {
  auto stored = read_meta(shard_count_meta);
  if (stored != std::to_string(shard_count))
    throw store_open_error("store '" + name_ + "' spreads its registrations over "
                           + stored.value_or("an unknown number of") + " shards, this build over "
                           + std::to_string(shard_count) + ": use the feedrouter build that made it");
}

std::optional<pg::error> postgres_store::write_sealing_key(const secrets_key& key) {
  for (auto [name, value] : {std::pair{key_check_meta, std::string_view{key.check_value()}},
                             std::pair{key_id_meta, std::string_view{key.id()}}}) {
    pg::params args;
    args.text(name).text(value);
    auto answer = conn_->exec("INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET "
                              "value = $2",
                              args);
    if (!answer)
      return answer.error();
  }
  return std::nullopt;
}

// -- store ----------------------------------------------------------------------

std::vector<registration_record> postgres_store::load_all() {
  return load(select_all_stmt, select_pending_stmt, select_dead_letter_seqs_stmt, select_deliveries_stmt, {});
}

std::vector<registration_record> postgres_store::load_shards(const std::vector<std::uint32_t>& shards) {
  pg::params args;
  args.text(shard_array(shards));
  return load(select_shards_stmt, select_shards_pending_stmt, select_shards_dead_letter_seqs_stmt,
              select_shards_deliveries_stmt, args);
}

std::vector<registration_record> postgres_store::load(const pg::statement& registrations,
                                                      const pg::statement& pending,
                                                      const pg::statement& dead_letter_seqs,
                                                      const pg::statement& deliveries, const pg::params& args) {
  auto fail = [this](const pg::error& err) {
    rollback();
    throw store_open_error("cannot read store '" + name_ + "': " + err.message);
  };
  // One snapshot for the four queries: no event appears without its registration, or the other way round.
  if (auto err = begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    fail(*err);
  auto select = [&](const pg::statement& stmt) {
    auto answer = conn_->exec(stmt, args);
    if (!answer)
      fail(answer.error());
    return std::move(*answer);
  };
  std::vector<registration_record> result;
  {
    auto rows = select(registrations);
    result.reserve(static_cast<std::size_t>(rows.rows()));
    for (int row = 0; row < rows.rows(); ++row)
      result.push_back(read_registration(rows, row));
  }
  unreadable_ = open_loaded_secrets(result, *key_, name_);
  sort_by_trigger(result);
  // As in sqlite_store::load(): one pass over each table, joined in memory.
  record_index index{result};
  auto events = select(pending);
  for (int row = 0; row < events.rows(); ++row) {
    if (auto* rec = index.find(events.view(row, 0), events.view(row, 1))) {
      rec->pending = {seq_at(events, row, 2), static_cast<std::size_t>(events.integer(row, 4))};
      rec->last_seq = std::max(rec->last_seq, seq_at(events, row, 3));
    }
  }
  auto seqs = select(dead_letter_seqs);
  for (int row = 0; row < seqs.rows(); ++row)
    if (auto* rec = index.find(seqs.view(row, 0), seqs.view(row, 1)))
      rec->last_seq = std::max(rec->last_seq, seq_at(seqs, row, 2));
  auto taken = select(deliveries);
  for (int row = 0; row < taken.rows(); ++row)
    if (auto* rec = index.find(taken.view(row, 0), taken.view(row, 1))) {
      rec->deliveries.push_back({seq_at(taken, row, 2), std::string{taken.view(row, 3)}});
      rec->last_seq = std::max(rec->last_seq, rec->deliveries.back().seq); // see sqlite_store.cpp
    }
  if (auto answer = conn_->exec("COMMIT"); !answer)
    fail(answer.error());
  return result;
}

std::optional<registration_record> postgres_store::load_registration(const trigger_ref& trigger) {
  binder args;
  args.key(trigger);
  auto found = load_registrations(select_one_stmt, args.take());
  if (found.empty())
    return std::nullopt;
  return std::move(found.front());
}

std::vector<registration_record> postgres_store::load_owned(const std::string& auth_hash, const std::string& ns) {
  binder args;
  args.text(auth_hash).text(ns);
  return load_registrations(select_owned_stmt, args.take());
}

std::size_t postgres_store::count_registrations(const std::string& ns) {
  binder args;
  args.text(ns);
  auto params = args.take();
  auto answer = read([&] { return conn_->exec(count_namespace_stmt, params); });
  if (!answer)
    throw store_open_error("cannot read store '" + name_ + "': " + answer.error().message);
  return static_cast<std::size_t>(answer->integer(0, 0));
}

std::vector<registration_record> postgres_store::load_page(const std::string& ns,
                                                           const std::optional<trigger_ref>& after,
                                                           std::size_t limit) {
  binder args;
  args.text(ns).key(after.value_or(trigger_ref{})).integer(static_cast<std::int64_t>(limit));
  return load_registrations(select_page_stmt, args.take());
}

std::vector<namespace_count> postgres_store::count_namespaces(const std::string& after, std::size_t limit) {
  binder args;
  args.text(after).integer(static_cast<std::int64_t>(limit));
  auto params = args.take();
  auto answer = read([&] { return conn_->exec(count_namespaces_stmt, params); });
  if (!answer)
    throw store_open_error("cannot read store '" + name_ + "': " + answer.error().message);
  std::vector<namespace_count> result;
  result.reserve(static_cast<std::size_t>(answer->rows()));
  for (int row = 0; row < answer->rows(); ++row)
    result.push_back({std::string{answer->view(row, 0)}, static_cast<std::size_t>(answer->integer(row, 1))});
  return result;
}

std::vector<registration_record> postgres_store::load_registrations(const pg::statement& stmt, const pg::params& args) {
  auto answer = read([&] { return conn_->exec(stmt, args); });
  if (!answer)
    throw store_open_error("cannot read store '" + name_ + "': " + answer.error().message);
  std::vector<registration_record> result;
  result.reserve(static_cast<std::size_t>(answer->rows()));
  for (int row = 0; row < answer->rows(); ++row)
    result.push_back(read_registration(*answer, row));
  open_loaded_secrets(result, *key_, name_);
  sort_by_trigger(result);
  return result;
}

std::vector<dead_letter> postgres_store::load_dead_letters(const trigger_ref& trigger, std::size_t limit) {
  std::vector<dead_letter> result;
  binder args;
  args.key(trigger).integer(static_cast<std::int64_t>(std::min<std::uint64_t>(limit, max_seq)));
  auto params = args.take();
  auto answer = read([&] { return conn_->exec(select_dead_letters_stmt, params); });
  if (!answer) {
    log(log_level::error, "cannot read the dead letters of ", trigger.key(), " from store '", name_, "': ",
        answer.error().message);
    return result;
  }
  for (int row = 0; row < answer->rows(); ++row)
    result.push_back(read_dead_letter(*answer, row));
  return result;
}

std::optional<pending_page> postgres_store::load_pending(const trigger_ref& trigger, std::uint64_t from_seq,
                                                         std::size_t max_rows, std::size_t max_bytes) {
  pending_page page;
  if (max_rows == 0 || from_seq > max_seq)
    return page;
  binder args;
  args.key(trigger).seq(from_seq);
  args.integer(static_cast<std::int64_t>(std::min<std::uint64_t>(max_rows, max_seq)));
  args.integer(static_cast<std::int64_t>(std::min<std::uint64_t>(max_bytes, max_seq)));
  auto params = args.take();
  auto answer = read([&] { return conn_->exec(select_pending_of_stmt, params); });
  if (!answer) {
    log(log_level::error, "cannot read the pending events of ", trigger.key(), " from store '", name_, "': ",
        answer.error().message);
    return std::nullopt;
  }
  std::size_t bytes = 0;
  for (int row = 0; row < answer->rows(); ++row) {
    auto size = static_cast<std::size_t>(answer->integer(row, 3));
    if (bytes + size > max_bytes) {
      page.next_bytes = size;
      break;
    }
    bytes += size;
    page.events.push_back(read_event(*answer, row, 0));
  }
  return page;
}

std::optional<std::string> postgres_store::commit(const std::vector<store_op>& ops) {
  return commit_batch(ops, fencing::fail_batch).error;
}

commit_result postgres_store::commit_fenced(const std::vector<store_op>& ops) {
  return commit_batch(ops, fencing::leave_out);
}

std::optional<std::string> postgres_store::check() {
  if (refusal_.empty()) {
    // Another instance may have moved the store on while this one runs: a newer build's migration, or a re-seal
    // under another key. Writing on would mix schemas or keys. A server out of reach is not lasting, and not
    // reported here.
    auto answer = read([this] {
      return conn_->exec("SELECT (SELECT version FROM schema_version), (SELECT value FROM meta WHERE name = "
                         "'key_check')");
    });
    if (answer && answer->integer(0, 0) > schema_version)
      refusal_ = "a newer feedrouter migrated it to schema " + answer->text(0, 0);
    else if (answer && answer->text(0, 1) != key_->check_value())
      refusal_ = "it was sealed again under another secrets key (rotate-key while this instance ran)";
  }
  if (refusal_.empty())
    return std::nullopt;
  return "store '" + name_ + "' refuses every write from now on: " + refusal_ + "; restart the service";
}

// -- committing -----------------------------------------------------------------

commit_result postgres_store::commit_batch(const std::vector<store_op>& ops, fencing mode) {
  commit_result result;
  if (ops.empty())
    return result;
  if (!refusal_.empty()) {
    result.error = "the store refuses writes: " + refusal_;
    return result;
  }
  for (const auto& op : ops) {
    if (auto err = check_seq_range(op)) {
      result.error = describe(op) + ": " + *err;
      return result;
    }
  }
  if (auto err = begin("BEGIN")) {
    result.error = "BEGIN: " + err->message;
    return result;
  }
  auto leases = check_leases(ops);
  if (leases.error) {
    rollback();
    result.error = "reading the shard leases: " + *leases.error;
    return result;
  }
  std::vector<pg::call> calls;
  std::vector<std::size_t> op_of_call; // index in `ops` of each call; ops.size() for the COMMIT
  calls.reserve(ops.size() + 1);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (leases.stale[i]) {
      const auto& trigger = ops[i].record.trigger;
      if (mode == fencing::fail_batch) {
        rollback();
        result.error = describe(ops[i]) + ": its lease on shard " + std::to_string(ops[i].fence->shard)
                       + " at epoch " + std::to_string(ops[i].fence->epoch) + " is no longer held";
        return result;
      }
      if (std::find(result.fenced.begin(), result.fenced.end(), trigger) == result.fenced.end())
        result.fenced.push_back(trigger);
      continue;
    }
    add_calls(ops[i], calls);
    op_of_call.resize(calls.size(), i);
  }
  calls.push_back({&commit_stmt, {}});
  op_of_call.push_back(ops.size());
  if (auto failed = conn_->run_pipelined(calls)) {
    rollback();
    auto op = op_of_call[failed->index];
    auto what = op < ops.size() ? describe(ops[op]) : std::string{"COMMIT"};
    result.error = what + ": " + failed->error.message;
    // The answer to a COMMIT that was lost on the way may have been "committed".
    if (op == ops.size() && failed->error.connection_lost())
      *result.error += " (the connection was lost during COMMIT: the batch may have been committed)";
    result.fenced.clear();
  }
  return result;
}

postgres_store::lease_check postgres_store::check_leases(const std::vector<store_op>& ops) {
  lease_check result;
  result.stale.resize(ops.size(), false);
  std::vector<std::uint32_t> shards;
  for (const auto& op : ops)
    if (op.fence && std::find(shards.begin(), shards.end(), op.fence->shard) == shards.end())
      shards.push_back(op.fence->shard);
  if (shards.empty())
    return result;
  pg::params args;
  args.text(instance_id_).text(shard_array(shards));
  auto answer = conn_->exec(select_leases_stmt, args);
  if (!answer) {
    result.error = answer.error().message;
    return result;
  }
  std::unordered_map<std::uint32_t, std::int64_t> held; // shard -> epoch of the lease this instance holds
  for (int row = 0; row < answer->rows(); ++row)
    held.emplace(static_cast<std::uint32_t>(answer->integer(row, 0)), answer->integer(row, 1));
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& fence = ops[i].fence;
    if (!fence)
      continue;
    auto lease = held.find(fence->shard);
    // A token for another shard than the trigger's guards nothing: refused like a stale one.
    result.stale[i]
      = lease == held.end() || lease->second != fence->epoch || fence->shard != shard_of(ops[i].record.trigger);
  }
  return result;
}

void postgres_store::add_calls(const store_op& op, std::vector<pg::call>& calls) const {
  const auto& rec = op.record;
  binder args;
  switch (op.op) {
    case store_op::kind::put_registration: {
      auto params = key_->seal(rec.params_json, rec.trigger, secret_column::params_json);
      auto auth_key = key_->seal(rec.auth_key, rec.trigger, secret_column::auth_key);
      args.key(rec.trigger)
        .integer(shard_of(rec.trigger))
        .text(rec.feed)
        .text(params)
        .text(auth_key)
        .text(key_->hash_auth_key(rec.auth_key))
        .time(rec.created)
        .status(rec.status);
      calls.push_back({&put_registration_stmt, args.take()});
      return;
    }
    case store_op::kind::put_status:
      args.status(rec.status).key(rec.trigger);
      calls.push_back({&put_status_stmt, args.take()});
      return;
    case store_op::kind::erase:
      for (const auto* stmt : {&erase_stmt, &erase_events_of_stmt, &erase_dead_letters_of_stmt,
                               &erase_deliveries_of_stmt}) {
        binder key;
        key.key(rec.trigger);
        calls.push_back({stmt, key.take()});
      }
      return;
    case store_op::kind::put_event:
      args.key(rec.trigger).event(op.event);
      calls.push_back({&put_event_stmt, args.take()});
      return;
    case store_op::kind::erase_event:
      args.key(rec.trigger).seq(op.event.seq);
      calls.push_back({&erase_event_stmt, args.take()});
      return;
    case store_op::kind::put_dead_letter: {
      const auto& letter = op.letter;
      args.key(rec.trigger)
        .event(letter.event)
        .time(letter.failed)
        .integer(letter.status_code)
        .text(letter.error)
        .integer(letter.attempts);
      calls.push_back({&put_dead_letter_stmt, args.take()});
      return;
    }
    case store_op::kind::erase_dead_letter:
      args.key(rec.trigger).seq(op.letter.event.seq);
      calls.push_back({&erase_dead_letter_stmt, args.take()});
      return;
    case store_op::kind::put_delivery: {
      args.key(rec.trigger).seq(op.delivery.seq).text(op.delivery.id);
      calls.push_back({&put_delivery_stmt, args.take()});
      binder prune;
      prune.key(rec.trigger).integer(static_cast<std::int64_t>(replay_window_capacity));
      calls.push_back({&prune_deliveries_stmt, prune.take()});
      return;
    }
  }
}

template <class Statement>
pg::reply postgres_store::read(Statement&& run) {
  // A session the server ended (a restart, an idle time-out, a failover) is noticed only when used. A read, or a
  // transaction's BEGIN, changed nothing: it runs again once on a new session.
  for (int attempt = 0;; ++attempt) {
    if (auto err = conn_->ensure_open())
      return std::move(*err);
    auto answer = run();
    if (answer || attempt > 0 || !answer.error().connection_lost())
      return answer;
  }
}

std::optional<pg::error> postgres_store::begin(const char* sql) {
  auto answer = read([&] { return conn_->exec(sql); });
  if (!answer)
    return answer.error();
  return std::nullopt;
}

void postgres_store::rollback() {
  if (conn_->in_transaction())
    conn_->exec("ROLLBACK");
}

// -- store_admin ----------------------------------------------------------------

std::shared_ptr<const secrets_key> postgres_store::key() const {
  return key_;
}

std::size_t postgres_store::unreadable_secrets() const {
  return unreadable_;
}

std::size_t postgres_store::reseal(std::shared_ptr<const secrets_key> next) {
  auto fail = [this](const std::string& what) {
    rollback();
    throw store_open_error("cannot re-seal store '" + name_ + "': " + what);
  };
  if (auto err = begin("BEGIN"))
    fail(err->message);
  pg::params lock;
  lock.integer(schema_lock);
  if (auto answer = conn_->exec("SELECT pg_advisory_xact_lock($1::bigint)", lock); !answer)
    fail(answer.error().message);
  auto rows = conn_->exec("SELECT namespace, name, params_json, auth_key FROM registrations FOR UPDATE");
  if (!rows)
    fail(rows.error().message);
  std::vector<pg::call> calls;
  for (int row = 0; row < rows->rows(); ++row) {
    trigger_ref trigger{rows->text(row, 0), rows->text(row, 1)};
    auto params = key_->open(rows->view(row, 2), trigger, secret_column::params_json);
    auto auth_key = key_->open(rows->view(row, 3), trigger, secret_column::auth_key);
    // A value the current key cannot open would be lost for good under the next one: the operator decides first.
    if (!params || !auth_key)
      fail("the secrets of " + trigger.key() + " cannot be opened with key " + key_->id()
           + "; delete that registration first");
    binder args;
    args.text(next->seal(*params, trigger, secret_column::params_json))
      .text(next->seal(*auth_key, trigger, secret_column::auth_key))
      .text(next->hash_auth_key(*auth_key))
      .key(trigger);
    calls.push_back({&update_secrets_stmt, args.take()});
  }
  for (auto [name, value] : {std::pair{key_check_meta, std::string_view{next->check_value()}},
                             std::pair{key_id_meta, std::string_view{next->id()}}}) {
    binder args;
    args.text(name).text(value);
    calls.push_back({&put_meta_stmt, args.take()});
  }
  calls.push_back({&commit_stmt, {}});
  if (auto failed = conn_->run_pipelined(calls))
    fail(failed->error.message);
  key_ = std::move(next);
  return static_cast<std::size_t>(rows->rows());
}

} // namespace feedrouter
