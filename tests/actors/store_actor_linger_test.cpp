// The store actor's lingering writes (write_atom with linger_atom): the changes no fire waits for wait up to the event
// delay for others to share their commit, and a webhook event erased (fired) before its put was committed is never
// written.

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/store_actor.hpp"
#include "core/shard.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

constexpr auto event_delay = std::chrono::milliseconds{2};

const trigger_ref mine{"guest", "mine"};
const trigger_ref moved{"guest", "moved"};

store_op event_op(store_op::kind kind, const trigger_ref& trigger, std::uint64_t seq,
                  std::optional<fencing_token> fence = std::nullopt) {
  store_op op;
  op.op = kind;
  op.record.trigger = trigger;
  op.event.seq = seq;
  if (kind == store_op::kind::put_event)
    op.event.body = R"({"n":)" + std::to_string(seq) + "}";
  op.fence = fence;
  return op;
}

store_op put_event(const trigger_ref& trigger, std::uint64_t seq, std::optional<fencing_token> fence = std::nullopt) {
  return event_op(store_op::kind::put_event, trigger, seq, fence);
}

store_op erase_event(const trigger_ref& trigger, std::uint64_t seq,
                     std::optional<fencing_token> fence = std::nullopt) {
  return event_op(store_op::kind::erase_event, trigger, seq, fence);
}

store_op status_op(const trigger_ref& trigger, std::optional<fencing_token> fence = std::nullopt) {
  store_op op;
  op.op = store_op::kind::put_status;
  op.record.trigger = trigger;
  op.fence = fence;
  return op;
}

/// Returns the kinds of `ops`, in order.
std::vector<store_op::kind> kinds(const std::vector<store_op>& ops) {
  std::vector<store_op::kind> out;
  for (const auto& op : ops)
    out.push_back(op.op);
  return out;
}

/// A store actor with the event delay, over its own journal that dates commits.
struct linger_fixture : actor_fixture {
  linger_fixture() {
    lingering_journal->clock = [this] { return now(); };
    store_watch watch;
    watch.event_delay = event_delay;
    lingering = spawn_store_actor(sys, std::make_unique<fake_store>(lingering_journal), store_thread::scheduler, watch);
    stop_at_teardown(caf::actor_cast<caf::actor>(lingering));
  }

  /// Sends `ops` as a lingering write; the answer lands in the returned slot.
  auto linger(std::vector<store_op> ops) {
    return ask<commit_atom>(lingering, write_atom::value, std::move(ops), linger_atom::value);
  }

  store_journal_ptr lingering_journal = std::make_shared<store_journal>();
  store_actor lingering;
};

} // namespace

TEST_CASE_METHOD(linger_fixture, "a lingering write waits for the event delay, and the erase of an event whose put "
                                 "still waits cancels both",
                 "[store_actor]") {
  auto puts = linger({put_event(mine, 1), put_event(mine, 2)});
  run();
  CHECK(lingering_journal->attempts == 0);
  sched.advance_time(event_delay / 2);
  auto done = linger({erase_event(mine, 1), status_op(mine)});
  run();
  CHECK(lingering_journal->attempts == 0);
  // The delay counts from the first write: both go in one transaction once it is over, without event 1.
  sched.advance_time(event_delay / 2);
  run();
  REQUIRE(lingering_journal->commits.size() == 1);
  CHECK(kinds(lingering_journal->commits[0])
        == std::vector<store_op::kind>{store_op::kind::put_event, store_op::kind::put_status});
  CHECK(lingering_journal->pending_seqs(mine) == std::vector<std::uint64_t>{2});
  CHECK(puts->value);
  CHECK(done->value);
}

TEST_CASE_METHOD(linger_fixture, "an erase after its put was committed is written", "[store_actor]") {
  auto put = linger({put_event(mine, 1)});
  run();
  sched.advance_time(event_delay);
  run();
  REQUIRE(lingering_journal->commits.size() == 1);
  auto erase = linger({erase_event(mine, 1)});
  run();
  sched.advance_time(event_delay);
  run();
  REQUIRE(lingering_journal->commits.size() == 2);
  CHECK(kinds(lingering_journal->commits[1]) == std::vector<store_op::kind>{store_op::kind::erase_event});
  CHECK(lingering_journal->pending_seqs(mine).empty());
  CHECK(put->value);
  CHECK(erase->value);
}

TEST_CASE_METHOD(linger_fixture, "a write someone waits for takes the lingering writes along at once",
                 "[store_actor]") {
  auto event = linger({put_event(mine, 1)});
  auto record = ask<commit_atom>(lingering, put_atom::value, make_record(moved, R"({"seconds": 1})", now()));
  run();
  REQUIRE(lingering_journal->commits.size() == 1);
  CHECK(kinds(lingering_journal->commits[0])
        == std::vector<store_op::kind>{store_op::kind::put_event, store_op::kind::put_registration});
  CHECK(event->value);
  CHECK(record->value);
  // The commit armed for the lingering write finds nothing left: no empty transaction.
  sched.advance_time(event_delay);
  run();
  CHECK(lingering_journal->attempts == 1);
}

TEST_CASE_METHOD(linger_fixture, "a cancelled put leaves each request its own changes: a fenced one is told, the "
                                 "others commit",
                 "[store_actor][cluster]") {
  lingering_journal->leases[shard_of(mine)] = 4;
  lingering_journal->leases[shard_of(moved)] = 9;
  fencing_token lease{shard_of(mine), 4};
  fencing_token stale{shard_of(moved), 8};
  // The put leaves the batch; the requests after it must still be judged by their own changes.
  auto put = linger({put_event(mine, 1, lease)});
  auto fenced = linger({status_op(moved, stale)});
  auto erase = linger({erase_event(mine, 1, lease), status_op(mine, lease)});
  run();
  CHECK(lingering_journal->attempts == 0);
  sched.advance_time(event_delay);
  run();
  REQUIRE(lingering_journal->commits.size() == 1);
  // Applied: mine's status only (moved's is left out, the put and the erase cancelled each other).
  REQUIRE(lingering_journal->commits[0].size() == 1);
  CHECK(lingering_journal->commits[0][0].op == store_op::kind::put_status);
  CHECK(lingering_journal->commits[0][0].record.trigger == mine);
  CHECK(put->value);
  REQUIRE(fenced->error);
  CHECK(is_fenced(*fenced->error));
  CHECK(erase->value);
  CHECK(lingering_journal->fenced == std::vector<trigger_ref>{moved});
}
