#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "core/webhook_signature.hpp"
#include "metrics_sample.hpp"
#include "printers.hpp"
#include "registry_harness.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref gh{"guest", "gh"};

const std::string hook_prefix = test_public_url + "/v1/hooks/";

api_reply create_webhook(actor_fixture& f, const registry_actor& registry, std::string_view params_json = "{}",
                         const trigger_ref& trigger = gh) {
  return f.api(registry, command(api_op::create, trigger, owner_key, params_json, "webhook"));
}

api_reply simple(actor_fixture& f, const registry_actor& registry, api_op op, const trigger_ref& trigger = gh,
                 const std::string& key = owner_key) {
  return f.api(registry, command(op, trigger, key, "{}", ""));
}

/// Returns the hook id in the hookUrl of a CREATE answer.
std::string hook_id_of(const api_reply& created) {
  auto hook_url = json_string_at(created.body, "hookUrl").value_or("");
  REQUIRE(hook_url.rfind(hook_prefix, 0) == 0);
  return hook_url.substr(hook_prefix.size());
}

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
}

std::string event_body(int n) {
  return R"({"n":)" + std::to_string(n) + "}";
}

/// A webhook registration as created through the registry: its hook id and secret.
struct created_hook {
  std::string id;
  std::string secret;
};

created_hook create_hook(actor_fixture& f, const registry_actor& registry, std::string_view params_json = "{}") {
  auto reply = create_webhook(f, registry, params_json);
  REQUIRE(reply.status == 201);
  return {hook_id_of(reply), json_string_at(reply.body, "secret").value_or("")};
}

api_reply post(actor_fixture& f, const registry_actor& registry, const created_hook& hook, std::string body,
               http_fields fields = {}) {
  return f.api(registry, hook_command(hook.id, std::move(body), hook.secret, std::move(fields)));
}

} // namespace

// -- CREATE and READ -------------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "create of a webhook answers 201 with its hook URL and secret, which READ never shows",
                 "[registry][webhook]") {
  auto registry = spawn_registry();
  auto reply = create_webhook(*this, registry);
  CHECK(reply.status == 201);
  auto hook_id = hook_id_of(reply);
  CHECK(hook_id.size() == 32);
  CHECK(is_lower_hex(hook_id));
  auto secret = json_string_at(reply.body, "secret").value_or("");
  CHECK(secret.size() == 64);
  CHECK(is_lower_hex(secret));
  CHECK(json_string_at(reply.body, "config.feed") == "webhook");
  CHECK(json_string_at(reply.body, "status.hookUrl") == hook_prefix + hook_id);
  CHECK(json_string_at(reply.body, "status.state") == "active");
  // Stored with the secret, so that signatures still verify after a restart.
  auto ops = journal->ops_for(gh);
  REQUIRE(ops.size() == 2); // the erase of what the trigger held before, then the registration
  CHECK(ops[1].op == store_op::kind::put_registration);
  CHECK(json_string_at(ops[1].record.params_json, "secret") == secret);
  CHECK(json_string_at(ops[1].record.params_json, "hookId") == hook_id);
  auto read = simple(*this, registry, api_op::read);
  CHECK(read.status == 200);
  CHECK_THAT(read.body, !Catch::Contains(secret));
  CHECK_FALSE(json_at(read.body, "config.secret"));
  CHECK_FALSE(json_at(read.body, "secret"));
  CHECK(json_string_at(read.body, "status.hookUrl") == hook_prefix + hook_id);
  auto listed = api(registry, command(api_op::list, {"guest", ""}, owner_key, "{}", ""));
  CHECK_THAT(listed.body, !Catch::Contains(secret));
}

