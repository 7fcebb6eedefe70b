// deleteAfterFire as the trigger carries it out through the real controller client (over the fake HTTP client):
// the OpenWhisk trigger, and with "rules" its rules first, are deleted with the owner's key once the one fire was
// accepted; failures are retried as fires are, or leave the registration disabled saying why.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/controller_client.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref once{"guest", "once"};

/// OpenWhisk's JSON of trigger guest/once with two rules (one in another namespace).
const std::string trigger_with_rules = R"({"namespace":"guest","name":"once","rules":{
  "guest/r1":{"status":"active","action":{"name":"a","path":"guest"}},
  "other/r 2":{"status":"active","action":{"name":"b","path":"other"}}}})";

struct deletion_fixture : actor_fixture {
  deletion_fixture() {
    env->controller = spawn_controller_client(sys, client, test_api_host(), 10s);
    stop_at_teardown(caf::actor_cast<caf::actor>(*env->controller));
  }

  /// Starts a one-shot alarm at +5 s with deleteAfterFire `mode` and lets its fire be sent (request 0).
  trigger_harness start_once(std::string_view mode) {
    auto params = std::string{R"({"fireOnce": true, "date": "2026-01-01T00:00:05Z", "deleteAfterFire": )"}
                  + std::string{mode} + "}";
    auto t = start_trigger(*this, make_record(once, params, now()), alarm_config(params, now(), once));
    advance(6s);
    REQUIRE(client->calls().size() == 1);
    return t;
  }

  /// Returns "METHOD target" of request `index`.
  std::string request_line(std::size_t index) const {
    const auto& req = client->calls().at(index).request;
    return req.message.method + " " + req.destination.target;
  }

  bool removed(const trigger_harness& t) const {
    return !t.registry_log->find(remove_atom::value).empty();
  }
};

} // namespace

TEST_CASE_METHOD(deletion_fixture, "deleteAfterFire rules deletes every rule, then the trigger, then the registration",
                 "[trigger_deletion]") {
  auto t = start_once(R"("rules")");
  client->answer(0, 202, R"({"activationId":"a1"})");
  run();
  REQUIRE(client->calls().size() == 2);
  CHECK(request_line(1) == "GET /api/v1/namespaces/guest/triggers/once");
  CHECK(snapshot(t.trigger).status.reason.message.find("deleting the rules") != std::string::npos);
  client->answer(1, 200, trigger_with_rules);
  run();
  REQUIRE(client->calls().size() == 3);
  CHECK(request_line(2) == "DELETE /api/v1/namespaces/guest/rules/r1");
  client->answer(2, 200);
  run();
  REQUIRE(client->calls().size() == 4);
  // Entity names may hold spaces: encoded.
  CHECK(request_line(3) == "DELETE /api/v1/namespaces/other/rules/r%202");
  CHECK_FALSE(removed(t));
  client->answer(3, 404); // gone already: as good as deleted
  run();
  REQUIRE(client->calls().size() == 5);
  CHECK(request_line(4) == "DELETE /api/v1/namespaces/guest/triggers/once");
  for (std::size_t i = 1; i < 5; ++i)
    CHECK(client->calls()[i].request.message.field("Authorization") == owner_authorization);
  CHECK_FALSE(removed(t));
  client->answer(4, 200);
  run();
  CHECK(removed(t));
}

TEST_CASE_METHOD(deletion_fixture, "deleteAfterFire true deletes the trigger alone, and nothing before the fire is "
                                   "accepted", "[trigger_deletion]") {
  auto t = start_once("true");
  run();
  CHECK(client->calls().size() == 1);
  client->answer(0, 204); // no active rule: still accepted
  run();
  REQUIRE(client->calls().size() == 2);
  CHECK(request_line(1) == "DELETE /api/v1/namespaces/guest/triggers/once");
  client->answer(1, 200);
  run();
  CHECK(removed(t));
}

TEST_CASE_METHOD(deletion_fixture, "a failed fire deletes nothing", "[trigger_deletion]") {
  env->retries.max_attempts = 1;
  auto t = start_once("true");
  client->answer(0, 500);
  advance(1min, 1s);
  CHECK(client->calls().size() == 1);
  CHECK_FALSE(removed(t));
}

