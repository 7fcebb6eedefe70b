#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref hook1{"guest", "hook1"};
const trigger_ref every1{"guest", "every1"};

std::string event_body(int n) {
  return R"({"n":)" + std::to_string(n) + "}";
}

std::vector<std::string> event_bodies(int from, int to) {
  std::vector<std::string> result;
  for (int n = from; n <= to; ++n)
    result.push_back(event_body(n));
  return result;
}

trigger_harness start_alarm(actor_fixture& f, const trigger_ref& trigger, std::string_view params_json) {
  auto record = make_record(trigger, params_json, f.now());
  auto config = alarm_config(params_json, f.now(), trigger);
  return start_trigger(f, std::move(record), std::move(config));
}

} // namespace

// -- webhook events through the queue -----------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "a webhook event is stored before it is acknowledged, fired, and then erased",
                 "[trigger][webhook][delivery]") {
  auto t = start_webhook_trigger(*this, hook1);
  auto reply = post_event(*this, t.trigger, event_body(1));
  CHECK(reply.status == 202);
  CHECK(json_int_at(reply.body, "seq") == 1);
  CHECK(journal->pending_seqs(hook1) == std::vector<std::uint64_t>{1});
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.message.body == event_body(1));
  CHECK(client->calls()[0].request.destination.target == "/api/v1/namespaces/guest/triggers/hook1");
  CHECK(snapshot(t.trigger).live.pending_events == 1);
  client->answer(0, 202, R"({"activationId":"abc"})");
  run();
  CHECK(journal->pending_seqs(hook1).empty());
  CHECK(journal->count(store_op::kind::erase_event) == 1);
  auto snap = snapshot(t.trigger);
  CHECK(snap.live.pending_events == 0);
  CHECK(snap.status.fires == 1);
  CHECK(snap.status.last_fired == at(0s));
  CHECK(snap.live.hook_url == test_public_url + "/v1/hooks/hook-1");
}

TEST_CASE_METHOD(actor_fixture, "a webhook event is fired without waiting for its commit: a fire answered first "
                                "acknowledges it, and its put and erase cancel out in the store",
                 "[trigger][webhook][delivery]") {
  client->answer_all(202);
  auto t = start_webhook_trigger(*this, hook1);
  auto commits_before = journal->commits.size();
  auto reply = ask<api_result>(t.trigger, hook_atom::value, hook_command("hook-1", event_body(1)).hook);
  // The store takes no message meanwhile: its commit waits, the fire does not.
  run_all_but(store);
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.message.body == event_body(1));
  REQUIRE(reply->value);
  CHECK(reply_of(*reply->value).status == 202);
  CHECK(json_int_at(reply_of(*reply->value).body, "seq") == 1);
  CHECK(journal->commits.size() == commits_before);
  run();
  // The put and the erase met in one batch: the event was never written, the fire is counted.
  CHECK(journal->count(store_op::kind::put_event) == 0);
  CHECK(journal->count(store_op::kind::erase_event) == 0);
  CHECK(journal->pending_seqs(hook1).empty());
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.fires == 1);
  CHECK(snap.live.pending_events == 0);
}

TEST_CASE_METHOD(actor_fixture, "a fire counts as in flight until its trigger has handed the outcome to the store",
                 "[trigger][webhook][delivery]") {
  // Shutdown waits for the in-flight count to reach zero and then flushes the store: the erase of the fired event
  // must reach the store before the count drops, or the event fires again after the restart.
  auto t = start_webhook_trigger(*this, hook1);
  CHECK(post_event(*this, t.trigger, event_body(1)).status == 202);
  CHECK(env->stats->fires_in_flight() == 1);
  client->answer(0, 202, R"({"activationId":"abc"})");
  // The answer is in; its message has not reached the firer and the trigger yet.
  CHECK(env->stats->fires_in_flight() == 1);
  CHECK(journal->pending_seqs(hook1) == std::vector<std::uint64_t>{1});
  run();
  CHECK(env->stats->fires_in_flight() == 0);
  CHECK(journal->pending_seqs(hook1).empty());
}

TEST_CASE_METHOD(actor_fixture, "once fires are stopped, the fire on the wire is answered and counted, the next waits",
                 "[trigger][webhook][delivery]") {
  // SIGTERM stops the fires, then waits for the in-flight count to reach zero: were the next event's fire started as
  // the first is answered, a registration with a backlog would keep the count up for the whole grace period.
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  REQUIRE(post_event(*this, t.trigger, event_body(2)).status == 202);
  CHECK(env->stats->fires_in_flight() == 1);
  env->stats->stop_fires();
  client->answer(0, 202, R"({"activationId":"abc"})");
  run();
  CHECK(env->stats->fires_in_flight() == 0);
  CHECK(client->bodies().size() == 1);
  // The second event was never sent: it stays pending for the next start.
  CHECK(journal->pending_seqs(hook1) == std::vector<std::uint64_t>{2});
}

