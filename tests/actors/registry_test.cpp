#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "core/crypto.hpp"
#include "isolation.hpp"
#include "printers.hpp"
#include "registry_harness.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};
const trigger_ref t2{"guest", "t2"};

api_reply create(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger,
                 std::string_view params_json, const std::string& key = owner_key) {
  return f.api(registry, command(api_op::create, trigger, key, params_json));
}

api_reply simple(actor_fixture& f, const registry_actor& registry, api_op op, const trigger_ref& trigger,
                 const std::string& key = owner_key) {
  return f.api(registry, command(op, trigger, key, "{}", ""));
}

api_reply update(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger,
                 std::string_view params_json, const std::string& key = owner_key) {
  return f.api(registry, command(api_op::update, trigger, key, params_json, ""));
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "create answers 201 with the registration, stores it and starts firing",
                 "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  auto reply = create(*this, registry, t1, R"({"seconds": 1, "trigger_payload": {"a": 1}})");
  CHECK(reply.status == 201);
  CHECK(json_string_at(reply.body, "config.feed") == "alarm");
  CHECK(json_string_at(reply.body, "config.triggerName") == "/guest/t1");
  CHECK(json_int_at(reply.body, "config.seconds") == 1);
  CHECK(json_string_at(reply.body, "status.state") == "active");
  CHECK(json_string_at(reply.body, "status.created") == "2026-01-01T00:00:00.000Z");
  CHECK_THAT(reply.body, !Catch::Contains("pass")); // the authKey is never shown
  // One transaction: whatever the trigger held before is erased, then the registration put.
  auto ops = journal->ops_for(t1);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].op == store_op::kind::erase);
  const auto& put = ops[1];
  CHECK(put.op == store_op::kind::put_registration);
  CHECK(put.record.feed == "alarm");
  CHECK(put.record.auth_key == owner_key);
  CHECK(put.record.auth_hash == sha256_hex(owner_key));
  CHECK(json_int_at(put.record.params_json, "seconds") == 1);
  CHECK(put.record.created == at(0s));
  advance(2500ms);
  CHECK(client->sent_times() == every(at(1s), 1s, 2));
  REQUIRE_FALSE(client->calls().empty());
  CHECK(client->calls()[0].request.message.field("Authorization") == owner_authorization);
  CHECK(client->calls()[0].request.message.body == R"({"a":1})");
  auto read = simple(*this, registry, api_op::read, t1);
  CHECK(read.status == 200);
  CHECK(json_int_at(read.body, "status.fires") == 2);
  CHECK(json_string_at(read.body, "status.nextFire") == "2026-01-01T00:00:03.000Z");
  CHECK(registrations_in(*stats, registration_state::active) == 1);
}

TEST_CASE_METHOD(actor_fixture, "create of an existing registration answers 200 and leaves no orphan trigger",
                 "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
  advance(1500ms);
  REQUIRE(client->calls().size() == 1);
  auto reply = create(*this, registry, t1, R"({"seconds": 5})");
  CHECK(reply.status == 200);
  CHECK(json_int_at(reply.body, "config.seconds") == 5);
  advance(10500ms);
  // Only the new schedule fires, counted from the second CREATE at +1.5 s.
  CHECK(client->sent_times() == std::vector<sys_ms>{at(1s), at(6500ms), at(11500ms)});
  CHECK(registrations_in(*stats, registration_state::active) == 1);
  // Each CREATE's write erases what the trigger held before (events, dead letters); nothing else was erased.
  CHECK(journal->count(store_op::kind::put_registration) == 2);
  CHECK(journal->count(store_op::kind::erase) == 2);
}