TEST_CASE_METHOD(actor_fixture, "create of a webhook keeps a secret the owner gave and refuses a hookId",
                 "[registry][webhook]") {
  auto registry = spawn_registry();
  auto reply = create_webhook(*this, registry, R"({"secret": "my-own-secret-of-some-length"})");
  CHECK(reply.status == 201);
  CHECK(json_string_at(reply.body, "secret") == "my-own-secret-of-some-length");
  auto refused = create_webhook(*this, registry, R"({"hookId": "guessable"})", {"guest", "other"});
  CHECK(refused.status == 400);
  CHECK(json_string_at(refused.body, "field") == "hookId");
  auto update = api(registry, command(api_op::update, gh, owner_key, R"({"hookId": "guessable"})", ""));
  CHECK(update.status == 400);
  CHECK(json_string_at(update.body, "field") == "hookId");
}

// -- ingress ------------------------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "a correctly signed webhook request is answered 202 once its event is stored, and "
                                "the event is fired and then erased", "[registry][webhook][delivery]") {
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry);
  auto reply = ask<api_result>(registry, hook_command(hook.id, event_body(1), hook.secret));
  while (!reply->arrived())
    REQUIRE(sched.try_run_once());
  // At the moment the sender learns 202 the event is durable.
  CHECK(journal->pending_seqs(gh) == std::vector<std::uint64_t>{1});
  REQUIRE(reply->value);
  CHECK(reply_of(*reply->value).status == 202);
  CHECK(json_at(reply_of(*reply->value).body, "accepted") == "true");
  CHECK(json_int_at(reply_of(*reply->value).body, "seq") == 1);
  run();
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.message.body == event_body(1));
  CHECK(client->calls()[0].request.destination.target == "/api/v1/namespaces/guest/triggers/gh");
  CHECK(client->calls()[0].request.message.field("Authorization") == owner_authorization);
  auto read = simple(*this, registry, api_op::read);
  CHECK(json_int_at(read.body, "status.pendingEvents") == 1);
  client->answer(0, 202);
  run();
  CHECK(journal->pending_seqs(gh).empty());
  read = simple(*this, registry, api_op::read);
  CHECK(json_int_at(read.body, "status.fires") == 1);
  CHECK(json_int_at(read.body, "status.pendingEvents") == 0);
}

TEST_CASE_METHOD(actor_fixture, "a webhook event that cannot be stored is answered 202 once fired, and 503 if it "
                                "goes to dead letters instead",
                 "[registry][webhook][delivery]") {
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry, R"({"deliveryHeader": "X-Delivery"})");
  auto delivery = [&](int n) {
    return hook_command(hook.id, event_body(n), hook.secret, {{"X-Delivery", "d-" + std::to_string(n)}});
  };
  // Sends event `n` while the store fails, checks that its sender still waits once the fire is out, answers the fire
  // with `status`, and returns what the sender got then.
  auto through_failed_commit = [&](int n, int status) {
    auto fires_before = client->calls().size();
    auto reply = ask<api_result>(registry, delivery(n));
    run();
    REQUIRE(client->calls().size() == fires_before + 1);
    CHECK_FALSE(reply->arrived());
    client->answer(fires_before, status);
    run();
    REQUIRE(reply->value);
    return reply_of(*reply->value);
  };
  journal->failure = "disk full";
  // The fire is on the wire when the commit fails: the sender waits for the fire, which acknowledges the event. A
  // 503 now would have it send the event again while this one still fires.
  CHECK(through_failed_commit(1, 202).status == 202);
  // Refused with 413, the event goes to dead letters, which cannot be stored either: the sender must send it again.
  auto refused = through_failed_commit(2, 413);
  CHECK(refused.status == 503);
  CHECK_THAT(json_string_at(refused.body, "error").value_or(""), Catch::Contains("cannot store the event"));
  advance(5s);
  CHECK(client->calls().size() == 2);
  journal->failure.reset();
  auto read = simple(*this, registry, api_op::read);
  CHECK(json_int_at(read.body, "status.pendingEvents") == 0);
  CHECK(json_int_at(read.body, "status.fires") == 1);
  // Sent again with the same delivery id, the refused event is taken, not ignored as a redelivery.
  client->answer_all(202);
  auto again = post(*this, registry, hook, event_body(2), {{"X-Delivery", "d-2"}});
  CHECK(again.status == 202);
  CHECK(json_at(again.body, "ignored").value_or("false") == "false");
  // A fire answered before the failed commit acknowledges its event too.
  journal->failure = "disk full";
  auto third = ask<api_result>(registry, delivery(3));
  run_all_but(store);
  REQUIRE(third->value);
  CHECK(reply_of(*third->value).status == 202);
  run();
  CHECK(client->bodies()
        == std::vector<std::string>{event_body(1), event_body(2), event_body(2), event_body(3)});
  // Refused with 404, the registration is disabled and will not fire the event: the sender is told at once.
  client->answer_none();
  REQUIRE(client->calls().size() == 4);
  auto disabled = through_failed_commit(4, 404);
  CHECK(disabled.status == 503);
  CHECK_THAT(json_string_at(disabled.body, "error").value_or(""), Catch::Contains("stopped firing"));
}

