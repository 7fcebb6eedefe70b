#include <algorithm>
#include <csignal>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/auth_key.hpp"
#include "core/changes_spec.hpp"
#include "core/json.hpp"
#include "store/store.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/temp_dir.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/couchdb_server.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a change may take to reach the controller; reached only when something is broken.
constexpr auto change_timeout = 20s;

/// How long the feed may take to come back after the database does: the back-off is at most 30 s.
constexpr auto recovery_timeout = 60s;

constexpr char db[] = "orders";

/// A pouchdb-server with its data in its own directory, and the database `db` in it.
struct couch_fixture {
  couch_fixture() : server(dir.file("couch")) {
    server.start();
    server.create_db(db);
  }

  temp_dir dir;
  couchdb_server server;
};

std::string create_body(const couchdb_server& couch, const std::string& more_members = {}) {
  return R"({"feed":"changes","url":")" + couch.url() + R"(","dbname":")" + db + R"(","heartbeatSeconds":1)"
         + (more_members.empty() ? "" : "," + more_members) + "}";
}

/// Returns the document ids of the fires of `trigger`, in the order they arrived.
std::vector<std::string> fired_ids(const e2e_fixture& fx, const trigger_ref& trigger) {
  std::vector<std::string> ids;
  for (const auto& fire : fx.fires_of(trigger))
    ids.push_back(json_string_at(fire.body, "/id").value_or("?"));
  return ids;
}

/// Returns the seqs of the fires of `trigger` (pouchdb-server's are numbers), in the order they arrived.
std::vector<std::int64_t> fired_seqs(const e2e_fixture& fx, const trigger_ref& trigger) {
  std::vector<std::int64_t> seqs;
  for (const auto& fire : fx.fires_of(trigger))
    seqs.push_back(json_int_at(fire.body, "/seq").value_or(-1));
  return seqs;
}

bool strictly_increasing(const std::vector<std::int64_t>& values) {
  return std::adjacent_find(values.begin(), values.end(), std::greater_equal<>{}) == values.end();
}

std::string doc_id(int i) {
  auto digits = std::to_string(i);
  return "doc-" + std::string(4 - std::min<std::size_t>(4, digits.size()), '0') + digits;
}

/// Returns the seq of the position stored for `trigger` in the store at `store_spec`.
std::int64_t stored_seq(const std::string& store_spec, const trigger_ref& trigger) {
  auto store = open_store(store_spec);
  for (const auto& record : store->load_all()) {
    if (record.trigger.key() != trigger.key())
      continue;
    auto params = parse_json_object(record.params_json, "params");
    REQUIRE(params);
    auto spec = parse_changes_spec(*params);
    REQUIRE(spec);
    auto seq = restore_changes_seq(record.status.checkpoint, *spec);
    REQUIRE(seq);
    return std::stoll(*seq);
  }
  FAIL("no stored registration for " << trigger.qualified());
  return -1;
}

} // namespace