TEST_CASE_METHOD(actor_fixture, "another authKey is told no registration exists and changes nothing", "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
  for (auto op : {api_op::read, api_op::pause, api_op::resume, api_op::remove}) {
    auto reply = simple(*this, registry, op, t1, other_key);
    CHECK(reply.status == 404);
    CHECK(json_string_at(reply.body, "error"));
  }
  CHECK(update(*this, registry, t1, R"({"seconds": 7})", other_key).status == 404);
  auto listed = api(registry, command(api_op::list, {"guest", ""}, other_key, "{}", ""));
  CHECK(listed.status == 200);
  CHECK(occurrences_of(listed.body, "triggerName") == 0);
  advance(3500ms);
  CHECK(client->sent_times() == every(at(1s), 1s, 3));
  // The CREATE's own write (an erase before its put) and nothing else.
  CHECK(journal->count(store_op::kind::put_registration) == 1);
  CHECK(journal->count(store_op::kind::erase) == 1);
  for (const auto& status : stored_statuses(*journal, t1))
    CHECK(status.state == registration_state::active);
  auto read = simple(*this, registry, api_op::read, t1);
  CHECK(read.status == 200);
  CHECK(json_int_at(read.body, "config.seconds") == 1);
}

TEST_CASE_METHOD(actor_fixture, "update changes the schedule in place and keeps the counters", "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 2, "maxTriggers": 10, "trigger_payload": {"v": 1}})").status
          == 201);
  advance(5s);
  REQUIRE(client->sent_times() == every(at(2s), 2s, 2));
  auto reply = update(*this, registry, t1, R"({"seconds": 3, "trigger_payload": {"v": 2}})");
  CHECK(reply.status == 200);
  CHECK(json_int_at(reply.body, "config.seconds") == 3);
  CHECK(json_int_at(reply.body, "config.maxTriggers") == 10); // merged with what was stored
  CHECK(json_int_at(reply.body, "status.fires") == 2);
  CHECK(json_int_at(reply.body, "status.triggersLeft") == 8);
  REQUIRE(journal->count(store_op::kind::put_registration) == 2);
  for (const auto& op : journal->ops_for(t1))
    if (op.op == store_op::kind::put_registration)
      CHECK(json_int_at(op.record.params_json, "seconds") == (op.record.status.fires == 0 ? 2 : 3));
  advance(5s);
  // Counted from creation in steps of 3 s after the last occurrence taken (+4 s): +6 s and +9 s.
  CHECK(client->sent_times() == std::vector<sys_ms>{at(2s), at(4s), at(6s), at(9s)});
  REQUIRE(client->calls().size() == 4);
  CHECK(client->calls()[3].request.message.body == R"({"v":2})");
  auto read = simple(*this, registry, api_op::read, t1);
  CHECK(json_int_at(read.body, "status.fires") == 4);
  CHECK(json_int_at(read.body, "status.triggersLeft") == 6);
}

TEST_CASE_METHOD(actor_fixture, "pause and resume through the registry change the state and persist it",
                 "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
  advance(1500ms);
  auto paused = simple(*this, registry, api_op::pause, t1);
  CHECK(paused.status == 200);
  CHECK(json_string_at(paused.body, "status.state") == "paused");
  CHECK(json_string_at(paused.body, "status.reason.kind") == "USER");
  CHECK_FALSE(json_at(paused.body, "status.nextFire"));
  CHECK(stored_statuses(*journal, t1).back().state == registration_state::paused);
  CHECK(registrations_in(*stats, registration_state::paused) == 1);
  advance(3s);
  CHECK(client->calls().size() == 1);
  auto resumed = simple(*this, registry, api_op::resume, t1);
  CHECK(resumed.status == 200);
  CHECK(json_string_at(resumed.body, "status.state") == "active");
  CHECK_FALSE(json_at(resumed.body, "status.reason"));
  CHECK(stored_statuses(*journal, t1).back().state == registration_state::active);
  advance(1s);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(1s), at(5s)});
}