TEST_CASE_METHOD(actor_fixture, "a webhook request with a missing or wrong signature is answered 401 and nothing is "
                                "stored or fired", "[registry][webhook]") {
  client->answer_all(202);
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry);
  auto puts_before = journal->count(store_op::kind::put_event);
  api_command cmd;
  SECTION("no signature") {
    cmd = hook_command(hook.id, event_body(1), hook.secret);
    cmd.hook.headers.clear();
  }
  SECTION("signed with another secret") {
    cmd = hook_command(hook.id, event_body(1), "some-other-secret-entirely");
  }
  SECTION("the body changed after signing") {
    cmd = hook_command(hook.id, event_body(1), hook.secret);
    cmd.hook.body = event_body(2);
  }
  SECTION("a malformed signature") {
    cmd = hook_command(hook.id, event_body(1), hook.secret);
    cmd.hook.headers = {{"X-Hub-Signature-256", "sha1=" + sign_hmac_sha256(hook.secret, event_body(1)).substr(7)}};
  }
  auto reply = api(registry, std::move(cmd));
  CHECK(reply.status == 401);
  CHECK(json_string_at(reply.body, "field") == "X-Hub-Signature-256");
  advance(5s);
  CHECK(journal->count(store_op::kind::put_event) == puts_before);
  CHECK(client->calls().empty());
}

TEST_CASE_METHOD(actor_fixture, "a webhook with token signatures takes the shared token", "[registry][webhook]") {
  client->answer_all(202);
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry, R"({"signature": "token"})");
  api_command cmd;
  cmd.op = api_op::hook;
  cmd.hook_id = hook.id;
  cmd.hook.body = event_body(1);
  cmd.hook.headers = {{"X-Feedrouter-Token", "wrong-token-wrong-token"}};
  auto refused = api(registry, cmd);
  CHECK(refused.status == 401);
  CHECK(json_string_at(refused.body, "field") == "X-Feedrouter-Token");
  cmd.hook.headers = {{"X-Feedrouter-Token", hook.secret}};
  CHECK(api(registry, cmd).status == 202);
  CHECK(client->bodies() == std::vector<std::string>{event_body(1)});
}

TEST_CASE_METHOD(actor_fixture, "a webhook request for an unknown hook id is answered 404", "[registry][webhook]") {
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry);
  auto unknown = hook;
  unknown.id = std::string(32, '0');
  auto reply = post(*this, registry, unknown, event_body(1));
  CHECK(reply.status == 404);
  CHECK(json_string_at(reply.body, "field") == "hookId");
  // Once deleted, its own id is unknown too.
  REQUIRE(simple(*this, registry, api_op::remove).status == 204);
  CHECK(post(*this, registry, hook, event_body(1)).status == 404);
  CHECK(journal->count(store_op::kind::put_event) == 0);
  CHECK(client->calls().empty());
}