TEST_CASE("since=now: changes before CREATE never fire, each later write fires once with its row and dbname",
          "[e2e][changes]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  server.put_doc(db, "before-1", R"({"n":1})");
  server.put_doc(db, "before-2", R"({"n":2})");
  const trigger_ref trigger{"alice", "order-changed"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      create_body(server, R"("trigger_payload":{"team":"a"})")));
  REQUIRE(created.status == 201);
  // CREATE answers once the position is stored: a write right after it is a change to fire.
  CHECK(json_string_at(created.body, "/status/checkpoint/seq").has_value());
  auto rev = server.put_doc(db, "a", R"({"n":3})");
  server.put_doc(db, "b", R"({"n":4})");
  server.delete_doc(db, "a", rev);
  server.put_doc(db, "c", R"({"n":5})");
  REQUIRE(fx.wait_for_fires_of(trigger, 4, change_timeout));
  // "c" was written last: had any change fired twice or an earlier one late, it would show by now.
  CHECK(fired_ids(fx, trigger) == std::vector<std::string>{"a", "b", "a", "c"});
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 4);
  CHECK(strictly_increasing(fired_seqs(fx, trigger)));
  for (const auto& fire : fires) {
    CHECK(json_string_at(fire.body, "/dbname") == std::string{db});
    CHECK(json_string_at(fire.body, "/team") == std::string{"a"});
    CHECK(json_string_at(fire.body, "/changes/0/rev").has_value());
    CHECK(fire.authorization == basic_authorization(alice_key));
  }
  CHECK_FALSE(json_at(fires[0].body, "/deleted").has_value());
  CHECK(json_at(fires[2].body, "/deleted") == std::string{"true"});
  // The counter moves once the provider has processed each fire's answer, after the controller recorded the fire: no
  // event announces that, so poll the READ briefly.
  std::string view;
  auto counted = poll_until(
    [&] {
      view = read_registration(*fr, trigger);
      return json_int_at(view, "/status/fires") == 4;
    },
    change_timeout);
  INFO("READ: " << view);
  CHECK(counted);
  fr->stop_cleanly();
}

TEST_CASE("includeDocs and a selector: fires carry the document, and only matching documents fire",
          "[e2e][changes]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  const trigger_ref trigger{"alice", "paid-orders"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                               create_body(server, R"("includeDocs":true,"selector":{"state":"paid"})")))
            .status
          == 201);
  server.put_doc(db, "open-1", R"({"state":"open"})");
  server.put_doc(db, "paid-1", R"({"state":"paid","total":12})");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, change_timeout));
  // Order is kept, so "open-1", written first, would have fired first.
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 1);
  CHECK(json_string_at(fires[0].body, "/id") == std::string{"paid-1"});
  CHECK(json_int_at(fires[0].body, "/doc/total") == 12);
  fr->stop_cleanly();
}

TEST_CASE("PAUSE keeps the position, UNPAUSE fires what was written meanwhile, UPDATE of the selector keeps it too",
          "[e2e][changes]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  const trigger_ref trigger{"alice", "paused-orders"};
  // A registration on the same database that is not paused: once it has fired a change, the paused one, had its feed
  // stayed open, would have had that change too.
  const trigger_ref witness{"alice", "witness-orders"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().add_trigger(witness, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, create_body(server))).status == 201);
  REQUIRE(fr->call(api_request("PUT", trigger_path(witness), alice_key, create_body(server))).status == 201);
  server.put_doc(db, "a1", R"({"kind":"x"})");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, change_timeout));
  REQUIRE(fx.wait_for_fires_of(witness, 1, change_timeout));
  REQUIRE(fr->call(api_request("POST", trigger_path(trigger) + "/pause", alice_key)).status == 200);
  server.put_doc(db, "a2", R"({"kind":"x"})");
  server.put_doc(db, "a3", R"({"kind":"y"})");
  REQUIRE(fx.wait_for_fires_of(witness, 3, change_timeout));
  // The witness has fired both changes: a feed left open by the pause would have read them by now as well, and they
  // would show as fires or as pending events.
  auto paused_read = read_registration(*fr, trigger);
  INFO("READ while paused: " << paused_read);
  CHECK(json_int_at(paused_read, "/status/pendingEvents") == 0);
  CHECK(fx.fires_of(trigger).size() == 1);
  REQUIRE(fr->call(api_request("POST", trigger_path(trigger) + "/resume", alice_key)).status == 200);
  REQUIRE(fx.wait_for_fires_of(trigger, 3, change_timeout));
  CHECK(fired_ids(fx, trigger) == std::vector<std::string>{"a1", "a2", "a3"});

  REQUIRE(fr->call(api_request("PATCH", trigger_path(trigger), alice_key, R"({"selector":{"kind":"y"}})")).status
          == 200);
  server.put_doc(db, "b1", R"({"kind":"x"})");
  server.put_doc(db, "b2", R"({"kind":"y"})");
  REQUIRE(fx.wait_for_fires_of(trigger, 4, change_timeout));
  // No change fired twice across pause and update, and b1 (written before b2) was filtered out.
  CHECK(fired_ids(fx, trigger) == std::vector<std::string>{"a1", "a2", "a3", "b2"});
  fr->stop_cleanly();
}

