#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "core/alarm_spec.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref every1{"guest", "every1"};

trigger_harness start(actor_fixture& f, const trigger_ref& trigger, std::string_view params_json) {
  auto record = make_record(trigger, params_json, f.now());
  auto config = alarm_config(params_json, f.now(), trigger);
  return start_trigger(f, std::move(record), std::move(config));
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "an interval alarm fires at each multiple of its interval after creation and never "
                                "in between", "[trigger][firer]") {
  client->answer_all(200);
  auto t = start(*this, every1, R"({"seconds": 1, "trigger_payload": {"hello": "world"}})");
  CHECK(client->calls().empty());
  advance(3500ms, 50ms);
  REQUIRE(client->sent_times() == every(at(1s), 1s, 3));
  for (const auto& call : client->calls()) {
    CHECK(call.request.message.method == "POST");
    CHECK(call.request.destination.host == "controller.test");
    CHECK(call.request.destination.target == "/api/v1/namespaces/guest/triggers/every1");
    CHECK(call.request.message.field("Authorization") == owner_authorization);
    CHECK(call.request.message.body == R"({"hello":"world"})");
  }
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::active);
  CHECK(snap.status.fires == 3);
  CHECK(snap.status.failures == 0);
  CHECK(snap.status.last_fired == at(3s));
  CHECK(snap.status.last_occurrence == at(3s));
  CHECK(snap.live.next_fire == at(4s));
  auto stored = stored_statuses(*journal, every1);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().fires == 3);
  CHECK(stored.back().last_occurrence == at(3s));
}

TEST_CASE_METHOD(actor_fixture, "a six-field cron alarm fires at the seconds it names", "[trigger]") {
  client->answer_all(200);
  start(*this, every1, R"({"cron": "*/2 * * * * *"})");
  advance(7s, 100ms);
  CHECK(client->sent_times() == every(at(2s), 2s, 3));
  // Without trigger_payload a fire carries an empty object.
  REQUIRE_FALSE(client->calls().empty());
  CHECK(client->calls()[0].request.message.body == "{}");
}

TEST_CASE_METHOD(actor_fixture, "a five-field cron alarm fires at the trigger's spread second unless strict",
                 "[trigger]") {
  client->answer_all(200);
  SECTION("spread") {
    auto spec = parse_alarm_spec(params(R"({"cron": "* * * * *"})"), now(), validation_time::request, every1.key());
    REQUIRE(spec);
    std::vector<sys_ms> expected;
    for (int minute = 0; minute < 3; ++minute) {
      auto t = at(std::chrono::minutes{minute} + spec->spread_offset);
      if (t > at(0s) && t <= at(150s))
        expected.push_back(t);
    }
    start(*this, every1, R"({"cron": "* * * * *"})");
    advance(150s, 1s);
    CHECK(client->sent_times() == expected);
  }
  SECTION("strict") {
    start(*this, every1, R"({"cron": "* * * * *", "strict": true})");
    advance(150s, 1s);
    CHECK(client->sent_times() == every(at(60s), 60s, 2));
  }
}

TEST_CASE_METHOD(actor_fixture, "pausing stops the fires and resuming restarts them in the same phase", "[trigger]") {
  client->answer_all(200);
  auto t = start(*this, every1, R"({"seconds": 1})");
  advance(2500ms);
  REQUIRE(client->calls().size() == 2);
  auto paused = call<trigger_snapshot>(t.trigger, pause_atom::value);
  CHECK(paused.status.state == registration_state::paused);
  CHECK(paused.status.reason.kind == reason_kind::user);
  CHECK(paused.status.date_changed == at(2500ms));
  CHECK_FALSE(paused.live.next_fire);
  auto stored = stored_statuses(*journal, every1);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().state == registration_state::paused);
  CHECK(stored.back().reason.kind == reason_kind::user);
  advance(3s);
  CHECK(client->calls().size() == 2);
  // Pausing again changes nothing.
  CHECK(call<trigger_snapshot>(t.trigger, pause_atom::value).status.date_changed == at(2500ms));
  auto resumed = call<trigger_snapshot>(t.trigger, resume_atom::value);
  CHECK(resumed.status.state == registration_state::active);
  CHECK(resumed.status.reason.kind == reason_kind::none);
  CHECK(resumed.status.reason.message.empty());
  stored = stored_statuses(*journal, every1);
  CHECK(stored.back().state == registration_state::active);
  // Resumed at +5.5 s: the next occurrence of the original phase is +6 s.
  advance(2s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(1s), at(2s), at(6s), at(7s)});
  CHECK(snapshot(t.trigger).status.fires == 4);
}