TEST_CASE_METHOD(deletion_fixture, "a deletion the controller cannot take now is retried with back-off and shown",
                 "[trigger_deletion]") {
  auto t = start_once("true");
  client->answer(0, 202);
  run();
  client->answer(1, 503);
  run();
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("failed") && Catch::Contains("503")
                                           && Catch::Contains("trying again"));
  CHECK(client->calls().size() == 2);
  // Half the first back-off ceiling (500 ms) with the fixture's jitter.
  advance(300ms, 10ms);
  REQUIRE(client->calls().size() == 3);
  CHECK(request_line(2) == "DELETE /api/v1/namespaces/guest/triggers/once");
  client->fail(2, "connect: Connection refused");
  advance(1s, 10ms);
  REQUIRE(client->calls().size() == 4);
  client->answer(3, 200);
  run();
  CHECK(removed(t));
}

TEST_CASE_METHOD(deletion_fixture, "a deletion the controller refuses leaves the registration disabled with its status",
                 "[trigger_deletion]") {
  auto t = start_once(R"("rules")");
  client->answer(0, 202);
  run();
  client->answer(1, 403, R"({"error":"forbidden"})");
  advance(1min, 1s);
  CHECK(client->calls().size() == 2);
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK(snap.status.reason.status_code == 403);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("reading the rules"));
  CHECK_FALSE(removed(t));
  auto stored = stored_statuses(*journal, once);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().reason.status_code == 403);
}

TEST_CASE_METHOD(deletion_fixture, "retries of a deletion stop where a fire's would", "[trigger_deletion]") {
  env->retries.max_attempts = 2;
  auto t = start_once("true");
  client->answer(0, 202);
  run();
  client->answer(1, 503);
  advance(1s, 10ms);
  REQUIRE(client->calls().size() == 3);
  client->answer(2, 503);
  advance(1min, 1s);
  CHECK(client->calls().size() == 3);
  auto snap = snapshot(t.trigger);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("after 2 attempts"));
  CHECK_FALSE(removed(t));
}

TEST_CASE_METHOD(deletion_fixture, "a deletion a stop interrupted begins again when the registration is loaded",
                 "[trigger_deletion]") {
  auto params = R"({"fireOnce": true, "date": "2026-01-01T00:00:05Z", "deleteAfterFire": "true"})";
  auto record = make_record(once, params, now());
  // As stored once its fire was accepted and its schedule ended.
  record.status.state = registration_state::disabled;
  record.status.reason = {reason_kind::automatic, 0, "the one-shot alarm's date has passed"};
  record.status.fires = 1;
  record.status.last_occurrence = at(5s);
  advance(10s);
  auto t = start_trigger(*this, std::move(record), alarm_config(params, at(0s), once));
  run();
  REQUIRE(client->calls().size() == 1);
  CHECK(request_line(0) == "DELETE /api/v1/namespaces/guest/triggers/once");
  client->answer(0, 200);
  run();
  CHECK(removed(t));
}

TEST_CASE_METHOD(deletion_fixture, "an UPDATE with a new date after a deletion gave up deletes after the next fire",
                 "[trigger_deletion]") {
  auto t = start_once("true");
  client->answer(0, 202);
  run();
  client->answer(1, 403);
  run();
  REQUIRE(snapshot(t.trigger).status.reason.status_code == 403);
  auto params = R"({"fireOnce": true, "date": "2026-01-01T00:00:20Z", "deleteAfterFire": true})";
  auto updated = call<trigger_snapshot>(t.trigger, update_atom::value,
                                        trigger_update{alarm_config(params, now(), once), params, std::nullopt});
  CHECK(updated.status.state == registration_state::active);
  advance(15s);
  REQUIRE(client->calls().size() == 3);
  client->answer(2, 202);
  run();
  REQUIRE(client->calls().size() == 4);
  CHECK(request_line(3) == "DELETE /api/v1/namespaces/guest/triggers/once");
  client->answer(3, 200);
  run();
  CHECK(removed(t));
}
