// A trigger on the process-wide byte budget (docs/delivery.md "Memory"): event bodies beyond it wait in the store
// and are read back through the store actor, in order, as the budget allows.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "core/delivery_core.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref hook1{"guest", "hook1"};
const trigger_ref every1{"guest", "every1"};

/// The budget of these tests: 8 KiB, so a registration's share and the reserve are 1 KiB each.
constexpr std::size_t budget_bytes = 8 * 1024;

/// An event body of about 400 bytes, numbered `n`.
std::string large_body(int n) {
  return R"({"n":)" + std::to_string(n) + R"(,"pad":")" + std::string(400, 'x') + R"("})";
}

/// Gives the fixture's triggers a byte budget of budget_bytes; returns it.
std::shared_ptr<byte_budget> use_budget(actor_fixture& f) {
  auto budget = std::make_shared<byte_budget>(byte_budget::limits_for(budget_bytes));
  f.env->budget = budget;
  return budget;
}

/// Answers every request sent so far and not answered with 202, delivering what follows.
void answer_open_fires(actor_fixture& f) {
  for (std::size_t i = 0; i < f.client->calls().size(); ++i) {
    if (!f.client->calls()[i].answered) {
      f.client->answer(i, 202, R"({"activationId":"abc"})");
      f.run();
    }
  }
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "webhook events beyond the budget wait in the store and are fired from it, in order",
                 "[trigger][budget]") {
  auto budget = use_budget(*this);
  client->answer_none();
  auto t = start_webhook_trigger(*this, hook1);
  for (int n = 1; n <= 12; ++n)
    REQUIRE(post_event(*this, t.trigger, large_body(n)).status == 202);
  CHECK(snapshot(t.trigger).live.pending_events == 12);
  // One body in its fire, one more within the registration's share: the rest is only in the store.
  CHECK(budget->held() <= budget->bounds().share);
  CHECK(journal->pending_seqs(hook1).size() == 12);
  for (int guard = 0; guard < 100 && client->unanswered() > 0; ++guard)
    answer_open_fires(*this);
  CHECK(client->bodies() == std::vector<std::string>{large_body(1), large_body(2), large_body(3), large_body(4),
                                                     large_body(5), large_body(6), large_body(7), large_body(8),
                                                     large_body(9), large_body(10), large_body(11), large_body(12)});
  CHECK(journal->pending_reads > 0);
  CHECK(journal->pending_seqs(hook1).empty());
  CHECK(budget->held() == 0);
}

TEST_CASE_METHOD(actor_fixture, "a failed read of pending events is tried again after a delay, and nothing is lost",
                 "[trigger][budget]") {
  use_budget(*this);
  client->answer_none();
  auto t = start_webhook_trigger(*this, hook1);
  for (int n = 1; n <= 4; ++n)
    REQUIRE(post_event(*this, t.trigger, large_body(n)).status == 202);
  journal->pending_reads_fail = true;
  answer_open_fires(*this);
  answer_open_fires(*this);
  auto calls = client->calls().size();
  auto reads = journal->pending_reads;
  CHECK(reads > 0);
  // Nothing goes out while the store cannot be read; the read is tried again after the delay.
  advance(delivery_core::load_retry_delay);
  CHECK(journal->pending_reads > reads);
  CHECK(client->calls().size() == calls);
  journal->pending_reads_fail = false;
  advance(delivery_core::load_retry_delay);
  for (int guard = 0; guard < 100 && client->unanswered() > 0; ++guard)
    answer_open_fires(*this);
  CHECK(client->bodies()
        == std::vector<std::string>{large_body(1), large_body(2), large_body(3), large_body(4)});
}

TEST_CASE_METHOD(actor_fixture, "a trigger waiting for bytes is woken when another registration gives them back",
                 "[trigger][budget]") {
  auto budget = use_budget(*this);
  client->answer_none();
  auto t = start_webhook_trigger(*this, hook1);
  REQUIRE(post_event(*this, t.trigger, large_body(1)).status == 202);
  REQUIRE(post_event(*this, t.trigger, large_body(2)).status == 202);
  // The first fire fails: its body is gone with it, and while it is retried the queue waits in the store.
  client->answer(0, 503);
  run();
  CHECK(budget->held() == 0);
  // Other registrations take the whole budget, the reserve included.
  byte_account others{budget, [] {}};
  REQUIRE(others.take(budget->bounds().total - budget->bounds().reserve, byte_account::wait::no));
  byte_account small{budget, [] {}};
  REQUIRE(small.take(budget->bounds().reserve, byte_account::wait::no));
  // The retry must read the body back, and there is no room for it.
  advance(2s);
  CHECK(client->calls().size() == 1);
  CHECK(budget->waiting() == 1);
  others.give_back(others.held());
  run();
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].request.message.body == large_body(1));
}

TEST_CASE_METHOD(actor_fixture, "alarm occurrences waiting for a slow controller hold no bodies of their own",
                 "[trigger][budget][alarm]") {
  auto budget = use_budget(*this);
  client->answer_none();
  auto params = R"({"seconds": 1, "trigger_payload": {"pad": ")" + std::string(2000, 'x') + R"("}})";
  auto record = make_record(every1, params, now());
  auto config = alarm_config(params, now(), every1);
  auto t = start_trigger(*this, std::move(record), std::move(config));
  advance(20s);
  CHECK(snapshot(t.trigger).live.pending_events >= 19);
  // The fire on the wire copies the body; the occurrences waiting share one.
  CHECK(budget->held() == 0);
}
