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

} // namespace

// -- refusals that disable ---------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "a 400, 401, 403 or 404 disables the registration and keeps the stored event for "
                                "after the resume", "[trigger][webhook][delivery]") {
  auto status = GENERATE(400, 401, 403, 404);
  CAPTURE(status);
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  REQUIRE(client->calls().size() == 1);
  client->answer(0, status, R"({"error":"refused"})");
  run();
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK(snap.status.reason.status_code == status);
  CHECK_THAT(snap.status.reason.message, Catch::Contains("HTTP " + std::to_string(status)));
  CHECK_THAT(snap.status.reason.message, Catch::Contains("refused"));
  CHECK(snap.status.failures == 1);
  CHECK(snap.status.dead_letters == 0);
  CHECK(snap.status.date_changed == at(0s));
  CHECK(snap.live.pending_events == 1);
  auto stored = stored_statuses(*journal, hook1);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.back().state == registration_state::disabled);
  CHECK(stored.back().reason.kind == reason_kind::automatic);
  CHECK(stored.back().reason.status_code == status);
  // The event is not lost: it stays pending in the store, and nothing is retried.
  CHECK(journal->pending_seqs(hook1) == std::vector<std::uint64_t>{1});
  CHECK(journal->count(store_op::kind::erase_event) == 0);
  CHECK(journal->dead_letters(hook1).empty());
  // New events are refused while disabled.
  auto refused = post_event(*this, t.trigger, event_body(2));
  CHECK(refused.status == 503);
  CHECK_THAT(json_string_at(refused.body, "error").value_or(""), Catch::Contains("disabled"));
  advance(2min, 1s);
  CHECK(client->calls().size() == 1);
  // Resuming fires the kept event first.
  client->answer_all(202);
  auto resumed = call<trigger_snapshot>(t.trigger, resume_atom::value);
  CHECK(resumed.status.state == registration_state::active);
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].request.message.body == event_body(1));
  CHECK(journal->pending_seqs(hook1).empty());
  snap = snapshot(t.trigger);
  CHECK(snap.status.fires == 1);
  CHECK(snap.live.pending_events == 0);
}

TEST_CASE_METHOD(actor_fixture, "a 404 on an alarm fire disables the registration and its schedule stops",
                 "[trigger][delivery]") {
  auto record = make_record(every1, R"({"seconds": 1})", now());
  auto t = start_trigger(*this, record, alarm_config(R"({"seconds": 1})", now(), every1));
  advance(1s);
  REQUIRE(client->calls().size() == 1);
  client->answer(0, 404, R"({"error":"The requested resource does not exist."})");
  advance(10s);
  CHECK(client->calls().size() == 1);
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::disabled);
  CHECK(snap.status.reason.kind == reason_kind::automatic);
  CHECK(snap.status.reason.status_code == 404);
  CHECK_FALSE(snap.live.next_fire);
}

TEST_CASE_METHOD(actor_fixture, "a 413 on a single event dead-letters that event only and the next one is fired",
                 "[trigger][webhook][delivery]") {
  client->respond_with([](const client_request& req, std::size_t) {
    return req.message.body.find(R"("big":true)") != std::string::npos ? http_answer(413, "too large")
                                                                        : http_answer(202);
  });
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, R"({"n":1,"big":true})").status == 202);
  REQUIRE(post_event(*this, t.trigger, event_body(2)).status == 202);
  CHECK(client->bodies() == std::vector<std::string>{R"({"n":1,"big":true})", event_body(2)});
  auto letters = journal->dead_letters(hook1);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].event.seq == 1);
  CHECK(letters[0].event.body == R"({"n":1,"big":true})");
  CHECK(letters[0].status_code == 413);
  CHECK(letters[0].error == "HTTP 413: too large");
  CHECK(letters[0].attempts == 1);
  CHECK(letters[0].failed == at(0s));
  CHECK(journal->pending_seqs(hook1).empty());
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.state == registration_state::active);
  CHECK(snap.status.dead_letters == 1);
  CHECK(snap.status.failures == 1);
  CHECK(snap.status.fires == 1);
  // The dead letter and the event's removal from the pending ones are one transaction.
  bool together = false;
  for (const auto& commit : journal->commits) {
    bool put = false;
    bool erased = false;
    for (const auto& op : commit) {
      put = put || (op.op == store_op::kind::put_dead_letter && op.letter.event.seq == 1);
      erased = erased || (op.op == store_op::kind::erase_event && op.event.seq == 1);
    }
    together = together || (put && erased);
  }
  CHECK(together);
}

// -- dead letters after retries ------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "an event whose retryAttempts are used up goes to dead letters with the last status, "
                                "error and attempts", "[trigger][webhook][delivery]") {
  auto t = start_webhook_trigger(*this, hook1, R"({"retryAttempts": 3})");
  client->respond_with([](const client_request& req, std::size_t index) {
    if (req.message.body != R"({"n":1})")
      return http_answer(202);
    return index == 2 ? transport_error("connect: Connection refused") : http_answer(502, "bad gateway");
  });
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  REQUIRE(post_event(*this, t.trigger, event_body(2)).status == 202);
  advance(5s, 10ms);
  // Attempts at +0, +250 and +750 ms (half of each ceiling); then the next event.
  CHECK(client->sent_times() == std::vector<sys_ms>{at(0ms), at(250ms), at(750ms), at(750ms)});
  CHECK(client->bodies()
        == std::vector<std::string>{event_body(1), event_body(1), event_body(1), event_body(2)});
  auto letters = journal->dead_letters(hook1);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].event.seq == 1);
  CHECK(letters[0].event.body == event_body(1));
  CHECK(letters[0].event.accepted == at(0s));
  CHECK(letters[0].failed == at(750ms));
  CHECK(letters[0].status_code == 0);
  CHECK(letters[0].error == "connect: Connection refused");
  CHECK(letters[0].attempts == 3);
  CHECK(journal->pending_seqs(hook1).empty());
  auto snap = snapshot(t.trigger);
  CHECK(snap.status.dead_letters == 1);
  CHECK(snap.status.failures == 1);
  CHECK(snap.status.fires == 1);
  CHECK(snap.status.state == registration_state::active);
}

TEST_CASE_METHOD(actor_fixture, "the provider's max_attempts applies unless the registration sets retryAttempts",
                 "[trigger][delivery]") {
  env->retries.max_attempts = 2;
  client->answer_all(503, "busy");
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  advance(1min, 10ms);
  CHECK(client->calls().size() == 2);
  auto letters = journal->dead_letters(hook1);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].status_code == 503);
  CHECK(letters[0].error == "HTTP 503: busy");
  CHECK(letters[0].attempts == 2);
}

TEST_CASE_METHOD(actor_fixture, "an event older than retryMaxAgeSeconds is dead-lettered instead of retried",
                 "[trigger][webhook][delivery]") {
  client->answer_all(503);
  auto t = start_webhook_trigger(*this, hook1, R"({"retryMaxAgeSeconds": 1})");
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  advance(1min, 10ms);
  // Back-offs of 250 and 500 ms; the next one (1000 ms at +750 ms) would end after the age limit of 1 s.
  CHECK(client->sent_times() == std::vector<sys_ms>{at(0ms), at(250ms), at(750ms)});
  auto letters = journal->dead_letters(hook1);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].failed == at(750ms));
  CHECK(letters[0].status_code == 503);
  CHECK(letters[0].attempts == 3);
  CHECK(snapshot(t.trigger).status.dead_letters == 1);
}
