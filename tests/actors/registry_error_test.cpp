#include <catch2/catch.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "isolation.hpp"
#include "printers.hpp"
#include "registry_harness.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};

api_reply create(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger,
                 std::string_view params_json, const std::string& key = owner_key) {
  return f.api(registry, command(api_op::create, trigger, key, params_json));
}

api_reply read(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger) {
  return f.api(registry, command(api_op::read, trigger, owner_key, "{}", ""));
}

/// The checks a stand-in controller was asked for.
using verify_log = std::shared_ptr<std::vector<std::pair<trigger_ref, std::string>>>;

/// Returns the typed behavior of a stand-in controller client whose authKey checks `verify` answers; it never deletes.
template <class Verify>
controller_actor::behavior_type controller_behavior(Verify verify) {
  auto refused = [] { return http_outcome{500, "not part of this test"}; };
  return {
    std::move(verify),
    [refused](namespaces_atom, const std::string&) { return caf::make_result(refused(), std::string{}); },
    [refused](rules_atom, const trigger_ref&, const std::string&) {
      return caf::make_result(refused(), std::vector<std::string>{});
    },
    [refused](delete_trigger_atom, const trigger_ref&, const std::string&) { return refused(); },
    [refused](delete_rule_atom, const std::string&, const std::string&) { return refused(); },
    [refused](deactivate_rule_atom, const std::string&, const std::string&) { return refused(); },
  };
}

/// Spawns a stand-in for the controller client that answers every authKey check with `status_code`.
controller_actor spawn_controller(actor_fixture& f, int status_code, verify_log asked) {
  auto controller = f.sys.spawn([status_code, asked]() {
    return controller_behavior([status_code, asked](verify_atom, const trigger_ref& trigger,
                                                    const std::string& auth_key) {
      asked->emplace_back(trigger, auth_key);
      return http_outcome{status_code, status_code == 200 ? "" : "controller says no"};
    });
  });
  f.stop_at_teardown(caf::actor_cast<caf::actor>(controller));
  return controller;
}

/// Spawns a stand-in for a controller client that never answers.
controller_actor spawn_silent_controller(actor_fixture& f) {
  auto controller = f.sys.spawn([](controller_actor::pointer self) {
    return controller_behavior([self](verify_atom, const trigger_ref&, const std::string&) {
      return self->make_response_promise<http_outcome>();
    });
  });
  f.stop_at_teardown(caf::actor_cast<caf::actor>(controller));
  return controller;
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "create with invalid parameters answers 400 naming the field and stores nothing",
                 "[registry]") {
  auto registry = spawn_registry();
  struct bad_case {
    std::string params;
    std::string field;
  };
  auto bad = GENERATE(values<bad_case>({
    {R"({"seconds": 0})", "seconds"},
    {R"({"cron": "every tuesday"})", "cron"},
    {R"({"seconds": 1, "cron": "* * * * *"})", "seconds"},
    {R"({"date": "2025-06-01T00:00:00Z"})", "date"},
    {R"({"seconds": 1, "maxTriggers": -2})", "maxTriggers"},
    {R"({"seconds": 1, "trigger_payload": 42})", "trigger_payload"},
    {R"({})", "cron"},
  }));
  CAPTURE(bad.params);
  auto reply = create(*this, registry, t1, bad.params);
  CHECK(reply.status == 400);
  CHECK(json_string_at(reply.body, "field") == bad.field);
  CHECK_THAT(json_string_at(reply.body, "error").value_or(""), Catch::StartsWith(bad.field + ":"));
  advance(5s);
  CHECK(journal->attempts == 0);
  CHECK(client->calls().empty());
  CHECK(read(*this, registry, t1).status == 404);
}

TEST_CASE_METHOD(actor_fixture, "create of an unknown feed kind answers 400 naming the feed", "[registry]") {
  auto registry = spawn_registry();
  auto reply = api(registry, command(api_op::create, t1, owner_key, R"({"seconds": 1})", "carrier-pigeon"));
  CHECK(reply.status == 400);
  CHECK(json_string_at(reply.body, "field") == "feed");
  CHECK(journal->attempts == 0);
}