TEST_CASE_METHOD(actor_fixture, "delete answers 204, erases the registration and stops its actors", "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
  advance(1500ms);
  auto reply = simple(*this, registry, api_op::remove, t1);
  CHECK(reply.status == 204);
  CHECK(reply.body.empty());
  auto ops = journal->ops_for(t1);
  REQUIRE_FALSE(ops.empty());
  CHECK(ops.back().op == store_op::kind::erase);
  advance(5s);
  CHECK(client->calls().size() == 1);
  CHECK(simple(*this, registry, api_op::read, t1).status == 404);
  CHECK(registrations_in(*stats, registration_state::active) == 0);
  CHECK(call<std::size_t>(registry, ready_atom::value) == 0);
}

TEST_CASE_METHOD(actor_fixture, "list shows only the caller's registrations in the namespace", "[registry]") {
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, {"guest", "a"}, R"({"seconds": 60})").status == 201);
  REQUIRE(create(*this, registry, {"guest", "b"}, R"({"minutes": 5})").status == 201);
  REQUIRE(create(*this, registry, {"guest", "c"}, R"({"seconds": 60})", other_key).status == 201);
  REQUIRE(create(*this, registry, {"other", "d"}, R"({"seconds": 60})").status == 201);
  REQUIRE(simple(*this, registry, api_op::pause, {"guest", "b"}).status == 200);
  auto reply = api(registry, command(api_op::list, {"guest", ""}, owner_key, "{}", ""));
  CHECK(reply.status == 200);
  auto triggers = json_at(reply.body, "triggers");
  REQUIRE(triggers);
  CHECK(occurrences_of(*triggers, "\"triggerName\"") == 2);
  CHECK_THAT(*triggers, Catch::Contains("\"/guest/a\""));
  CHECK_THAT(*triggers, Catch::Contains("\"/guest/b\""));
  CHECK_THAT(*triggers, !Catch::Contains("/guest/c"));
  CHECK_THAT(*triggers, !Catch::Contains("/other/d"));
  // Each shows its live status.
  CHECK(occurrences_of(*triggers, "\"paused\"") == 1);
  auto empty = api(registry, command(api_op::list, {"nobody", ""}, owner_key, "{}", ""));
  CHECK(empty.status == 200);
  CHECK(json_at(empty.body, "triggers") == "[]");
}

TEST_CASE_METHOD(actor_fixture, "the namespace _ resolves to the namespace of the caller's own registration of that "
                                "name", "[registry]") {
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, {"guest", "same"}, R"({"seconds": 60})").status == 201);
  REQUIRE(create(*this, registry, {"other", "same"}, R"({"seconds": 60})", other_key).status == 201);
  auto mine = simple(*this, registry, api_op::read, {"_", "same"});
  CHECK(mine.status == 200);
  CHECK(json_string_at(mine.body, "config.triggerName") == "/guest/same");
  auto theirs = simple(*this, registry, api_op::read, {"_", "same"}, other_key);
  CHECK(json_string_at(theirs.body, "config.triggerName") == "/other/same");
  CHECK(simple(*this, registry, api_op::read, {"_", "nothing"}).status == 404);
}

TEST_CASE_METHOD(actor_fixture, "a registry hashes every key through its configured hash_key", "[registry]") {
  registry_config cfg;
  cfg.env = env;
  cfg.hash_key = [](std::string_view key) { return "keyed:" + std::string{key}; };
  auto registry = feedrouter::spawn_registry(sys, cfg, {});
  stop_at_teardown(caf::actor_cast<caf::actor>(registry));
  run();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 60})").status == 201);
  std::string stored_hash;
  for (const auto& op : journal->ops_for(t1))
    if (op.op == store_op::kind::put_registration)
      stored_hash = op.record.auth_hash;
  CHECK(stored_hash == "keyed:" + owner_key);
  CHECK(simple(*this, registry, api_op::read, t1).status == 200);
  CHECK(simple(*this, registry, api_op::read, {"_", "t1"}).status == 200);
  auto listed = api(registry, command(api_op::list, {"guest", ""}, owner_key, "{}", ""));
  CHECK(occurrences_of(listed.body, "\"/guest/t1\"") == 1);
  CHECK(simple(*this, registry, api_op::read, t1, other_key).status == 404);
}