TEST_CASE_METHOD(actor_fixture, "webhook events are fired one at a time in the order they were accepted",
                 "[trigger][webhook][delivery]") {
  auto t = start_webhook_trigger(*this, hook1);
  for (int n = 1; n <= 4; ++n)
    REQUIRE(post_event(*this, t.trigger, event_body(n)).status == 202);
  CHECK(journal->pending_seqs(hook1) == std::vector<std::uint64_t>{1, 2, 3, 4});
  for (std::size_t i = 0; i < 4; ++i) {
    REQUIRE(client->calls().size() == i + 1);
    CHECK(client->unanswered() == 1);
    client->answer(i, 200);
    run();
  }
  CHECK(client->bodies() == event_bodies(1, 4));
  CHECK(journal->pending_seqs(hook1).empty());
  CHECK(snapshot(t.trigger).status.fires == 4);
}

TEST_CASE_METHOD(actor_fixture, "a trigger retries a fire the controller cannot take yet and shows it as retrying",
                 "[trigger][delivery]") {
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  REQUIRE(post_event(*this, t.trigger, event_body(2)).status == 202);
  client->answer(0, 503);
  run();
  auto snap = snapshot(t.trigger);
  CHECK(snap.live.retrying);
  CHECK(snap.live.pending_events == 2);
  advance(250ms, 10ms);
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].request.message.body == event_body(1)); // the same event again, not the next one
  client->answer(1, 202);
  run();
  REQUIRE(client->calls().size() == 3);
  CHECK(client->calls()[2].request.message.body == event_body(2));
  CHECK_FALSE(snapshot(t.trigger).live.retrying);
  client->answer(2, 202);
  run();
  snap = snapshot(t.trigger);
  CHECK(snap.status.fires == 2);
  CHECK(snap.status.failures == 0);
  CHECK(snap.status.dead_letters == 0);
}

TEST_CASE_METHOD(actor_fixture, "a trigger's retries wait the full-jitter delay its jitter source draws",
                 "[trigger][delivery]") {
  random_value = GENERATE(std::uint64_t{0}, std::uint64_t{12345}, half_random, max_random - 1, max_random);
  CAPTURE(random_value);
  // Full jitter as core/retry_policy computes it: uniform in [0, ceiling] by scaling the 64-bit draw.
  auto jitter = [this](std::int64_t ceiling_ms) {
    __extension__ using uint128 = unsigned __int128;
    return std::chrono::milliseconds{static_cast<std::int64_t>(
      (static_cast<uint128>(random_value) * static_cast<uint128>(ceiling_ms + 1)) >> 64)};
  };
  client->respond_with([](const client_request&, std::size_t index) {
    return index < 2 ? http_answer(503, "busy") : http_answer(202);
  });
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  advance(3s, 1ms);
  auto first = jitter(500);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(0ms), at(first), at(first + jitter(1000))});
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.fires == 1);
  CHECK(snap.status.failures == 0);
}

TEST_CASE_METHOD(actor_fixture, "a trigger honours Retry-After in seconds and as an HTTP-date", "[trigger][delivery]") {
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  client->answer(0, 429, "slow down", {{"Retry-After", "3"}});
  run();
  advance(2999ms, 1ms);
  CHECK(client->calls().size() == 1);
  advance(1ms, 1ms);
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].sent == at(3s));
  // An HTTP-date counts from now.
  client->answer(1, 503, "", {{"Retry-After", "Thu, 01 Jan 2026 00:00:10 GMT"}});
  run();
  advance(6900ms, 100ms);
  CHECK(client->calls().size() == 2);
  advance(100ms, 100ms);
  REQUIRE(client->calls().size() == 3);
  CHECK(client->calls()[2].sent == at(10s));
}

