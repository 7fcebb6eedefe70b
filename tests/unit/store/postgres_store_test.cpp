// What only the PostgreSQL store does: its schema's cluster tables, several instances on one database, fencing
// tokens checked against the shard leases, and sessions the server ended. What every store does is in
// store_test.cpp.

#include "store/postgres_store.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/shard.hpp"
#include "store_backends.hpp"
#include "store_records.hpp"
#include "store_rows.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// How long a test waits at most for a session to reach the state it waits for.
constexpr auto wait_deadline = 30s;

/// How often a test asks the server whether that state is reached: the server offers no signal for it.
constexpr auto wait_interval = 10ms;

/// The instance id the tests' stores hold leases under.
const std::string me = "instance-a";

/// Makes `owner` hold the lease of `shard` at `epoch`.
void set_lease(const postgres_backend& backend, std::uint32_t shard, const std::string& owner, std::int64_t epoch) {
  backend.exec("UPDATE shard_lease SET owner = " + (owner.empty() ? std::string{"NULL"} : "'" + owner + "'")
               + ", epoch = " + std::to_string(epoch) + ", expires_at = now() + interval '10 seconds' WHERE shard = "
               + std::to_string(shard));
}

store_op fenced(store_op op, std::uint32_t shard, std::int64_t epoch) {
  op.fence = fencing_token{shard, epoch};
  return op;
}

/// Returns the process id of the server process serving the store (the only session named "feedrouter").
int store_pid(const postgres_backend& backend) {
  return std::stoi(backend.query_value("SELECT pid FROM pg_stat_activity WHERE datname = '" + backend.database()
                                       + "' AND application_name = 'feedrouter'"));
}

/// Waits until `condition` (a query yielding true or false) holds; fails the test when it does not in time.
void wait_until(const postgres_backend& backend, const std::string& condition) {
  auto deadline = std::chrono::steady_clock::now() + wait_deadline;
  while (backend.query_value("SELECT " + condition) != "t") {
    INFO("waiting for: " << condition);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(wait_interval);
  }
}

/// Waits until the server process `pid` waits for a lock.
void wait_for_lock_wait(const postgres_backend& backend, int pid) {
  wait_until(backend, "EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = " + std::to_string(pid)
                        + " AND wait_event_type = 'Lock')");
}

} // namespace

// -- schema ---------------------------------------------------------------------

TEST_CASE("a new PostgreSQL store has its schema version, a free lease per shard and no instances", "[store][pg]") {
  postgres_backend backend;
  backend.open();
  CHECK(backend.query_value("SELECT version FROM schema_version") == std::to_string(postgres_store::schema_version));
  CHECK(backend.query_value("SELECT count(*) FROM shard_lease") == std::to_string(shard_count));
  CHECK(backend.query_value("SELECT min(shard) || '-' || max(shard) FROM shard_lease")
        == "0-" + std::to_string(shard_count - 1));
  CHECK(backend.query_value("SELECT count(*) FROM shard_lease WHERE owner IS NULL AND epoch = 0 AND expires_at IS "
                            "NULL")
        == std::to_string(shard_count));
  CHECK(backend.query_value("SELECT count(*) FROM instances") == "0");
}

TEST_CASE("instances starting at once on an empty database create the schema once", "[store][pg]") {
  postgres_backend backend;
  constexpr int instances = 4;
  std::vector<std::future<std::string>> opened;
  for (int i = 0; i < instances; ++i)
    opened.push_back(std::async(std::launch::async, [&] { return backend.open()->key()->id(); }));
  std::vector<std::string> ids;
  for (auto& x : opened)
    REQUIRE_NOTHROW(ids.push_back(x.get()));
  // The first to hold the migration lock made the key file; the others read it.
  for (const auto& id : ids)
    CHECK(id == ids.front());
  CHECK(backend.query_value("SELECT count(*) FROM shard_lease") == std::to_string(shard_count));
  CHECK(backend.query_value("SELECT count(*) FROM schema_version") == "1");
}

TEST_CASE("several instances use one PostgreSQL store at once", "[store][pg]") {
  postgres_backend backend;
  auto first = backend.open();
  auto second = backend.open();
  auto rec = make_record("guest", "tick");
  REQUIRE(first->commit({put(rec), put_event(rec.trigger, make_event(1))}) == std::nullopt);
  auto loaded = second->load_all();
  REQUIRE(loaded.size() == 1);
  check_same(loaded[0], rec);
  CHECK(loaded[0].pending.count == 1);
  REQUIRE(second->commit({erase(rec.trigger)}) == std::nullopt);
  CHECK(first->load_all().empty());
}