TEST_CASE_METHOD(actor_fixture, "a registry started with stored registrations runs each in its stored state",
                 "[registry]") {
  client->answer_all(200);
  auto active = make_record({"guest", "active"}, R"({"seconds": 1})", at(-500ms));
  auto paused = make_record({"guest", "paused"}, R"({"seconds": 1})", at(-500ms));
  paused.status.state = registration_state::paused;
  paused.status.reason = {reason_kind::user, 0, "paused by the owner"};
  auto invalid = make_record({"guest", "invalid"}, R"({"seconds": 1})", at(-500ms));
  invalid.params_json = R"({"seconds":0})";
  auto registry = spawn_registry({active, paused, invalid});
  CHECK(call<std::size_t>(registry, ready_atom::value) == 3);
  advance(3s);
  // Only the active one fires, in the phase of its creation time.
  CHECK(client->sent_times() == every(at(500ms), 1s, 3));
  for (const auto& call : client->calls())
    CHECK(call.request.destination.target == "/api/v1/namespaces/guest/triggers/active");
  CHECK(json_string_at(simple(*this, registry, api_op::read, active.trigger).body, "status.state") == "active");
  auto paused_view = simple(*this, registry, api_op::read, paused.trigger).body;
  CHECK(json_string_at(paused_view, "status.state") == "paused");
  CHECK(json_string_at(paused_view, "status.reason.kind") == "USER");
  auto invalid_view = simple(*this, registry, api_op::read, invalid.trigger).body;
  CHECK(json_string_at(invalid_view, "status.state") == "disabled");
  CHECK(json_string_at(invalid_view, "status.reason.kind") == "AUTO");
  CHECK_THAT(json_string_at(invalid_view, "status.reason.message").value_or(""), Catch::Contains("seconds"));
  // Resuming cannot help while the parameters are invalid; UPDATE fixes them, then resume runs it.
  auto refused = simple(*this, registry, api_op::resume, invalid.trigger);
  CHECK(refused.status == 409);
  CHECK(json_string_at(refused.body, "field") == "state");
  CHECK(json_string_at(simple(*this, registry, api_op::read, invalid.trigger).body, "status.state") == "disabled");
  CHECK(update(*this, registry, invalid.trigger, R"({"seconds": 2})").status == 200);
  auto resumed = simple(*this, registry, api_op::resume, invalid.trigger);
  CHECK(json_string_at(resumed.body, "status.state") == "active");
  client->answer_none();
  auto before = client->calls().size();
  advance(2s);
  std::size_t invalid_fires = 0;
  for (std::size_t i = before; i < client->calls().size(); ++i)
    if (client->calls()[i].request.destination.target == "/api/v1/namespaces/guest/triggers/invalid")
      ++invalid_fires;
  CHECK(invalid_fires == 1);
}

TEST_CASE("a one-shot alarm with deleteAfterFire is removed from the registry and the store after its fire "
          "succeeded", "[registry]") {
  // A one-shot source quits when its schedule ends; the trigger must outlive it. Runs in a child process so that
  // a regression (a crash) fails only this test.
  auto outcome = run_isolated([] {
    actor_fixture f;
    auto registry = f.spawn_registry();
    if (create(f, registry, t1, R"({"date": "2026-01-01T00:00:05Z", "deleteAfterFire": true})").status != 201)
      return std::string{"CREATE failed"};
    f.advance(6s);
    if (f.client->calls().size() != 1)
      return "expected one fire, got " + std::to_string(f.client->calls().size());
    // The CREATE's write holds one erase (of what the trigger held before); the removal adds the second.
    if (f.journal->count(store_op::kind::erase) != 1)
      return std::string{"erased before the fire was answered"};
    f.client->answer(0, 200);
    f.run();
    if (f.journal->count(store_op::kind::erase) != 2)
      return std::string{"the store got no erase"};
    if (auto status = simple(f, registry, api_op::read, t1).status; status != 404)
      return "READ after the removal answered " + std::to_string(status);
    return std::string{};
  });
  INFO(outcome.description);
  CHECK(outcome.passed);
}