TEST_CASE_METHOD(actor_fixture, "a stored event whose fire was in flight when the registration was paused and that "
                                "the controller accepted is not fired again after the resume",
                 "[trigger][webhook][delivery]") {
  // Pausing with a request on the wire waits for its answer: the event is fired once and counted, not put back and
  // fired again after the resume.
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  REQUIRE(client->calls().size() == 1);
  call<trigger_snapshot>(t.trigger, pause_atom::value);
  client->answer(0, 202);
  run();
  CHECK(snapshot(t.trigger).status.fires == 1);
  client->answer_all(202);
  call<trigger_snapshot>(t.trigger, resume_atom::value);
  run();
  CHECK(client->bodies() == std::vector<std::string>{event_body(1)});
  CHECK(journal->pending_seqs(hook1).empty());
  CHECK(snapshot(t.trigger).status.fires == 1);
}

TEST_CASE_METHOD(actor_fixture, "with a fire window of 3 three events are on the wire at once and leave the store "
                                "only as a prefix of them is done", "[trigger][webhook][delivery]") {
  env->fire_window = 3;
  auto t = start_webhook_trigger(*this, hook1);
  for (int n = 1; n <= 4; ++n)
    REQUIRE(post_event(*this, t.trigger, event_body(n)).status == 202);
  REQUIRE(client->calls().size() == 3);
  CHECK(client->bodies() == event_bodies(1, 3)); // first sent in the order accepted
  // The third and then the second are answered before the first: nothing is settled yet, and event 4 goes out.
  client->answer(2, 202);
  client->answer(1, 202);
  run();
  CHECK(journal->pending_seqs(hook1) == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(snapshot(t.trigger).status.fires == 0);
  REQUIRE(client->calls().size() == 4);
  client->answer(0, 202);
  run();
  CHECK(journal->pending_seqs(hook1) == std::vector<std::uint64_t>{4});
  CHECK(snapshot(t.trigger).status.fires == 3);
  client->answer(3, 202);
  run();
  CHECK(journal->pending_seqs(hook1).empty());
  CHECK(snapshot(t.trigger).status.fires == 4);
}

// -- batching ---------------------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "with batchSize 3 seven events are fired as batches of 3, 3 and, after the window, 1",
                 "[trigger][delivery]") {
  client->answer_all(202);
  auto t = start_webhook_trigger(*this, hook1, R"({"batchSize": 3, "batchWindowMs": 100})");
  SECTION("events arriving one by one") {
    for (int n = 1; n <= 7; ++n)
      REQUIRE(post_event(*this, t.trigger, event_body(n)).status == 202);
  }
  SECTION("events arriving together while a batch is in flight") {
    std::vector<reply_slot_ptr<api_result>> replies;
    for (int n = 1; n <= 7; ++n)
      replies.push_back(ask<api_result>(t.trigger, hook_atom::value, hook_command("hook-1", event_body(n)).hook));
    run();
    for (const auto& reply : replies) {
      REQUIRE(reply->value);
      CHECK(reply_of(*reply->value).status == 202);
    }
  }
  REQUIRE(client->calls().size() == 2);
  CHECK(client->bodies()
        == std::vector<std::string>{batch_of(event_bodies(1, 3)), batch_of(event_bodies(4, 6))});
  CHECK(snapshot(t.trigger).live.pending_events == 1);
  advance(99ms, 1ms);
  CHECK(client->calls().size() == 2);
  advance(1ms, 1ms);
  REQUIRE(client->calls().size() == 3);
  CHECK(client->calls()[2].request.message.body == batch_of({event_body(7)}));
  CHECK(client->calls()[2].sent == at(100ms));
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.fires == 3);
  CHECK(snap.live.pending_events == 0);
  CHECK(journal->pending_seqs(hook1).empty());
}

TEST_CASE_METHOD(actor_fixture, "a partial batch waits the whole window counted from its first event",
                 "[trigger][delivery]") {
  // The window timer armed for a partial batch belongs to that batch: when it leaves full, a later partial batch
  // must wait for a window of its own, not go out when the old timer falls due.
  client->answer_all(202);
  auto t = start_webhook_trigger(*this, hook1, R"({"batchSize": 3, "batchWindowMs": 100})");
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202); // +0 ms: the window starts
  advance(10ms, 1ms);
  REQUIRE(post_event(*this, t.trigger, event_body(2)).status == 202);
  REQUIRE(post_event(*this, t.trigger, event_body(3)).status == 202); // a full batch goes out at once
  REQUIRE(client->calls().size() == 1);
  advance(80ms, 1ms);
  REQUIRE(post_event(*this, t.trigger, event_body(4)).status == 202); // +90 ms: a new partial batch
  advance(99ms, 1ms);
  CHECK(client->calls().size() == 1); // +189 ms
  advance(1ms, 1ms);
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].sent == at(190ms));
  CHECK(client->calls()[1].request.message.body == batch_of({event_body(4)}));
}