TEST_CASE("a role with only row privileges runs a store another role migrated", "[store][pg]") {
  postgres_backend backend;
  backend.open();
  // The password of a role the test makes: hex needs no quoting, and CREATE ROLE takes no parameters.
  const std::string password = "0123456789abcdef";
  backend.exec("CREATE ROLE runner_" + backend.database() + " LOGIN PASSWORD '" + password + "'");
  backend.exec("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO runner_" + backend.database());
  auto uri = "postgresql://runner_" + backend.database() + ":" + password + "@127.0.0.1:"
             + std::to_string(postgres_backend::server().port()) + "/" + backend.database();
  store_options opts;
  opts.key_file = backend.key_file();
  auto db = open_store(uri, opts);
  auto rec = make_record("guest", "tick");
  CHECK(db->commit({put(rec), put_event(rec.trigger, make_event(1))}) == std::nullopt);
  CHECK(db->load_all().size() == 1);
  CHECK(db->check() == std::nullopt);
  // Creating tables is what it may not do.
  CHECK(backend.query_value("SELECT has_schema_privilege('runner_" + backend.database() + "', 'public', 'CREATE')")
        == "f");
}

// -- fencing --------------------------------------------------------------------

TEST_CASE("commit_fenced leaves out the changes of a stale lease, reports their trigger and commits the others",
          "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.instance_id = me;
  auto db = backend.open(opts);
  auto a = make_record("guest", "a");
  auto b = make_record("guest", "b");
  auto c = make_record("guest", "c");
  auto sa = shard_of(a.trigger);
  auto sb = shard_of(b.trigger);
  REQUIRE(sa != sb);
  REQUIRE(db->commit({put(a), put(b), put(c)}) == std::nullopt);
  set_lease(backend, sa, me, 3);
  set_lease(backend, sb, me, 5);
  auto a_status = make_full_record("guest", "a");
  auto b_status = make_full_record("guest", "b");
  // Every reason a token is stale; the changes of b (its lease is held) and c (no token) go through in each case.
  auto [token, reason] = GENERATE_COPY(table<fencing_token, std::string>({
    {fencing_token{sa, 2}, "an older epoch"},
    {fencing_token{sa, 4}, "an epoch the lease never had"},
    {fencing_token{sb, 5}, "another trigger's shard"},
  }));
  INFO(reason);
  auto result = db->commit_fenced({fenced(put_status(a_status), token.shard, token.epoch),
                                   fenced(put_event(a.trigger, make_event(1)), token.shard, token.epoch),
                                   fenced(put_status(b_status), sb, 5),
                                   fenced(put_event(b.trigger, make_event(2)), sb, 5),
                                   put_event(c.trigger, make_event(3))});
  CHECK(result.error == std::nullopt);
  REQUIRE(result.fenced.size() == 1);
  CHECK(result.fenced[0] == a.trigger);
  auto a_loaded = find_loaded(*db, a.trigger);
  check_same(a_loaded, a);
  CHECK(a_loaded.pending.empty());
  auto b_loaded = find_loaded(*db, b.trigger);
  check_same(b_loaded, b_status);
  CHECK(b_loaded.pending == span_of({2}));
  CHECK(find_loaded(*db, c.trigger).pending == span_of({3}));
}

TEST_CASE("a lease that moved to another instance or was released fences its shard's changes", "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.instance_id = me;
  auto db = backend.open(opts);
  auto a = make_record("guest", "a");
  auto sa = shard_of(a.trigger);
  REQUIRE(db->commit({put(a)}) == std::nullopt);
  SECTION("taken over") {
    set_lease(backend, sa, "instance-b", 8);
    CHECK(db->commit_fenced({fenced(put_event(a.trigger, make_event(1)), sa, 8)}).fenced
          == std::vector<trigger_ref>{a.trigger});
  }
  SECTION("released: the epoch stays, the owner goes") {
    set_lease(backend, sa, "", 8);
    CHECK(db->commit_fenced({fenced(put_event(a.trigger, make_event(1)), sa, 8)}).fenced
          == std::vector<trigger_ref>{a.trigger});
  }
  SECTION("held, but the store knows no instance id") {
    set_lease(backend, sa, me, 8);
    auto anonymous = backend.open();
    CHECK(anonymous->commit_fenced({fenced(put_event(a.trigger, make_event(1)), sa, 8)}).fenced
          == std::vector<trigger_ref>{a.trigger});
  }
  CHECK(find_loaded(*db, a.trigger).pending.empty());
  SECTION("held: committed") {
    set_lease(backend, sa, me, 8);
    auto result = db->commit_fenced({fenced(put_event(a.trigger, make_event(1)), sa, 8)});
    CHECK(result.error == std::nullopt);
    CHECK(result.fenced.empty());
    CHECK(find_loaded(*db, a.trigger).pending.count == 1);
  }
}

TEST_CASE("commit fails the whole batch when a change's lease is stale, naming it", "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.instance_id = me;
  auto db = backend.open(opts);
  auto a = make_record("guest", "a");
  auto b = make_record("guest", "b");
  REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
  set_lease(backend, shard_of(a.trigger), me, 3);
  auto error = db->commit({put_event(b.trigger, make_event(1)),
                           fenced(put_event(a.trigger, make_event(2)), shard_of(a.trigger), 2)});
  REQUIRE(error);
  CHECK(*error == "put_event guest/a seq 2: its lease on shard " + std::to_string(shard_of(a.trigger))
                    + " at epoch 2 is no longer held");
  CHECK(find_loaded(*db, b.trigger).pending.empty());
}