// The restart test of the issue: kill -9 in the middle of a burst of 1000 writes. Every change fires at least once,
// in seq order within each run of the provider, and the changes fired twice are only those after the position the
// store held at the kill.
TEST_CASE("kill -9 in a burst of 1000 writes: every change fires, in order, repeats only after the stored position",
          "[e2e][changes][crash]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  const trigger_ref trigger{"alice", "burst"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key, create_body(server))).status == 201);

  constexpr int writes = 1000;
  constexpr int per_bulk = 50;
  std::atomic<bool> writer_failed{false};
  std::thread writer{[&] {
    try {
      for (int start = 0; start < writes; start += per_bulk) {
        std::vector<std::string> docs;
        for (int i = start; i < start + per_bulk; ++i)
          docs.push_back(R"({"_id":")" + doc_id(i) + R"(","n":)" + std::to_string(i) + "}");
        server.bulk_docs(db, docs);
      }
    } catch (...) {
      writer_failed = true;
    }
  }};
  // The kill lands while changes are still streaming in.
  auto mid_burst = fx.wait_for_fires_of(trigger, writes / 4, change_timeout);
  auto status = first->kill();
  writer.join();
  REQUIRE(mid_burst);
  REQUIRE_FALSE(writer_failed);
  CHECK(status.signal == SIGKILL);
  first.reset();
  auto fired_before = fx.fires_of(trigger).size();
  auto position = stored_seq(fx.store_spec(), trigger);

  auto second = fx.start_feedrouter();
  REQUIRE(poll_until(
    [&] {
      auto ids = fired_ids(fx, trigger);
      return std::set<std::string>(ids.begin(), ids.end()).size() == static_cast<std::size_t>(writes);
    },
    change_timeout));
  auto ids = fired_ids(fx, trigger);
  auto seqs = fired_seqs(fx, trigger);
  std::vector<std::int64_t> before(seqs.begin(), seqs.begin() + static_cast<std::ptrdiff_t>(fired_before));
  std::vector<std::int64_t> after(seqs.begin() + static_cast<std::ptrdiff_t>(fired_before), seqs.end());
  INFO("fires before the kill: " << fired_before << ", stored position: " << position);
  CHECK(strictly_increasing(before));
  CHECK(strictly_increasing(after));
  REQUIRE_FALSE(after.empty());
  // The second run starts right after the stored position: nothing between is skipped, nothing before repeated.
  CHECK(after.front() > position);
  std::set<std::int64_t> first_run(before.begin(), before.end());
  std::size_t repeated = 0;
  for (auto seq : after) {
    if (first_run.count(seq) == 0)
      continue;
    ++repeated;
    CHECK(seq > position);
  }
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == static_cast<std::size_t>(writes));
  std::cout << "changes crash test: " << fired_before << " fires before kill -9, stored position " << position
            << ", " << repeated << " changes fired twice, " << seqs.size() << " fires in all\n";
  second->stop_cleanly();
}

TEST_CASE("the database going away shows in READ, and the feed comes back by itself", "[e2e][changes]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  const trigger_ref trigger{"alice", "outage"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, create_body(server))).status == 201);
  server.put_doc(db, "a1", "{}");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, change_timeout));

  server.stop();
  std::string during;
  CHECK(poll_until(
    [&] {
      during = read_registration(*fr, trigger);
      return json_string_at(during, "/status/lastSourceError").has_value();
    },
    change_timeout));
  INFO(during);
  CHECK(json_string_at(during, "/status/state") == std::string{"active"});
  CHECK(json_int_at(during, "/status/sourceErrors").value_or(0) >= 1);

  server.start();
  server.put_doc(db, "a2", "{}");
  REQUIRE(fx.wait_for_fires_of(trigger, 2, recovery_timeout));
  CHECK(fired_ids(fx, trigger) == std::vector<std::string>{"a1", "a2"});
  std::string after;
  CHECK(poll_until(
    [&] {
      after = read_registration(*fr, trigger);
      return !json_string_at(after, "/status/lastSourceError").has_value();
    },
    change_timeout));
  fr->stop_cleanly();
}

