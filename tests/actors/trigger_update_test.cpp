// UPDATE of a registration that is not active: one the provider disabled (AUTO) runs again when its new parameters
// can, as OpenWhisk's UPDATE re-enables a trigger, with a fresh maxTriggers count; one its owner paused stays paused.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref ticker{"guest", "ticker"};

trigger_snapshot update(actor_fixture& f, const caf::actor& trigger, std::string_view params_json) {
  return f.call<trigger_snapshot>(
    trigger, update_atom::value,
    trigger_update{alarm_config(params_json, f.now(), ticker), std::string{params_json}, std::nullopt});
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "UPDATE re-enables an alarm whose maxTriggers were used up, with a fresh count",
                 "[trigger_update]") {
  client->answer_all(200);
  auto params = R"({"seconds": 1, "maxTriggers": 2})";
  auto t = start_trigger(*this, make_record(ticker, params, now()), alarm_config(params, now(), ticker));
  advance(3s);
  REQUIRE(snapshot(t.trigger).status.state == registration_state::disabled);
  CHECK(client->calls().size() == 2);
  auto snap = update(*this, t.trigger, R"({"seconds": 1, "maxTriggers": 2, "trigger_payload": {"a": 1}})");
  CHECK(snap.status.state == registration_state::active);
  CHECK(snap.status.reason.kind == reason_kind::none);
  CHECK(snap.status.triggers_left == 2);
  advance(3s);
  CHECK(client->calls().size() == 4);
  CHECK(snapshot(t.trigger).status.state == registration_state::disabled);
}

TEST_CASE_METHOD(actor_fixture, "UPDATE re-enables an alarm a refused fire disabled", "[trigger_update]") {
  client->answer_all(404);
  auto params = R"({"seconds": 1})";
  auto t = start_trigger(*this, make_record(ticker, params, now()), alarm_config(params, now(), ticker));
  advance(1500ms);
  auto disabled = snapshot(t.trigger);
  REQUIRE(disabled.status.state == registration_state::disabled);
  CHECK(disabled.status.reason.status_code == 404);
  client->answer_all(202);
  CHECK(update(*this, t.trigger, R"({"seconds": 2})").status.state == registration_state::active);
  advance(2s);
  CHECK(snapshot(t.trigger).status.fires == 1);
}

TEST_CASE_METHOD(actor_fixture, "UPDATE leaves disabled an alarm whose new parameters cannot fire",
                 "[trigger_update]") {
  client->answer_all(200);
  auto params = R"({"fireOnce": true, "date": "2026-01-01T00:00:02Z"})";
  auto t = start_trigger(*this, make_record(ticker, params, now()), alarm_config(params, now(), ticker));
  advance(3s);
  REQUIRE(snapshot(t.trigger).status.state == registration_state::disabled);
  // Only the payload changes: the date stays in the past, so the schedule has nothing left.
  auto snap = call<trigger_snapshot>(
    t.trigger, update_atom::value,
    trigger_update{alarm_config(params, at(0s), ticker), R"({"fireOnce":true,"date":"2026-01-01T00:00:02Z"})",
                   std::nullopt});
  CHECK(snap.status.state == registration_state::disabled);
  advance(5s);
  CHECK(client->calls().size() == 1);
}

TEST_CASE_METHOD(actor_fixture, "UPDATE keeps a registration its owner paused paused", "[trigger_update]") {
  client->answer_all(200);
  auto params = R"({"seconds": 1})";
  auto t = start_trigger(*this, make_record(ticker, params, now()), alarm_config(params, now(), ticker));
  call<trigger_snapshot>(t.trigger, pause_atom::value);
  auto snap = update(*this, t.trigger, R"({"seconds": 2})");
  CHECK(snap.status.state == registration_state::paused);
  CHECK(snap.status.reason.kind == reason_kind::user);
  advance(5s);
  CHECK(client->calls().empty());
}