TEST_CASE("a takeover waiting for its lease row makes a commit that started later find the lease gone",
          "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.instance_id = me;
  auto db = backend.open(opts);
  auto a = make_record("guest", "a");
  auto sa = shard_of(a.trigger);
  REQUIRE(db->commit({put(a)}) == std::nullopt);
  set_lease(backend, sa, me, 1);
  // Another instance takes the shard over, and has not committed yet.
  auto takeover = postgres_backend::server().open_session(backend.database());
  takeover->exec("BEGIN");
  takeover->exec("UPDATE shard_lease SET owner = 'instance-b', epoch = epoch + 1 WHERE shard = " + std::to_string(sa));
  auto committing = std::async(std::launch::async,
                               [&] { return db->commit_fenced({fenced(put_event(a.trigger, make_event(1)), sa, 1)}); });
  wait_for_lock_wait(backend, store_pid(backend));
  takeover->exec("COMMIT");
  auto result = committing.get();
  CHECK(result.error == std::nullopt);
  CHECK(result.fenced == std::vector<trigger_ref>{a.trigger});
  CHECK(find_loaded(*db, a.trigger).pending.empty());
}

TEST_CASE("a takeover waits for a commit that checked its lease first, and later commits are fenced", "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.instance_id = me;
  auto db = backend.open(opts);
  auto a = make_record("guest", "a");
  auto sa = shard_of(a.trigger);
  REQUIRE(db->commit({put(a)}) == std::nullopt);
  set_lease(backend, sa, me, 1);
  // A row lock on the registration holds the commit after its lease check, inside its transaction.
  auto blocker = postgres_backend::server().open_session(backend.database());
  blocker->exec("BEGIN");
  blocker->exec("SELECT 1 FROM registrations WHERE name = 'a' FOR UPDATE");
  auto update = make_full_record("guest", "a");
  auto committing = std::async(std::launch::async,
                               [&] { return db->commit_fenced({fenced(put_status(update), sa, 1)}); });
  auto store = store_pid(backend);
  wait_for_lock_wait(backend, store);
  // The takeover's UPDATE waits for the lease row the commit holds.
  auto takeover = postgres_backend::server().open_session(backend.database());
  takeover->send("UPDATE shard_lease SET owner = 'instance-b', epoch = epoch + 1 WHERE shard = " + std::to_string(sa));
  wait_until(backend, std::to_string(store) + " = ANY(pg_blocking_pids(" + std::to_string(takeover->pid()) + "))");
  blocker->exec("ROLLBACK");
  auto result = committing.get();
  CHECK(result.error == std::nullopt);
  CHECK(result.fenced.empty());
  takeover->finish();
  check_same(find_loaded(*db, a.trigger), update);
  CHECK(backend.query_value("SELECT owner || ' ' || epoch FROM shard_lease WHERE shard = " + std::to_string(sa))
        == "instance-b 2");
  CHECK(db->commit_fenced({fenced(put_status(a), sa, 1)}).fenced == std::vector<trigger_ref>{a.trigger});
  check_same(find_loaded(*db, a.trigger), update);
}

// -- sessions -------------------------------------------------------------------

TEST_CASE("a session the server ended is opened again by the next call", "[store][pg]") {
  postgres_backend backend;
  auto db = backend.open();
  auto a = make_record("guest", "a");
  REQUIRE(db->commit({put(a)}) == std::nullopt);
  auto ended = [&] {
    backend.exec("SELECT pg_terminate_backend(" + std::to_string(store_pid(backend)) + ")");
    wait_until(backend, "NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'feedrouter')");
  };
  ended();
  CHECK(db->commit({put_event(a.trigger, make_event(1))}) == std::nullopt);
  ended();
  CHECK(find_loaded(*db, a.trigger).pending.count == 1);
  ended();
  CHECK(db->check() == std::nullopt);
  ended();
  CHECK(db->load_shards({shard_of(a.trigger)}).size() == 1);
}

TEST_CASE("a store migrated by a newer feedrouter while this one runs refuses every write from then on",
          "[store][pg]") {
  postgres_backend backend;
  auto db = backend.open();
  REQUIRE(db->check() == std::nullopt);
  backend.exec("UPDATE schema_version SET version = version + 1");
  auto problem = db->check();
  REQUIRE(problem);
  CHECK(*problem == "store '" + backend.name() + "' refuses every write from now on: a newer feedrouter migrated it "
                    "to schema " + std::to_string(postgres_store::schema_version + 1) + "; restart the service");
  auto error = db->commit({put(make_record("guest", "a"))});
  REQUIRE(error);
  CHECK_THAT(*error, StartsWith("the store refuses writes: a newer feedrouter migrated it"));
}

TEST_CASE("a store sealed again under another key while this instance runs refuses every write from then on",
          "[store][pg]") {
  postgres_backend backend;
  auto running = backend.open();
  auto rotating = backend.open();
  rotating->reseal(std::make_shared<const secrets_key>(secrets_key::generate()));
  auto problem = running->check();
  REQUIRE(problem);
  CHECK_THAT(*problem, Contains("it was sealed again under another secrets key"));
  CHECK(running->commit({put(make_record("guest", "a"))}));
  CHECK(rotating->check() == std::nullopt);
}
