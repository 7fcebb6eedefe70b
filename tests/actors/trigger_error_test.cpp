#include <catch2/catch.hpp>

#include <stdexcept>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref crashy{"guest", "crashy"};

using spawn_times = std::shared_ptr<std::vector<sys_ms>>;

/// Returns a spawner whose sources throw as soon as they start, recording when each was spawned.
source_spawner crashing_at_start(actor_fixture& f, spawn_times spawns) {
  return [&f, spawns](caf::local_actor* trigger, const source_args&) -> source_actor {
    spawns->push_back(f.now());
    auto source = trigger->spawn<caf::linked>([](caf::event_based_actor* self) -> caf::behavior {
      // What every real source does, so that its supervisor can show the exception's text.
      report_exceptions_as_errors(self);
      throw std::runtime_error("source exploded at start");
    });
    return caf::actor_cast<source_actor>(source);
  };
}

/// Returns a spawner whose sources run for `lifetime` and then throw on a message to themselves.
source_spawner crashing_after(actor_fixture& f, spawn_times spawns, caf::timespan lifetime) {
  return [&f, spawns, lifetime](caf::local_actor* trigger, const source_args&) -> source_actor {
    spawns->push_back(f.now());
    auto source = trigger->spawn<caf::linked>([lifetime](caf::event_based_actor* self) -> caf::behavior {
      report_exceptions_as_errors(self);
      self->delayed_send(self, lifetime, tick_atom::value, std::int64_t{0});
      return {
        [](tick_atom, std::int64_t) { throw std::runtime_error("source exploded on a tick"); },
        [](credit_atom, std::int64_t) {
          // nop: every source takes credit, whether it needs it or not
        },
      };
    });
    return caf::actor_cast<source_actor>(source);
  };
}

trigger_harness start(actor_fixture& f, std::string_view params_json) {
  auto record = make_record(crashy, params_json, f.now());
  return start_trigger(f, std::move(record), alarm_config(params_json, f.now(), crashy));
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a crashing source is restarted with doubling delays and then its registration is "
                                "disabled", "[trigger]") {
  auto spawns = std::make_shared<std::vector<sys_ms>>();
  env->spawn_source = crashing_at_start(*this, spawns);
  auto t = start(*this, R"({"seconds": 1})");
  advance(2s, 10ms);
  // max_restarts 3, first_delay 100 ms: restarts after 100, 200 and 400 ms; the fourth crash gives up.
  CHECK(*spawns == std::vector<sys_ms>{at(0s), at(100ms), at(300ms), at(700ms)});
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("source exploded at start"));
  CHECK_THAT(snap.status.reason.message, Catch::Contains("more than 3 times"));
  CHECK(snap.status.date_changed == at(700ms));
  auto stored = stored_statuses(*journal, crashy);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().state == registration_state::disabled);
  CHECK(stored.back().reason.kind == reason_kind::automatic);
  // The trigger itself survived, and nothing restarts any more.
  CHECK(t.registry_log->exits.empty());
  advance(10s, 1s);
  CHECK(spawns->size() == 4);
  CHECK(client->calls().empty());
}

TEST_CASE_METHOD(actor_fixture, "a source that crashes while running is restarted after the back-off delay",
                 "[trigger]") {
  auto spawns = std::make_shared<std::vector<sys_ms>>();
  env->spawn_source = crashing_after(*this, spawns, 1s);
  auto t = start(*this, R"({"seconds": 1})");
  advance(4600ms, 10ms);
  CHECK(*spawns == std::vector<sys_ms>{at(0s), at(1100ms), at(2300ms), at(3700ms)});
  CHECK(snapshot(t.trigger).status.state == registration_state::active);
  advance(100ms, 10ms);
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("source exploded on a tick"));
}

TEST_CASE_METHOD(actor_fixture, "crashes further apart than the restart window never disable a registration",
                 "[trigger]") {
  auto spawns = std::make_shared<std::vector<sys_ms>>();
  env->spawn_source = crashing_after(*this, spawns, 30s);
  auto t = start(*this, R"({"seconds": 1})");
  advance(5min, 100ms);
  CHECK(spawns->size() >= 9);
  CHECK(snapshot(t.trigger).status.state == registration_state::active);
}

TEST_CASE_METHOD(actor_fixture, "a source that crashed once is restarted and the schedule goes on", "[trigger]") {
  auto spawns = std::make_shared<std::vector<sys_ms>>();
  auto crash = crashing_at_start(*this, spawns);
  auto healthy = default_source_spawner(env->client);
  env->spawn_source = [spawns, crash, healthy](caf::local_actor* trigger, const source_args& args) {
    return spawns->empty() ? crash(trigger, args) : healthy(trigger, args);
  };
  client->answer_all(200);
  auto t = start(*this, R"({"seconds": 1})");
  advance(3500ms);
  CHECK(spawns->size() == 1);
  CHECK(client->sent_times() == every(at(1s), 1s, 3));
  CHECK(snapshot(t.trigger).status.state == registration_state::active);
}

TEST_CASE_METHOD(actor_fixture, "resume re-enables a registration disabled by crashes, with a fresh restart budget",
                 "[trigger]") {
  auto spawns = std::make_shared<std::vector<sys_ms>>();
  auto crash = crashing_at_start(*this, spawns);
  auto healthy = default_source_spawner(env->client);
  auto fixed = std::make_shared<bool>(false);
  env->spawn_source = [fixed, crash, healthy](caf::local_actor* trigger, const source_args& args) {
    return *fixed ? healthy(trigger, args) : crash(trigger, args);
  };
  client->answer_all(200);
  auto t = start(*this, R"({"seconds": 1})");
  advance(2s, 10ms);
  REQUIRE(snapshot(t.trigger).status.state == registration_state::disabled);
  *fixed = true;
  auto resumed = call<trigger_snapshot>(t.trigger, resume_atom::value);
  CHECK(resumed.status.state == registration_state::active);
  CHECK(resumed.status.reason.kind == reason_kind::none);
  advance(1500ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(3s)});
}

TEST_CASE_METHOD(actor_fixture, "a registration resumed after its maxTriggers are used up does not pose as active "
                                "without ever firing", "[trigger]") {
  // A registration whose maxTriggers are used up must not look active after a resume while it never fires.
  client->answer_all(200);
  auto t = start(*this, R"({"seconds": 1, "maxTriggers": 1})");
  advance(1500ms);
  REQUIRE(snapshot(t.trigger).status.state == registration_state::disabled);
  call<trigger_snapshot>(t.trigger, resume_atom::value);
  advance(3s);
  auto snap = snapshot(t.trigger);
  CHECK(client->calls().size() == 1);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("maxTriggers"));
}