TEST_CASE_METHOD(actor_fixture, "a webhook replaced by another feed kind no longer takes requests",
                 "[registry][webhook]") {
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry);
  REQUIRE(api(registry, command(api_op::create, gh, owner_key, R"({"seconds": 60})")).status == 200);
  CHECK(post(*this, registry, hook, event_body(1)).status == 404);
}

TEST_CASE_METHOD(actor_fixture, "a webhook ignores events its filter does not list and adds the event kind to the "
                                "others", "[registry][webhook]") {
  client->answer_all(202);
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry, R"({"events": ["push"]})");
  auto ignored = post(*this, registry, hook, event_body(1), {{"X-GitHub-Event", "issues"}});
  CHECK(ignored.status == 202);
  CHECK(json_at(ignored.body, "ignored") == "true");
  CHECK(journal->count(store_op::kind::put_event) == 0);
  CHECK(client->calls().empty());
  auto taken = post(*this, registry, hook, event_body(2), {{"X-GitHub-Event", "push"}});
  CHECK(taken.status == 202);
  CHECK_FALSE(json_at(taken.body, "ignored"));
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.message.body == R"({"n":2,"event":"push"})");
}

TEST_CASE_METHOD(actor_fixture, "a paused webhook answers 503 and stores nothing until it is resumed",
                 "[registry][webhook]") {
  client->answer_all(202);
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry);
  REQUIRE(simple(*this, registry, api_op::pause).status == 200);
  auto reply = post(*this, registry, hook, event_body(1));
  CHECK(reply.status == 503);
  CHECK_THAT(json_string_at(reply.body, "error").value_or(""), Catch::Contains("paused"));
  CHECK(journal->count(store_op::kind::put_event) == 0);
  REQUIRE(simple(*this, registry, api_op::resume).status == 200);
  CHECK(post(*this, registry, hook, event_body(2)).status == 202);
  CHECK(client->bodies() == std::vector<std::string>{event_body(2)});
}

TEST_CASE_METHOD(actor_fixture, "a webhook answers 429 while its buffer is full and takes events again once it "
                                "drained", "[registry][webhook][delivery]") {
  env->max_buffered_events = 2;
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry);
  CHECK(post(*this, registry, hook, event_body(1)).status == 202); // in flight
  CHECK(post(*this, registry, hook, event_body(2)).status == 202); // queued
  auto full = post(*this, registry, hook, event_body(3));
  CHECK(full.status == 429);
  CHECK(json_string_at(full.body, "error"));
  CHECK(full.retry_after == "1"); // the sender is told when to try again
  CHECK(journal->pending_seqs(gh) == std::vector<std::uint64_t>{1, 2});
  client->answer(0, 202);
  run();
  CHECK(post(*this, registry, hook, event_body(4)).status == 202);
  client->answer_all(202);
  client->answer(1, 202);
  run();
  CHECK(client->bodies() == std::vector<std::string>{event_body(1), event_body(2), event_body(4)});
  CHECK(journal->pending_seqs(gh).empty());
}