TEST_CASE_METHOD(actor_fixture, "a fire in flight when the registration is paused still completes and is counted",
                 "[trigger][firer]") {
  // Pausing with a request on the wire waits for its answer, so a fire the controller accepted is counted.
  auto t = start(*this, every1, R"({"seconds": 1})");
  advance(1s);
  REQUIRE(client->unanswered() == 1);
  call<trigger_snapshot>(t.trigger, pause_atom::value);
  client->answer(0, 200);
  run();
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::paused);
  CHECK(snap.status.fires == 1);
  advance(5s);
  CHECK(client->calls().size() == 1);
}

TEST_CASE_METHOD(actor_fixture, "after maxTriggers fires the registration is disabled with no triggers left",
                 "[trigger]") {
  client->answer_all(200);
  auto t = start(*this, every1, R"({"seconds": 1, "maxTriggers": 3})");
  CHECK(snapshot(t.trigger).status.triggers_left == 3);
  advance(2500ms);
  CHECK(snapshot(t.trigger).status.triggers_left == 1);
  advance(5s);
  CHECK(client->sent_times() == every(at(1s), 1s, 3));
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("maxTriggers"));
  CHECK(snap.status.triggers_left == 0);
  CHECK(snap.status.fires == 3);
  CHECK_FALSE(snap.live.next_fire);
  auto stored = stored_statuses(*journal, every1);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().state == registration_state::disabled);
  CHECK(stored.back().triggers_left == 0);
  CHECK(stored.back().fires == 3);
}

TEST_CASE_METHOD(actor_fixture, "a one-shot alarm fires once and is then disabled", "[trigger]") {
  // The source quits when its schedule ends; the trigger stays (see the test below).
  client->answer_all(200);
  auto t = start(*this, every1, R"({"date": "2026-01-01T00:00:05Z"})");
  CHECK(snapshot(t.trigger).live.next_fire == at(5s));
  advance(30s, 1s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(5s)});
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("date"));
  CHECK(snap.status.fires == 1);
  // Without deleteAfterFire the registration stays.
  CHECK(t.registry_log->find(remove_atom::value).empty());
}

TEST_CASE_METHOD(actor_fixture, "a one-shot alarm with deleteAfterFire asks the registry to remove it once its fire "
                                "succeeded", "[trigger]") {
  // The source quits when its schedule ends, before the fire is answered; the trigger waits for the answer.
  auto t = start(*this, every1, R"({"date": "2026-01-01T00:00:05Z", "deleteAfterFire": true})");
  advance(6s);
  REQUIRE(client->calls().size() == 1);
  CHECK(t.registry_log->find(remove_atom::value).empty()); // not before the controller accepted it
  client->answer(0, 204);
  run();
  auto removes = t.registry_log->find(remove_atom::value);
  REQUIRE(removes.size() == 1);
  CHECK(t.registry_log->messages[removes[0]].get_as<trigger_ref>(1) == every1);
}

TEST_CASE_METHOD(actor_fixture, "a failed fire is counted and the next occurrence still fires", "[trigger][firer]") {
  // With one attempt per fire a failure is final at once (retries are covered in the delivery tests).
  auto t = start(*this, every1, R"({"seconds": 1, "retryAttempts": 1})");
  advance(1s);
  REQUIRE(client->calls().size() == 1);
  client->answer(0, 500, R"({"error":"internal"})");
  advance(1s);
  REQUIRE(client->calls().size() == 2);
  client->fail(1, "timeout");
  advance(1s);
  REQUIRE(client->calls().size() == 3);
  client->answer(2, 202);
  run();
  CHECK(client->sent_times() == every(at(1s), 1s, 3));
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::active);
  CHECK(snap.status.failures == 2);
  CHECK(snap.status.fires == 1);
  CHECK(snap.status.last_fired == at(3s));
  CHECK(snap.status.dead_letters == 2);
  CHECK(t.registry_log->exits.empty());
  auto stored = stored_statuses(*journal, every1);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().failures == 2);
  CHECK(stored.back().fires == 1);
  auto letters = journal->dead_letters(every1);
  REQUIRE(letters.size() == 2);
  CHECK(letters[0].status_code == 500);
  CHECK(letters[0].error == R"(HTTP 500: {"error":"internal"})");
  CHECK(letters[1].status_code == 0);
  CHECK(letters[1].error == "timeout");
}