TEST_CASE_METHOD(actor_fixture, "update with invalid parameters answers 400 and leaves schedule and store unchanged",
                 "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
  advance(1500ms);
  auto ops_before = journal->ops().size();
  auto puts_before = journal->count(store_op::kind::put_registration);
  struct bad_case {
    std::string params;
    std::string feed;
    std::string field;
  };
  auto bad = GENERATE(values<bad_case>({
    {R"({"seconds": -1})", "", "seconds"},
    {R"({"maxTriggers": "many"})", "", "maxTriggers"},
    {R"({"cron": "* * * * *"})", "", "seconds"}, // merged with the stored seconds: two schedules
    {R"({"stopDate": "2025-01-01T00:00:00Z"})", "", "stopDate"},
    {R"({"seconds": 2})", "changes", "feed"},
  }));
  CAPTURE(bad.params, bad.feed);
  auto reply = api(registry, command(api_op::update, t1, owner_key, bad.params, bad.feed));
  CHECK(reply.status == 400);
  CHECK(json_string_at(reply.body, "field") == bad.field);
  run();
  CHECK(journal->count(store_op::kind::put_registration) == puts_before);
  CHECK(journal->ops().size() == ops_before);
  advance(2s);
  CHECK(client->sent_times() == every(at(1s), 1s, 3));
  CHECK(json_int_at(read(*this, registry, t1).body, "config.seconds") == 1);
}

TEST_CASE_METHOD(actor_fixture, "without authKey verification a different key cannot take over a registration",
                 "[registry]") {
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 60})").status == 201);
  auto reply = create(*this, registry, t1, R"({"seconds": 1})", other_key);
  CHECK(reply.status == 409);
  CHECK(json_string_at(reply.body, "field") == "authKey");
  CHECK(journal->count(store_op::kind::put_registration) == 1);
  CHECK(json_int_at(read(*this, registry, t1).body, "config.seconds") == 60);
}

TEST_CASE_METHOD(actor_fixture, "create asks the controller to verify the authKey and maps its answer",
                 "[registry]") {
  struct verify_case {
    int controller_status;
    int api_status;
    std::string field;
  };
  auto c = GENERATE(values<verify_case>({
    {401, 401, "authKey"},
    {403, 403, "authKey"},
    {404, 404, "triggerName"},
    {0, 503, ""},
    {500, 503, ""},
  }));
  CAPTURE(c.controller_status);
  auto asked = std::make_shared<std::vector<std::pair<trigger_ref, std::string>>>();
  auto registry = spawn_registry({}, spawn_controller(*this, c.controller_status, asked));
  auto reply = create(*this, registry, t1, R"({"seconds": 1})");
  REQUIRE(asked->size() == 1);
  CHECK(asked->at(0).first == t1);
  CHECK(asked->at(0).second == owner_key);
  CHECK(reply.status == c.api_status);
  if (!c.field.empty())
    CHECK(json_string_at(reply.body, "field") == c.field);
  advance(3s);
  CHECK(journal->attempts == 0);
  CHECK(client->calls().empty());
  CHECK(read(*this, registry, t1).status == 404);
}

TEST_CASE_METHOD(actor_fixture, "create with a key the controller accepts answers 201 and starts firing",
                 "[registry]") {
  client->answer_all(200);
  auto asked = std::make_shared<std::vector<std::pair<trigger_ref, std::string>>>();
  auto registry = spawn_registry({}, spawn_controller(*this, 200, asked));
  CHECK(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
  CHECK(asked->size() == 1);
  CHECK(journal->count(store_op::kind::put_registration) == 1);
  advance(1s);
  CHECK(client->calls().size() == 1);
}

TEST_CASE_METHOD(actor_fixture, "create answers 503 when the controller does not answer in time", "[registry]") {
  auto registry = spawn_registry({}, spawn_silent_controller(*this), 2s);
  auto reply = ask<api_result>(registry, command(api_op::create, t1, owner_key, R"({"seconds": 1})"));
  run();
  CHECK_FALSE(reply->arrived());
  advance(1900ms);
  CHECK_FALSE(reply->arrived());
  advance(100ms);
  REQUIRE(reply->value);
  CHECK(reply_of(*reply->value).status == 503);
  CHECK_THAT(json_string_at(reply_of(*reply->value).body, "error").value_or(""), Catch::Contains("verify the authKey"));
  CHECK(journal->attempts == 0);
}

TEST_CASE_METHOD(actor_fixture, "create answers 503 and starts nothing when the store cannot commit", "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  journal->failure = "disk full";
  auto reply = create(*this, registry, t1, R"({"seconds": 1})");
  CHECK(reply.status == 503);
  CHECK_THAT(json_string_at(reply.body, "error").value_or(""), Catch::Contains("disk full"));
  advance(3s);
  CHECK(client->calls().empty());
  CHECK(read(*this, registry, t1).status == 404);
  journal->failure.reset();
  CHECK(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
}

TEST_CASE_METHOD(actor_fixture, "delete answers 503 and the registration keeps running when the store cannot commit",
                 "[registry]") {
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"seconds": 1})").status == 201);
  journal->failure = "disk full";
  auto reply = api(registry, command(api_op::remove, t1, owner_key, "{}", ""));
  CHECK(reply.status == 503);
  advance(2500ms);
  CHECK(client->sent_times() == every(at(1s), 1s, 2));
  journal->failure.reset();
  CHECK(read(*this, registry, t1).status == 200);
}