// -- dead letters -----------------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "dead letters are listed, counted, and replayed in order through the registry",
                 "[registry][webhook][delivery]") {
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry, R"({"retryAttempts": 1})");
  client->respond_with([](const client_request&, std::size_t index) {
    return index < 2 ? http_answer(500, "broken") : http_answer(202);
  });
  for (int n = 1; n <= 3; ++n)
    REQUIRE(post(*this, registry, hook, event_body(n)).status == 202);
  CHECK(client->bodies() == std::vector<std::string>{event_body(1), event_body(2), event_body(3)});
  auto read = simple(*this, registry, api_op::read);
  CHECK(json_int_at(read.body, "status.deadLetters") == 2);
  CHECK(json_int_at(read.body, "status.fires") == 1);
  CHECK(json_int_at(read.body, "status.failures") == 2);
  auto listed = simple(*this, registry, api_op::dead_letters);
  CHECK(listed.status == 200);
  CHECK(json_int_at(listed.body, "count") == 2);
  CHECK(listed.body == render_dead_letters(journal->dead_letters(gh)));
  auto letters = journal->dead_letters(gh);
  REQUIRE(letters.size() == 2);
  CHECK(letters[0].event.seq == 1);
  CHECK(letters[0].event.body == event_body(1));
  CHECK(letters[0].status_code == 500);
  CHECK(letters[0].error == "HTTP 500: broken");
  CHECK(letters[0].attempts == 1);
  CHECK(letters[1].event.seq == 2);
  // Another key sees none of it.
  CHECK(simple(*this, registry, api_op::dead_letters, gh, other_key).status == 404);
  CHECK(simple(*this, registry, api_op::replay, gh, other_key).status == 404);
  // Replay: the letters leave the dead letters and become pending again in one transaction, then fire in order.
  client->answer_none();
  auto commits_before = journal->commits.size();
  auto replayed = simple(*this, registry, api_op::replay);
  CHECK(replayed.status == 202);
  CHECK(json_int_at(replayed.body, "replayed") == 2);
  bool one_write = false;
  for (auto i = commits_before; i < journal->commits.size(); ++i) {
    std::size_t erased = 0;
    std::size_t put = 0;
    for (const auto& op : journal->commits[i]) {
      erased += op.op == store_op::kind::erase_dead_letter ? 1 : 0;
      put += op.op == store_op::kind::put_event ? 1 : 0;
    }
    one_write = one_write || (erased == 2 && put == 2);
  }
  CHECK(one_write);
  CHECK(journal->dead_letters(gh).empty());
  CHECK(journal->pending_seqs(gh) == std::vector<std::uint64_t>{4, 5});
  CHECK(json_int_at(simple(*this, registry, api_op::read).body, "status.deadLetters") == 0);
  REQUIRE(client->calls().size() == 4);
  CHECK(client->calls()[3].request.message.body == event_body(1));
  client->answer(3, 202);
  run();
  REQUIRE(client->calls().size() == 5);
  CHECK(client->calls()[4].request.message.body == event_body(2));
  client->answer(4, 202);
  run();
  CHECK(journal->pending_seqs(gh).empty());
  read = simple(*this, registry, api_op::read);
  CHECK(json_int_at(read.body, "status.fires") == 3);
  CHECK(json_int_at(read.body, "status.deadLetters") == 0);
  CHECK(json_int_at(simple(*this, registry, api_op::dead_letters).body, "count") == 0);
  auto stored = stored_statuses(*journal, gh);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().dead_letters == 0);
  // Nothing left to replay.
  auto again = simple(*this, registry, api_op::replay);
  CHECK(again.status == 202);
  CHECK(json_int_at(again.body, "replayed") == 0);
}

TEST_CASE_METHOD(actor_fixture, "two replays at once fire each dead letter once", "[registry][webhook][delivery]") {
  // Both replays would load the same dead letters before either write is committed; the second must not turn each
  // letter into a second pending event (nor push status.dead_letters below zero).
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry, R"({"retryAttempts": 1})");
  client->answer_all(500);
  REQUIRE(post(*this, registry, hook, event_body(1)).status == 202);
  REQUIRE(journal->dead_letters(gh).size() == 1);
  client->answer_all(202);
  auto first = ask<api_result>(registry, command(api_op::replay, gh, owner_key, "{}", ""));
  auto second = ask<api_result>(registry, command(api_op::replay, gh, owner_key, "{}", ""));
  run();
  REQUIRE(first->value);
  REQUIRE(second->value);
  auto replayed = [](const reply_slot_ptr<api_result>& slot) {
    return json_int_at(reply_of(*slot->value).body, "replayed").value_or(0);
  };
  CHECK(replayed(first) + replayed(second) == 1);
  CHECK(client->bodies() == std::vector<std::string>{event_body(1), event_body(1)}); // the failure, then one replay
  CHECK(json_int_at(simple(*this, registry, api_op::read).body, "status.deadLetters") == 0);
}