TEST_CASE_METHOD(actor_fixture, "a batch the controller finds too large is halved until it fits and only a single "
                                "event still too large is dead-lettered", "[trigger][delivery]") {
  // Event 2 alone is too large for the controller.
  client->respond_with([](const client_request& req, std::size_t) {
    return req.message.body.find(R"("big":true)") != std::string::npos ? http_answer(413, "payload too large")
                                                                        : http_answer(202);
  });
  auto t = start_webhook_trigger(*this, hook1, R"({"batchSize": 4, "batchWindowMs": 100})");
  std::vector<std::string> bodies{event_body(1), R"({"n":2,"big":true})", event_body(3), event_body(4)};
  for (const auto& body : bodies)
    REQUIRE(post_event(*this, t.trigger, body).status == 202);
  run();
  CHECK(client->bodies()
        == std::vector<std::string>{batch_of(bodies), batch_of({bodies[0], bodies[1]}), batch_of({bodies[0]}),
                                    batch_of({bodies[1]}), batch_of({bodies[2], bodies[3]})});
  auto letters = journal->dead_letters(hook1);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].event.seq == 2);
  CHECK(letters[0].event.body == bodies[1]);
  CHECK(letters[0].status_code == 413);
  CHECK(letters[0].error == "HTTP 413: payload too large");
  CHECK(letters[0].attempts == 1);
  CHECK(journal->pending_seqs(hook1).empty());
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.dead_letters == 1);
  CHECK(snap.status.fires == 2);
  CHECK(snap.status.state == registration_state::active);
  CHECK(snap.live.pending_events == 0);
}

// -- the end of a schedule -------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "after maxTriggers the queued fires still go out while the registration is disabled",
                 "[trigger][delivery]") {
  auto t = start_alarm(*this, every1, R"({"seconds": 1, "maxTriggers": 2})");
  advance(2s);
  // The first fire is unanswered; the second occurrence waits behind it and used up maxTriggers.
  REQUIRE(client->calls().size() == 1);
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("maxTriggers"));
  CHECK(snap.status.triggers_left == 0);
  CHECK(snap.live.pending_events == 2);
  client->answer(0, 200);
  run();
  REQUIRE(client->calls().size() == 2); // draining: the last fire goes out after the registration was disabled
  CHECK(client->calls()[1].sent == at(2s));
  client->answer(1, 503);
  run();
  advance(250ms, 10ms);
  REQUIRE(client->calls().size() == 3); // and is retried like any other
  CHECK(client->calls()[2].sent == at(2250ms));
  client->answer(2, 200);
  run();
  snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.fires == 2);
  CHECK(snap.live.pending_events == 0);
  auto stored = stored_statuses(*journal, every1);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().fires == 2);
  CHECK(stored.back().state == registration_state::disabled);
  advance(5s);
  CHECK(client->calls().size() == 3);
}

TEST_CASE_METHOD(actor_fixture, "a one-shot alarm with deleteAfterFire asks for its removal only once a retried fire "
                                "succeeded", "[trigger][delivery]") {
  auto t = start_alarm(*this, every1, R"({"date": "2026-01-01T00:00:05Z", "deleteAfterFire": true})");
  advance(5s);
  REQUIRE(client->calls().size() == 1);
  client->answer(0, 503);
  run();
  CHECK(snapshot(t.trigger).status.state == registration_state::disabled);
  CHECK(t.registry_log->find(remove_atom::value).empty());
  advance(250ms, 10ms);
  REQUIRE(client->calls().size() == 2);
  CHECK(t.registry_log->find(remove_atom::value).empty());
  client->answer(1, 204);
  run();
  auto removes = t.registry_log->find(remove_atom::value);
  REQUIRE(removes.size() == 1);
  CHECK(t.registry_log->messages[removes[0]].get_as<trigger_ref>(1) == every1);
}

TEST_CASE_METHOD(actor_fixture, "a one-shot alarm with deleteAfterFire whose fire was dead-lettered is not removed",
                 "[trigger][delivery]") {
  auto t = start_alarm(*this, every1,
                       R"({"date": "2026-01-01T00:00:05Z", "deleteAfterFire": true, "retryAttempts": 1})");
  advance(5s);
  REQUIRE(client->calls().size() == 1);
  client->answer(0, 500);
  advance(5s);
  CHECK(t.registry_log->find(remove_atom::value).empty());
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.dead_letters == 1);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(journal->dead_letters(every1).size() == 1);
}