TEST_CASE_METHOD(actor_fixture, "a late removal request of a replaced one-shot alarm does not remove its successor",
                 "[registry]") {
  // (remove_atom, trigger_ref) names only the trigger. The old trigger of a deleteAfterFire alarm may send it just
  // before the owner replaces the registration; the registry must not then erase the new one it answered 200 for.
  auto triggers = std::make_shared<std::vector<caf::actor>>();
  env->spawn_source = [triggers, spawn = env->spawn_source](caf::local_actor* trigger, const source_args& args) {
    triggers->push_back(caf::actor_cast<caf::actor>(trigger));
    return spawn(trigger, args);
  };
  client->answer_all(200);
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, t1, R"({"date": "2026-01-01T00:00:30Z", "deleteAfterFire": true})").status == 201);
  REQUIRE(triggers->size() == 1);
  auto reply = ask<api_result>(registry, command(api_op::create, t1, owner_key, R"({"seconds": 1})"));
  sched.run_once(); // the probe sends the CREATE
  sched.run_once(); // the registry asks the store to put the new registration
  // The old trigger's removal request (its fire succeeded just now) arrives while the put is being committed.
  caf::send_as(triggers->at(0), registry, remove_atom::value, t1);
  run();
  REQUIRE(reply->value);
  CHECK(reply_of(*reply->value).status == 200);
  auto ops = journal->ops_for(t1);
  REQUIRE_FALSE(ops.empty());
  CHECK(ops.back().op == store_op::kind::put_registration);
  CHECK(read(*this, registry, t1).status == 200);
  advance(1s);
  CHECK(client->calls().size() == 1);
}

TEST_CASE_METHOD(actor_fixture, "a registration fixed by UPDATE can be resumed after the service restarted",
                 "[registry]") {
  // UPDATE persists fixed parameters together with the old reason "stored parameters are invalid ..."; validity
  // must come from validating the stored parameters, not from that text, or resume cannot re-enable it after a restart.
  auto broken = make_record(t1, R"({"seconds": 1})", at(-10s));
  broken.params_json = R"({"seconds":0})";
  auto first = spawn_registry({broken});
  REQUIRE(api(first, command(api_op::update, t1, owner_key, R"({"seconds": 2})", "")).status == 200);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  run();
  // The service restarts from what the store holds.
  auto puts = journal->ops_for(t1);
  REQUIRE_FALSE(puts.empty());
  REQUIRE(puts.back().op == store_op::kind::put_registration);
  auto stored = puts.back().record;
  CHECK(json_int_at(stored.params_json, "seconds") == 2);
  client->answer_all(200);
  auto second = spawn_registry({stored});
  auto resumed = api(second, command(api_op::resume, t1, owner_key, "{}", ""));
  INFO(resumed.body);
  CHECK(json_string_at(resumed.body, "status.state") == "active");
  advance(4s);
  CHECK_FALSE(client->calls().empty());
}

TEST_CASE("the text of a normal exit reason can be described", "[registry]") {
  // caf::error::context() requires a non-empty error; the reason of a normal exit is empty, and the registry
  // describes every trigger exit. Runs isolated so that a regression fails this test instead of the whole run.
  auto outcome = run_isolated([] {
    auto text = describe_child_error(caf::error{});
    return text.empty() ? std::string{"empty description"} : std::string{};
  });
  INFO(outcome.description);
  CHECK(outcome.passed);
}

TEST_CASE("the text of a crash is the exception's message", "[registry]") {
  CHECK(describe_child_error(caf::make_error(caf::sec::runtime_error, std::string{"boom"})) == "boom");
}