// -- restart ------------------------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "a registry started with pending webhook events fires them first, in seq order, and "
                                "numbers new events after the last seq", "[registry][webhook][delivery]") {
  auto record = make_webhook_record(gh, "hook-restored", "{}", at(-1h));
  journal->leave_pending(record,
                         {stored_event{3, event_body(3), at(-10min)}, stored_event{5, event_body(5), at(-5min)}});
  record.last_seq = 7; // seq 6 and 7 are dead letters
  record.status.dead_letters = 2;
  auto registry = spawn_registry({record});
  CHECK(call<std::size_t>(registry, ready_atom::value) == 1);
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.message.body == event_body(3));
  created_hook hook{"hook-restored", test_secret};
  auto reply = post(*this, registry, hook, event_body(8));
  CHECK(reply.status == 202);
  CHECK(json_int_at(reply.body, "seq") == 8);
  CHECK(journal->pending_seqs(gh) == std::vector<std::uint64_t>{3, 5, 8});
  CHECK(client->calls().size() == 1);
  client->answer(0, 202);
  run();
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].request.message.body == event_body(5));
  client->answer(1, 202);
  run();
  REQUIRE(client->calls().size() == 3);
  CHECK(client->calls()[2].request.message.body == event_body(8));
  client->answer(2, 202);
  run();
  std::vector<std::uint64_t> erased;
  for (const auto& op : journal->ops_for(gh))
    if (op.op == store_op::kind::erase_event)
      erased.push_back(op.event.seq);
  CHECK(erased == std::vector<std::uint64_t>{3, 5, 8});
  auto read = simple(*this, registry, api_op::read);
  CHECK(json_int_at(read.body, "status.fires") == 3);
  CHECK(json_int_at(read.body, "status.deadLetters") == 2);
  CHECK(json_int_at(read.body, "status.pendingEvents") == 0);
}

TEST_CASE_METHOD(actor_fixture, "a webhook's delivery ids are stored with its events, and a registry started with "
                                "them takes none of them again", "[registry][webhook][replay]") {
  client->answer_all(202);
  const std::string params = R"({"deliveryHeader": "X-Delivery"})";
  {
    auto registry = spawn_registry();
    auto hook = create_hook(*this, registry, params);
    REQUIRE(post(*this, registry, hook, event_body(1), {{"X-Delivery", "d-1"}}).status == 202);
    // One transaction holds the event and its delivery id.
    auto commits = journal->commits;
    auto with_event = std::find_if(commits.begin(), commits.end(), [](const auto& ops) {
      return std::any_of(ops.begin(), ops.end(), [](const auto& op) { return op.op == store_op::kind::put_event; });
    });
    REQUIRE(with_event != commits.end());
    auto taken = std::find_if(with_event->begin(), with_event->end(),
                              [](const auto& op) { return op.op == store_op::kind::put_delivery; });
    REQUIRE(taken != with_event->end());
    CHECK(taken->delivery.id == "d-1");
    CHECK(taken->delivery.seq == 1);
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    run();
  }
  // The service starts again with what the store kept: the event was fired, its delivery id stays.
  auto record = make_webhook_record(gh, "hook-restarted", params, at(-1h));
  record.last_seq = 1;
  record.deliveries = {taken_delivery{1, "d-1"}};
  auto registry = spawn_registry({record});
  created_hook hook{"hook-restarted", test_secret};
  auto calls = client->calls().size();
  auto again = post(*this, registry, hook, event_body(1), {{"X-Delivery", "d-1"}});
  CHECK(again.status == 202);
  CHECK(again.body == R"({"ignored":true,"reason":"duplicate"})");
  auto fresh = post(*this, registry, hook, event_body(2), {{"X-Delivery", "d-2"}});
  CHECK(json_int_at(fresh.body, "seq") == 2);
  run();
  CHECK(client->calls().size() == calls + 1);
}

