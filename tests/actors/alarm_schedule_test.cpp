// The alarm schedule as its trigger runs it: when occurrences fire, which are skipped, and when the schedule ends.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref alarm_trigger{"guest", "tick"};

/// Starts the trigger of an alarm created (and validated) at `created` that last fired at `last` (none: never), as
/// the registry does for a stored registration.
trigger_harness start_alarm(actor_fixture& f, std::string_view params_json, sys_ms created,
                            std::optional<sys_ms> last = std::nullopt) {
  auto record = make_record(alarm_trigger, params_json, created);
  record.status.last_occurrence = last;
  return start_trigger(f, std::move(record), alarm_config(params_json, created, alarm_trigger));
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "an alarm shows its next occurrence at once and fires each one when it falls due",
                 "[alarm_schedule]") {
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"seconds": 2})", now());
  CHECK(snapshot(t.trigger).live.next_fire == at(2s));
  advance(1900ms, 10ms);
  CHECK(client->calls().empty());
  advance(100ms, 10ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(2s)});
  auto snap = snapshot(t.trigger);
  CHECK(snap.live.next_fire == at(4s));
  CHECK(snap.status.last_occurrence == at(2s));
  advance(2s, 10ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(2s), at(4s)});
  CHECK(snapshot(t.trigger).live.next_fire == at(6s));
  CHECK(snapshot(t.trigger).status.state == registration_state::active);
}

TEST_CASE_METHOD(actor_fixture, "an alarm skips the occurrences that passed before its trigger started",
                 "[alarm_schedule]") {
  // Created 35 s ago with a 10 s interval: occurrences at -25 s, -15 s, -5 s and +5 s; the last taken was -15 s.
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"seconds": 10})", at(-35s), at(-15s));
  CHECK(snapshot(t.trigger).live.next_fire == at(5s));
  advance(6s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(5s)});
}

TEST_CASE_METHOD(actor_fixture, "an alarm restarted in the instant of its last occurrence does not repeat it",
                 "[alarm_schedule]") {
  client->answer_all(200);
  advance(5s);
  auto t = start_alarm(*this, R"({"seconds": 5})", at(0s), at(5s));
  CHECK(snapshot(t.trigger).live.next_fire == at(10s));
  advance(1s);
  CHECK(client->calls().empty());
}

TEST_CASE_METHOD(actor_fixture, "a one-shot alarm fires once, then its schedule ends", "[alarm_schedule]") {
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"date": "2026-01-01T00:00:03Z"})", now());
  CHECK(snapshot(t.trigger).live.next_fire == at(3s));
  advance(10s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(3s)});
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK_FALSE(snap.live.next_fire);
  CHECK(t.registry_log->exits.empty());
}

TEST_CASE_METHOD(actor_fixture, "an alarm whose one-shot date has passed ends at once and never fires",
                 "[alarm_schedule]") {
  // As after a restart of the service: the stored date lies in the past.
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"date": "2025-12-31T23:59:00Z"})", at(-1h));
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK_FALSE(snap.live.next_fire);
  advance(2min, 1s);
  CHECK(client->calls().empty());
}

TEST_CASE_METHOD(actor_fixture, "an alarm stops at stopDate", "[alarm_schedule]") {
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"seconds": 1, "stopDate": "2026-01-01T00:00:02.500Z"})", now());
  advance(5s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(1s), at(2s)});
  CHECK(snapshot(t.trigger).status.state == registration_state::disabled);
}

TEST_CASE_METHOD(actor_fixture, "a late alarm tick fires the occurrence it woke up for and the latest one, no burst",
                 "[alarm_schedule]") {
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"seconds": 1})", now());
  // The machine stalls for 5 s: the tick due at +1 s arrives at +5 s. It fires +1 s and +5 s, not +2 s to +4 s.
  advance(5s, 5s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(5s), at(5s)});
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.last_occurrence == at(5s));
  CHECK(snap.live.next_fire == at(6s));
  advance(1s, 100ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(5s), at(5s), at(6s)});
}

TEST_CASE_METHOD(actor_fixture, "an alarm waits when the wall clock lags behind its timer", "[alarm_schedule]") {
  auto lag = std::make_shared<std::chrono::milliseconds>(0);
  env->now = [this, lag] { return now() - *lag; };
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"seconds": 1})", now());
  *lag = 300ms;
  advance(1200ms, 100ms);
  CHECK(client->calls().empty());
  advance(100ms, 100ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(1300ms)});
  CHECK(snapshot(t.trigger).status.last_occurrence == at(1s));
}

TEST_CASE_METHOD(actor_fixture, "pausing voids the armed occurrence, and resuming shows the next one in its answer",
                 "[alarm_schedule]") {
  client->answer_all(200);
  auto t = start_alarm(*this, R"({"seconds": 1})", now());
  advance(1500ms);
  REQUIRE(client->sent_times() == std::vector<sys_ms>{at(1s)});
  CHECK_FALSE(call<trigger_snapshot>(t.trigger, pause_atom::value).live.next_fire);
  advance(3s);
  CHECK(client->calls().size() == 1);
  auto resumed = call<trigger_snapshot>(t.trigger, resume_atom::value);
  CHECK(resumed.live.next_fire == at(5s));
  advance(1s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(1s), at(5s)});
}