TEST_CASE_METHOD(actor_fixture, "a trigger updated in place keeps its counters and its position in the schedule",
                 "[trigger]") {
  client->answer_all(200);
  auto t = start(*this, every1, R"({"seconds": 2, "maxTriggers": 10})");
  advance(5s);
  REQUIRE(client->sent_times() == every(at(2s), 2s, 2));
  auto updated = call<trigger_snapshot>(
    t.trigger, update_atom::value,
    trigger_update{alarm_config(R"({"seconds": 3, "maxTriggers": 10})", now(), every1),
                   std::string{R"({"seconds":3,"maxTriggers":10})"}, std::nullopt});
  CHECK(updated.status.fires == 2);
  CHECK(updated.status.triggers_left == 8); // maxTriggers unchanged: the count left is kept
  advance(5s);
  // Counted from creation (+0 s) in steps of 3 s, after the last occurrence taken (+4 s): +6 s and +9 s.
  CHECK(client->sent_times() == std::vector<sys_ms>{at(2s), at(4s), at(6s), at(9s)});
  CHECK(snapshot(t.trigger).status.triggers_left == 6);
}

TEST_CASE_METHOD(actor_fixture, "a trigger actor outlives the end of its schedule", "[trigger]") {
  // The schedule's end disables the registration; the trigger stays, to answer READ and a later resume.
  client->answer_all(200);
  auto t = start(*this, every1, R"({"seconds": 1, "stopDate": "2026-01-01T00:00:02.500Z"})");
  advance(5s);
  CHECK(client->sent_times() == every(at(1s), 1s, 2));
  CHECK(t.registry_log->exits.empty());
  auto snap = ask<trigger_snapshot>(t.trigger, snapshot_atom::value);
  run();
  REQUIRE(snap->value);
  CHECK(snap->value->status.state == registration_state::disabled);
  CHECK_THAT(snap->value->status.reason.message, Catch::Contains("stopDate"));
  CHECK(snap->value->status.fires == 2);
}

TEST_CASE_METHOD(actor_fixture, "a minute alarm holds a firer only while its fire is under way, and a one-second alarm "
                                "keeps it between fires", "[trigger][firer]") {
  client->answer_all(200);
  const trigger_ref every60{"guest", "every60"};
  auto t = start(*this, every60, R"({"seconds": 60})");
  auto without_firer = sys.registry().running();
  advance(60s, 1s);
  REQUIRE(client->calls().size() == 1);
  CHECK(sys.registry().running() == without_firer);
  advance(60s, 1s);
  REQUIRE(client->calls().size() == 2);
  CHECK(sys.registry().running() == without_firer);
  CHECK(snapshot(t.trigger).status.fires == 2);
  start(*this, every1, R"({"seconds": 1})");
  auto second_trigger = sys.registry().running();
  advance(1s);
  REQUIRE(client->calls().size() == 3);
  CHECK(sys.registry().running() == second_trigger + 1);
  advance(3s);
  CHECK(client->calls().size() == 6);
  CHECK(sys.registry().running() == second_trigger + 1);
}

TEST_CASE_METHOD(actor_fixture, "a webhook registration releases its firer once it stayed idle for a while",
                 "[trigger][firer]") {
  client->answer_all(200);
  auto t = start_webhook_trigger(*this, every1);
  auto without_firer = sys.registry().running();
  REQUIRE(post_event(*this, t.trigger, R"({"n":1})").status == 202);
  REQUIRE(client->calls().size() == 1);
  CHECK(sys.registry().running() == without_firer + 1);
  advance(1s);
  // An event within the linger (2 s) reuses it; the check at 2 s finds that it fired since, and looks again 2 s later.
  REQUIRE(post_event(*this, t.trigger, R"({"n":2})").status == 202);
  REQUIRE(client->calls().size() == 2);
  advance(2500ms);
  CHECK(sys.registry().running() == without_firer + 1);
  advance(1s);
  CHECK(sys.registry().running() == without_firer);
  // The next event spawns a firer again.
  REQUIRE(post_event(*this, t.trigger, R"({"n":3})").status == 202);
  CHECK(client->calls().size() == 3);
  CHECK(snapshot(t.trigger).status.fires == 3);
}