TEST_CASE_METHOD(actor_fixture, "a registry started with a paused webhook keeps its pending events until resume",
                 "[registry][webhook][delivery]") {
  client->answer_all(202);
  auto record = make_webhook_record(gh, "hook-restored", "{}", at(-1h));
  record.status.state = registration_state::paused;
  record.status.reason = {reason_kind::user, 0, "paused by the owner"};
  journal->leave_pending(record, {stored_event{1, event_body(1), at(-10min)}});
  record.last_seq = 1;
  auto registry = spawn_registry({record});
  advance(5s);
  CHECK(client->calls().empty());
  CHECK(json_int_at(simple(*this, registry, api_op::read).body, "status.pendingEvents") == 1);
  REQUIRE(simple(*this, registry, api_op::resume).status == 200);
  CHECK(client->bodies() == std::vector<std::string>{event_body(1)});
}

// -- failures -------------------------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "the hook id of a webhook whose trigger actor failed is forgotten once the "
                                "registration is deleted", "[registry][webhook]") {
  // The replacement entry of a failed trigger actor must keep its hook id, so that DELETE forgets the mapping and a
  // later request for that hook id is a plain 404 rather than a lookup of a key that is gone.
  // The store is reached through a forwarding stand-in that tells which actor writes: the trigger of the webhook.
  auto writers = std::make_shared<std::vector<caf::actor>>();
  auto real_store = caf::actor_cast<caf::actor>(store);
  auto proxy = sys.spawn([real_store, writers](caf::event_based_actor* self) -> caf::behavior {
    self->set_default_handler(
      [real_store, writers](caf::scheduled_actor* s, caf::message_view& x) -> caf::result<caf::message> {
        auto msg = x.move_content_to_message();
        if (msg.match_element<caf::atom_value>(0) && msg.get_as<caf::atom_value>(0) == write_atom::value)
          writers->push_back(caf::actor_cast<caf::actor>(s->current_sender()));
        s->delegate(real_store, std::move(msg));
        return caf::message{};
      });
    return {
      [](ready_atom) {
        // nop: everything else is forwarded by the default handler
      },
    };
  });
  stop_at_teardown(proxy);
  env->store = caf::actor_cast<store_actor>(proxy);
  client->answer_all(202);
  auto registry = spawn_registry();
  auto hook = create_hook(*this, registry);
  REQUIRE(post(*this, registry, hook, event_body(1)).status == 202);
  REQUIRE_FALSE(writers->empty());
  // The trigger actor fails (only a bug of ours could make it); the registry keeps the registration, disabled.
  caf::anon_send(writers->front(), caf::make_error(caf::sec::runtime_error, std::string{"trigger bug"}));
  run();
  auto read = simple(*this, registry, api_op::read);
  REQUIRE(read.status == 200);
  CHECK(json_string_at(read.body, "status.state") == "disabled");
  CHECK(metric_sample(*stats, R"(feedrouter_registrations_auto_disabled_total{feed="webhook"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations{feed="webhook",state="disabled"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations{feed="webhook",state="active"})") == 0);
  // Disabled registrations answer 503, so that the sender's own retry keeps the event.
  CHECK(post(*this, registry, hook, event_body(2)).status == 503);
  REQUIRE(simple(*this, registry, api_op::remove).status == 204);
  auto reply = ask<api_result>(registry, hook_command(hook.id, event_body(3), hook.secret));
  run();
  REQUIRE(reply->value);
  CHECK(reply_of(*reply->value).status == 404);
  CHECK(simple(*this, registry, api_op::read).status == 404);
}
