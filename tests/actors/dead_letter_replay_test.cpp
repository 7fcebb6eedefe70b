// A replayed dead letter is delivered or refused, never stranded (docs/delivery.md, "Dead letters").

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "printers.hpp"
#include "registry_harness.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref once{"guest", "once"};

api_reply replay(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger = once) {
  return f.api(registry, command(api_op::replay, trigger, owner_key, "{}", ""));
}

api_reply read(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger = once) {
  return f.api(registry, command(api_op::read, trigger, owner_key, "{}", ""));
}

/// Creates a one-shot alarm due at +5 s whose only fire the controller finds too large, and waits until its date has
/// passed: the occurrence is a dead letter and the registration is disabled by its schedule.
registry_actor one_shot_with_dead_letter(actor_fixture& f) {
  auto registry = f.spawn_registry();
  REQUIRE(f.api(registry, command(api_op::create, once, owner_key, R"({"date": "2026-01-01T00:00:05Z"})")).status
          == 201);
  f.client->answer_all(413, "payload too large");
  f.advance(6s);
  REQUIRE(f.journal->dead_letters(once).size() == 1);
  auto before = read(f, registry);
  REQUIRE(json_string_at(before.body, "status.state") == "disabled");
  REQUIRE(json_string_at(before.body, "status.reason.message") == "the one-shot alarm's date has passed");
  return registry;
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a dead letter of a one-shot alarm whose date has passed is fired when replayed",
                 "[replay][delivery]") {
  auto registry = one_shot_with_dead_letter(*this);
  client->answer_all(202);
  auto replayed = replay(*this, registry);
  CHECK(replayed.status == 202);
  CHECK(json_int_at(replayed.body, "replayed") == 1);
  run();
  REQUIRE(client->calls().size() == 2); // the refused fire, then the replay
  CHECK(client->calls()[1].request.message.body == "{}");
  auto after = read(*this, registry);
  CHECK(json_int_at(after.body, "status.pendingEvents") == 0);
  CHECK(json_int_at(after.body, "status.deadLetters") == 0);
  CHECK(json_int_at(after.body, "status.fires") == 1);
  CHECK(json_string_at(after.body, "status.state") == "disabled"); // the schedule stays used up
  CHECK(journal->pending_seqs(once).empty());
  CHECK(journal->dead_letters(once).empty());
}

TEST_CASE_METHOD(actor_fixture, "a replayed event left pending by a one-shot alarm whose date has passed fires after a "
                                "restart", "[replay][delivery]") {
  auto first = one_shot_with_dead_letter(*this);
  client->answer_none();
  REQUIRE(replay(*this, first).status == 202);
  run();
  REQUIRE(journal->pending_seqs(once).size() == 1); // on the wire when the service stops
  auto stored = journal->ops_for(once);
  // The service restarts with the registration as the store keeps it.
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  run();
  registration_record record;
  for (const auto& op : stored)
    if (op.op == store_op::kind::put_registration)
      record = op.record;
  for (const auto& op : stored)
    if (op.op == store_op::kind::put_status)
      record.status = op.record.status;
  journal->leave_pending(record, {});
  record.last_seq = journal->pending_seqs(once).back();
  REQUIRE(record.status.state == registration_state::disabled);
  auto calls_before = client->calls().size();
  client->answer_all(202);
  auto registry = spawn_registry({record});
  run();
  REQUIRE(client->calls().size() == calls_before + 1);
  CHECK(journal->pending_seqs(once).empty());
  CHECK(json_int_at(read(*this, registry).body, "status.fires") == 1);
}

TEST_CASE_METHOD(actor_fixture, "after a restart, a dead letter of a one-shot alarm whose date has passed is fired "
                                "when replayed", "[replay][delivery]") {
  auto first = one_shot_with_dead_letter(*this);
  auto stored = journal->ops_for(once);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  run();
  registration_record record;
  for (const auto& op : stored) {
    if (op.op == store_op::kind::put_registration)
      record = op.record;
    if (op.op == store_op::kind::put_status)
      record.status = op.record.status;
  }
  record.last_seq = journal->dead_letters(once).back().event.seq;
  REQUIRE(record.status.state == registration_state::disabled);
  auto registry = spawn_registry({record});
  client->answer_all(202);
  auto replayed = replay(*this, registry);
  CHECK(replayed.status == 202);
  CHECK(json_int_at(replayed.body, "replayed") == 1);
  run();
  CHECK(client->calls().size() == 2);
  CHECK(journal->pending_seqs(once).empty());
  CHECK(journal->dead_letters(once).empty());
  CHECK(json_int_at(read(*this, registry).body, "status.fires") == 1);
}

TEST_CASE_METHOD(actor_fixture, "a replay of a paused registration answers 409 saying why and moves nothing",
                 "[replay][delivery]") {
  auto registry = spawn_registry();
  REQUIRE(api(registry, command(api_op::create, once, owner_key, R"({"seconds": 1, "retryAttempts": 1})")).status
          == 201);
  client->answer_all(500);
  advance(1s);
  REQUIRE(journal->dead_letters(once).size() == 1);
  REQUIRE(api(registry, command(api_op::pause, once, owner_key, "{}", "")).status == 200);
  auto refused = replay(*this, registry);
  CHECK(refused.status == 409);
  CHECK_THAT(json_string_at(refused.body, "error").value_or(""), Catch::Contains("paused"));
  CHECK(json_string_at(refused.body, "field") == "state");
  CHECK(journal->dead_letters(once).size() == 1);
  CHECK(journal->pending_seqs(once).empty());
  CHECK(json_int_at(read(*this, registry).body, "status.deadLetters") == 1);
}

TEST_CASE_METHOD(actor_fixture, "a replay of a registration the controller refused answers 409 with the refusal and "
                                "moves nothing", "[replay][delivery]") {
  auto registry = spawn_registry();
  REQUIRE(api(registry, command(api_op::create, once, owner_key, R"({"seconds": 1, "retryAttempts": 1})")).status
          == 201);
  client->answer_all(500);
  advance(1s);
  REQUIRE(journal->dead_letters(once).size() == 1);
  client->answer_all(403, "forbidden");
  advance(1s);
  REQUIRE(json_string_at(read(*this, registry).body, "status.state") == "disabled");
  auto refused = replay(*this, registry);
  CHECK(refused.status == 409);
  CHECK_THAT(json_string_at(refused.body, "error").value_or(""), Catch::Contains("HTTP 403"));
  CHECK(journal->dead_letters(once).size() == 1);
}

TEST_CASE_METHOD(actor_fixture, "a replay moves no more dead letters than the registration has room for, and none "
                                "while it is full", "[replay][delivery]") {
  env->max_buffered_events = 2;
  auto registry = spawn_registry();
  REQUIRE(api(registry, command(api_op::create, once, owner_key, R"({"seconds": 1, "retryAttempts": 1})")).status
          == 201);
  client->answer_all(500);
  advance(3s);
  REQUIRE(journal->dead_letters(once).size() == 3);
  // The controller hangs: the first replay fills the buffer, the second finds no room.
  client->answer_none();
  auto first = replay(*this, registry);
  CHECK(first.status == 202);
  CHECK(json_int_at(first.body, "replayed") == 2);
  auto full = replay(*this, registry);
  CHECK(full.status == 429);
  CHECK(full.retry_after == "1");
  CHECK(journal->dead_letters(once).size() == 1);
  CHECK(journal->pending_seqs(once).size() == 2);
}