TEST_CASE("a one-shot alarm shows as disabled by its schedule after it fired", "[registry]") {
  // Guards the same path as the test above.
  auto outcome = run_isolated([] {
    actor_fixture f;
    f.client->answer_all(200);
    auto registry = f.spawn_registry();
    if (create(f, registry, t1, R"({"date": "2026-01-01T00:00:05Z"})").status != 201)
      return std::string{"CREATE failed"};
    f.advance(6s);
    auto view = simple(f, registry, api_op::read, t1).body;
    if (json_string_at(view, "status.state") != "disabled")
      return "state is not disabled: " + view;
    if (json_string_at(view, "status.reason.message").value_or("").find("date") == std::string::npos)
      return "the reason does not name the date: " + view;
    if (json_int_at(view, "status.fires") != 1)
      return "fires is not 1: " + view;
    return std::string{};
  });
  INFO(outcome.description);
  CHECK(outcome.passed);
}

TEST_CASE_METHOD(actor_fixture, "the end of the registry stops every trigger it monitors", "[registry]") {
  // Triggers are monitored, not linked: the registry's end must still take them along.
  auto triggers = std::make_shared<std::vector<caf::actor>>();
  env->spawn_source = [triggers, spawn = env->spawn_source](caf::local_actor* trigger, const source_args& args) {
    triggers->push_back(caf::actor_cast<caf::actor>(trigger));
    return spawn(trigger, args);
  };
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 60})").status == 201);
  REQUIRE(create(*this, registry, t2, R"({"seconds": 60})").status == 201);
  REQUIRE(triggers->size() == 2);
  auto ended = std::make_shared<std::vector<caf::actor_addr>>();
  auto watcher = sys.spawn([triggers, ended](caf::event_based_actor* self) -> caf::behavior {
    for (const auto& trigger : *triggers)
      self->monitor(trigger);
    self->set_down_handler([ended](caf::down_msg& msg) { ended->push_back(msg.source); });
    return {[](int) {}};
  });
  run();
  caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
  run();
  CHECK(ended->size() == 2);
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  run();
}

TEST_CASE_METHOD(actor_fixture, "stored registrations start in batches, and readiness waits for the last batch",
                 "[registry]") {
  // Counts the triggers that have run their start (each asks for its source, which alarms do not need).
  auto started = std::make_shared<std::size_t>(0);
  env->spawn_source = [started, spawn = env->spawn_source](caf::local_actor* trigger, const source_args& args) {
    ++*started;
    return spawn(trigger, args);
  };
  std::vector<registration_record> records;
  for (int i = 0; i < 1200; ++i)
    records.push_back(make_record(trigger_ref{"guest", "t" + std::to_string(i)}, R"({"seconds": 60})", now()));
  registry_config reg_cfg;
  reg_cfg.env = env;
  auto registry = feedrouter::spawn_registry(sys, std::move(reg_cfg), std::move(records));
  stop_at_teardown(caf::actor_cast<caf::actor>(registry));
  auto ready = ask<std::size_t>(registry, ready_atom::value);
  // Each batch after the first is a message of the registry to itself through the clock: the triggers of a batch
  // run before the next batch is started, and readiness is answered after the last.
  sched.run();
  CHECK(*started == 500);
  CHECK_FALSE(ready->arrived());
  sched.advance_time(caf::timespan{0});
  sched.run();
  CHECK(*started == 1000);
  CHECK_FALSE(ready->arrived());
  sched.advance_time(caf::timespan{0});
  sched.run();
  CHECK(*started == 1200);
  REQUIRE(ready->value);
  CHECK(*ready->value == 1200);
  CHECK(call<std::size_t>(registry, ready_atom::value) == 1200);
}
