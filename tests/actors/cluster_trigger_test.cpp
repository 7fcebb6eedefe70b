// A trigger in cluster mode: its changes carry the lease it runs under, its alarm occurrences are recorded as taken
// before they fire, it stops once the store refuses a change because the lease moved on, and its fires wait for the
// fire fence.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "core/shard.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref ticker{"guest", "ticker"};

/// The lease the tests' triggers run under.
fencing_token lease_of(const trigger_ref& trigger, std::int64_t epoch = 3) {
  return {shard_of(trigger), epoch};
}

trigger_harness start_alarm(actor_fixture& f, std::string_view params_json, std::optional<fencing_token> fence,
                            std::optional<sys_ms> last_occurrence = std::nullopt) {
  // Created at the test's start, whenever it is started: interval alarms count from there.
  auto record = make_record(ticker, params_json, test_epoch());
  record.status.last_occurrence = last_occurrence;
  auto config = alarm_config(params_json, test_epoch(), ticker);
  return start_trigger(f, std::move(record), std::move(config), fence);
}

/// Requires the newest write of the ticker to be the status that records `occurrence` as taken; returns that write.
store_op require_taken(const store_journal& journal, sys_ms occurrence) {
  auto ops = journal.ops_for(ticker);
  REQUIRE_FALSE(ops.empty());
  CHECK(ops.back().op == store_op::kind::put_status);
  CHECK(ops.back().record.status.last_occurrence == occurrence);
  return ops.back();
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a trigger under a lease records each occurrence as taken before it fires it",
                 "[trigger][cluster]") {
  auto fence = lease_of(ticker);
  journal->leases[fence.shard] = fence.epoch;
  client->answer_none();
  start_alarm(*this, R"({"seconds": 1})", fence);
  advance(1s);
  REQUIRE(client->calls().size() == 1);
  // The commit before the fire holds the occurrence, under the lease.
  auto taken = require_taken(*journal, at(1s));
  REQUIRE(taken.fence);
  CHECK(taken.fence->epoch == fence.epoch);
  client->answer(0, 202);
  run();
  for (const auto& op : journal->ops_for(ticker))
    CHECK(op.fence);
}

TEST_CASE_METHOD(actor_fixture, "one instance fires an occurrence without waiting for its record",
                 "[trigger][cluster]") {
  client->answer_none();
  start_alarm(*this, R"({"seconds": 1})", std::nullopt);
  advance(1s);
  CHECK(client->calls().size() == 1);
  CHECK(journal->commits.empty());
}

TEST_CASE_METHOD(actor_fixture, "one instance records a catchUp registration's occurrence as taken before it fires "
                                "it, so that a start after a crash cannot fire it again as missed",
                 "[trigger][cluster]") {
  client->answer_none();
  start_alarm(*this, R"({"seconds": 1, "catchUp": true})", std::nullopt);
  advance(1s);
  REQUIRE(client->calls().size() == 1);
  require_taken(*journal, at(1s));
}

TEST_CASE_METHOD(actor_fixture, "an occurrence whose record the store fences is not fired and the trigger stops",
                 "[trigger][cluster]") {
  auto fence = lease_of(ticker);
  journal->leases[fence.shard] = fence.epoch;
  client->answer_all(202);
  start_alarm(*this, R"({"seconds": 1})", fence);
  advance(2500ms);
  REQUIRE(client->calls().size() == 2);
  // Another instance took the shard over.
  journal->leases[fence.shard] = fence.epoch + 1;
  advance(5s);
  CHECK(client->calls().size() == 2);
  CHECK(journal->fenced == std::vector<trigger_ref>{ticker});
  // It stores nothing more, either.
  auto commits = journal->commits.size();
  advance(5s);
  CHECK(journal->commits.size() == commits);
}

TEST_CASE_METHOD(actor_fixture, "a fire is not sent while the fire fence is closed, and is retried once it opens",
                 "[trigger][cluster][firer]") {
  auto fence = lease_of(ticker);
  journal->leases[fence.shard] = fence.epoch;
  auto gate = std::make_shared<fire_fence>();
  env->fence = gate;
  client->answer_all(202);
  start_alarm(*this, R"({"seconds": 60})", fence);
  // The lease's deadline passed (a frozen process, a server out of reach): the occurrence at 60 s is not sent.
  advance(61s);
  CHECK(client->calls().empty());
  // Renewed: the retry goes out.
  gate->open_until(fence.shard, sys.clock().now() + std::chrono::hours{1});
  advance(5s);
  REQUIRE(client->calls().size() == 1);
  CHECK(client->sent_times()[0] > at(60s));
}

TEST_CASE_METHOD(actor_fixture, "a trigger taken over starts with an occurrence that fell due within the late "
                                "tolerance, and not one before its last taken", "[trigger][cluster]") {
  auto fence = lease_of(ticker);
  journal->leases[fence.shard] = fence.epoch;
  client->answer_all(202);
  advance(10'600ms);
  // The previous owner took 9 s and stopped; 10 s fell due 600 ms ago, in the hand-over.
  start_alarm(*this, R"({"seconds": 1, "startDate": "2026-01-01T00:00:01Z"})", fence, at(9s));
  run();
  REQUIRE(client->calls().size() == 1);
  advance(500ms);
  CHECK(client->calls().size() == 2);
}

TEST_CASE_METHOD(actor_fixture, "catchUp fires the latest missed occurrence once, late, and goes on from now",
                 "[trigger][cluster]") {
  client->answer_all(202);
  advance(30'500ms);
  // Taken up to 20 s, then nobody ran it until now (30.5 s): 21 s to 30 s were missed.
  start_alarm(*this, R"({"seconds": 1, "catchUp": true, "trigger_payload": {"x": 1}})", std::nullopt, at(20s));
  run();
  REQUIRE(client->calls().size() == 1);
  CHECK(json_at(client->bodies()[0], "late") == "true");
  CHECK(json_at(client->bodies()[0], "x") == "1");
  advance(600ms);
  REQUIRE(client->calls().size() == 2);
  CHECK(client->sent_times()[1] == at(31s));
  CHECK_FALSE(json_at(client->bodies()[1], "late"));
}

TEST_CASE_METHOD(actor_fixture, "without catchUp the occurrences missed are skipped", "[trigger][cluster]") {
  client->answer_all(202);
  advance(30'500ms);
  start_alarm(*this, R"({"seconds": 1})", std::nullopt, at(20s));
  run();
  CHECK(client->calls().empty());
  advance(600ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(31s)});
}

TEST_CASE_METHOD(actor_fixture, "a webhook event the store fences is answered as not this instance's",
                 "[trigger][cluster][webhook]") {
  auto record = make_webhook_record(ticker, "hook-1", "{}", now());
  auto config = webhook_config(record.params_json, now(), ticker);
  auto fence = lease_of(ticker);
  journal->leases[fence.shard] = fence.epoch + 1;
  auto t = start_trigger(*this, std::move(record), std::move(config), fence);
  auto first = post_event(*this, t.trigger, R"({"n":1})");
  CHECK(first.status == 421);
  CHECK(post_event(*this, t.trigger, R"({"n":2})").status == 421);
  CHECK(journal->pending_seqs(ticker).empty());
}