TEST_CASE("a missing database fails a since=now CREATE naming dbname, and disables a since=0 registration",
          "[e2e][changes]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  const trigger_ref trigger{"alice", "no-such-db"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto body = R"({"feed":"changes","url":")" + server.url() + R"(","dbname":"missing")";
  auto refused = fr->call(api_request("PUT", trigger_path(trigger), alice_key, body + "}"));
  CHECK(refused.status == 400);
  CHECK(json_string_at(refused.body, "/field") == std::string{"dbname"});
  CHECK(json_string_at(refused.body, "/error").value_or("").find("404") != std::string::npos);

  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, body + R"(,"since":0})")).status == 201);
  std::string view;
  CHECK(poll_until(
    [&] {
      view = read_registration(*fr, trigger);
      return json_string_at(view, "/status/state") == std::string{"disabled"};
    },
    change_timeout));
  INFO(view);
  CHECK(json_string_at(view, "/status/reason/kind") == std::string{"AUTO"});
  CHECK(json_int_at(view, "/status/reason/statusCode") == 404);
  fr->stop_cleanly();
}

TEST_CASE("wrong database credentials fail a since=now CREATE naming username", "[e2e][changes]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  server.add_admin("admin", "admin-secret");
  const trigger_ref trigger{"alice", "wrong-password"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto refused = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      create_body(server, R"("username":"admin","password":"wrong")")));
  CHECK(refused.status == 400);
  CHECK(json_string_at(refused.body, "/field") == std::string{"username"});
  CHECK(json_string_at(refused.body, "/error").value_or("").find("401") != std::string::npos);
  auto accepted = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                       create_body(server, R"("username":"admin","password":"admin-secret")")));
  CHECK(accepted.status == 201);
  // READ never shows the password.
  CHECK(read_registration(*fr, trigger).find("admin-secret") == std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("an UPDATE to another database starts where that one ends, and a missing one is refused naming dbname",
          "[e2e][changes]") {
  e2e_fixture fx;
  couch_fixture couch;
  auto& server = couch.server;
  server.create_db("archive");
  server.put_doc("archive", "old-1", "{}");
  const trigger_ref trigger{"alice", "moved"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, create_body(server))).status == 201);
  server.put_doc(db, "a1", "{}");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, change_timeout));

  auto refused = fr->call(api_request("PATCH", trigger_path(trigger), alice_key, R"({"dbname":"missing"})"));
  CHECK(refused.status == 400);
  CHECK(json_string_at(refused.body, "/field") == std::string{"dbname"});
  CHECK(json_string_at(read_registration(*fr, trigger), "/config/dbname") == std::string{db});

  auto moved = fr->call(api_request("PATCH", trigger_path(trigger), alice_key, R"({"dbname":"archive"})"));
  REQUIRE(moved.status == 200);
  // The answer carries the new position: a write right after it fires, old-1 (written before) never does.
  CHECK(json_string_at(moved.body, "/status/checkpoint/source").value_or("").find("/archive")
        != std::string::npos);
  server.put_doc("archive", "new-1", "{}");
  REQUIRE(fx.wait_for_fires_of(trigger, 2, change_timeout));
  CHECK(fired_ids(fx, trigger) == std::vector<std::string>{"a1", "new-1"});
  CHECK(json_string_at(fx.fires_of(trigger)[1].body, "/dbname") == std::string{"archive"});
  fr->stop_cleanly();
}
