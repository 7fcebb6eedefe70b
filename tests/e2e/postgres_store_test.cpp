#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/e2e_postgres.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/couchdb_server.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using Catch::Contains;
using Catch::StartsWith;

namespace {

const trigger_ref hook_trigger{"alice", "hook"};
const trigger_ref alarm_trigger{"alice", "alarm"};

/// Creates a webhook and a yearly alarm of alice; returns the webhook.
webhook_registration create_registrations(e2e_fixture& fx, feedrouter_process& fr) {
  fx.controller().add_trigger(hook_trigger, std::string{alice_key});
  fx.controller().add_trigger(alarm_trigger, std::string{alice_key});
  auto hook = create_webhook(fr, hook_trigger, "hmac-sha256", R"("secret":"a-webhook-secret-0123456789")");
  REQUIRE(fr.call(api_request("PUT", trigger_path(alarm_trigger), alice_key, alarm_body(yearly, "{}"))).status
          == 201);
  return hook;
}

/// Runs feedrouter with `args` to its end; returns its stdout lines, after checking it exited 0 with an empty stderr.
std::vector<std::string> run_to_end(e2e_fixture& fx, std::vector<std::string> args) {
  child_process child{feedrouter_command(std::move(args), fx.next_stderr_path())};
  std::vector<std::string> lines;
  while (auto line = child.read_line(feedrouter_process::exit_timeout))
    lines.push_back(*line);
  auto status = child.wait(feedrouter_process::exit_timeout);
  INFO("stderr: " << child.stderr_text());
  REQUIRE(status);
  CHECK(status->exited());
  CHECK(status->code == 0);
  return lines;
}

} // namespace

TEST_CASE("feedrouter runs on a PostgreSQL store: registrations are kept across a restart and fire from there",
          "[e2e][pg]") {
  e2e_fixture fx;
  auto store = postgres_store_args(fx);
  auto fr = fx.start_feedrouter(store);
  auto hook = create_registrations(fx, *fr);
  fr->stop_cleanly();
  fr = fx.start_feedrouter(store);
  CHECK(fr->call(api_request("GET", trigger_path(alarm_trigger), alice_key)).status == 200);
  CHECK(fr->call(api_request("GET", trigger_path(alarm_trigger), bob_key)).status == 404);
  post_event(*fr, hook, R"({"on":"postgresql"})");
  REQUIRE(fx.wait_for_fires_of(hook_trigger, 1, 5s));
  CHECK(fx.fires_of(hook_trigger)[0].authorization == "Basic " + base64_encode(alice_key));
  fr->stop_cleanly();
  // --check-store reads it whole.
  auto check = store;
  check.push_back("--check-store");
  auto lines = run_to_end(fx, check);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], StartsWith("store '" + store[1] + "' is sound: 2 registrations, secrets key "));
}

TEST_CASE("migrate copies a stopped feedrouter's SQLite store into PostgreSQL, where it runs on", "[e2e][pg]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  auto hook = create_registrations(fx, *fr);
  fr->stop_cleanly();
  fr.reset();
  auto store = postgres_store_args(fx);
  // The key file of the SQLite store seals both.
  auto key_file = fx.store_path() + ".key";
  auto lines = run_to_end(fx, {"migrate", "--from", fx.store_spec(), "--to", store[1], "--store-password-file",
                               store[3]});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "migrated 2 registrations, 0 pending events, 0 dead letters and 0 checkpoints from '"
                      + fx.store_spec() + "' to '" + store[1] + "'");
  store[5] = key_file; // the value of --secrets-key-file
  fr = fx.start_feedrouter(store);
  CHECK(fr->call(api_request("GET", trigger_path(alarm_trigger), alice_key)).status == 200);
  post_event(*fr, hook, R"({"after":"migrate"})");
  REQUIRE(fx.wait_for_fires_of(hook_trigger, 1, 5s));
  CHECK(fx.fires_of(hook_trigger)[0].authorization == "Basic " + base64_encode(alice_key));
  fr->stop_cleanly();
}

TEST_CASE("import-openwhisk writes an OpenWhisk alarms provider's triggers into a PostgreSQL store, where they run",
          "[e2e][pg]") {
  e2e_fixture fx;
  couchdb_server couch{fx.file("couchdb")};
  couch.start();
  couch.create_db("alarmservice");
  const trigger_ref imported{"alice", "imported"};
  const std::string key{alice_key};
  fx.controller().add_trigger(imported, key);
  couch.put_doc("alarmservice", key + "/alice/imported",
                R"({"apikey":")" + key + R"(","name":"imported","namespace":"alice","worker":"worker0",)"
                  R"("payload":{"from":"openwhisk"},"maxTriggers":-1,"cron":"* * * * * *",)"
                  R"("status":{"active":true,"dateChanged":1735689600000}})");
  auto store = postgres_store_args(fx);
  std::vector<std::string> import{"import-openwhisk", "--couchdb", couch.url(), "--db", "alarmservice", "--kind",
                                  "alarms", "--api-host", fx.controller().url(), "--allow-egress", "127.0.0.1"};
  import.insert(import.end(), store.begin(), store.end());
  auto lines = run_to_end(fx, import);
  REQUIRE_FALSE(lines.empty());
  CHECK_THAT(lines.front(), Contains("into " + store[1]));
  CHECK_THAT(lines.back(), StartsWith("summary: 1 imported, 0 unchanged, 0 not imported, 0 skipped"));
  // Idempotent: the second import finds it in the store.
  CHECK_THAT(run_to_end(fx, import).back(), StartsWith("summary: 0 imported, 1 unchanged, 0 not imported"));

  auto fr = fx.start_feedrouter(store);
  auto read = fr->call(api_request("GET", trigger_path(imported), alice_key));
  REQUIRE(read.status == 200);
  CHECK(json_at(read.body, "/status/active") == std::string{"true"});
  CHECK(json_string_at(read.body, "/config/cronMonths") == std::string{"0-11"});
  REQUIRE(fx.wait_for_fires_of(imported, 1, 5s));
  CHECK(json_string_at(fx.fires_of(imported)[0].body, "/from") == std::string{"openwhisk"});
  CHECK(fx.fires_of(imported)[0].authorization == "Basic " + base64_encode(alice_key));
  fr->stop_cleanly();
}
