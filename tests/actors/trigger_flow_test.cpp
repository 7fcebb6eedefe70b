#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref flow{"guest", "flow"};

/// The buffer bound of these tests: small, so that it is reached at once.
constexpr std::size_t buffer_limit = 10;

std::string item_body(std::int64_t k) {
  return R"({"k":)" + std::to_string(k) + "}";
}

std::string item_checkpoint(std::int64_t k) {
  return "cp-" + std::to_string(k);
}

/// Returns k of a checkpoint "cp-k"; 0 for the empty checkpoint.
std::int64_t checkpoint_index(const std::string& checkpoint) {
  return checkpoint.empty() ? 0 : std::stoll(checkpoint.substr(3));
}

/// Returns k of an item body {"k":k}.
std::int64_t body_index(const std::string& body) {
  return std::stoll(body.substr(5, body.size() - 6));
}

/// What the test sources saw and did.
struct source_probe {
  std::int64_t supply = 0; ///< items 1..supply exist; a source emits none beyond
  std::vector<std::pair<sys_ms, std::int64_t>> credits; ///< every credit grant a source received, with its time
  std::vector<source_args> starts;
  std::vector<caf::actor> sources;
  std::int64_t emitted = 0;
};

using source_probe_ptr = std::shared_ptr<source_probe>;

/// Returns a spawner of replayable sources: each starts after the item its checkpoint names and sends
/// `(event_atom, {"k":k}, "cp-k")` for the following items as fast as its credit allows.
source_spawner eager_source(actor_fixture& f, source_probe_ptr probe) {
  return [&f, probe](caf::local_actor* trigger, const source_args& args) -> source_actor {
    probe->starts.push_back(args);
    auto parent = caf::actor_cast<caf::actor>(trigger);
    auto first = checkpoint_index(args.checkpoint) + 1;
    auto src = trigger->spawn<caf::linked>([&f, probe, parent, first](caf::event_based_actor* self) -> caf::behavior {
      auto next = std::make_shared<std::int64_t>(first);
      return {
        [&f, self, probe, parent, next](credit_atom, std::int64_t n) {
          probe->credits.emplace_back(f.now(), n);
          for (std::int64_t i = 0; i < n && *next <= probe->supply; ++i, ++*next) {
            self->send(parent, event_atom::value, item_body(*next), item_checkpoint(*next));
            ++probe->emitted;
          }
        },
      };
    });
    probe->sources.push_back(src);
    return caf::actor_cast<source_actor>(src);
  };
}

/// Makes `source` exit as a crash would: with an error (not exit_reason::kill, which CAF propagates through links
/// unconditionally).
void crash(const caf::actor& source) {
  source->enqueue(nullptr, caf::make_message_id(),
                  caf::make_message(caf::exit_msg{source.address(),
                                                  caf::make_error(caf::sec::runtime_error, "connection lost")}),
                  nullptr);
}

trigger_harness start_flow(actor_fixture& f, source_probe_ptr probe) {
  f.env->spawn_source = eager_source(f, std::move(probe));
  f.env->max_buffered_events = buffer_limit;
  // An alarm registration serves as a registration with a source; the test source replaces the alarm.
  auto params_json = R"({"seconds": 3600})";
  return start_trigger(f, make_record(flow, params_json, f.now()), alarm_config(params_json, f.now(), flow));
}

/// Returns the checkpoints of the put_status operations committed for `flow`, in commit order.
std::vector<std::string> stored_checkpoints(const store_journal& journal) {
  std::vector<std::string> result;
  for (const auto& status : stored_statuses(journal, flow))
    result.push_back(status.checkpoint);
  return result;
}

std::int64_t latest_stored_checkpoint(const store_journal& journal) {
  auto all = stored_checkpoints(journal);
  return all.empty() ? 0 : checkpoint_index(all.back());
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a source gets no credit beyond the buffer bound while the controller answers 503, "
                                "and its checkpoint advances only after fires", "[trigger][delivery]") {
  auto probe = std::make_shared<source_probe>();
  probe->supply = 40;
  env->retries.max_attempts = 100; // the controller's 503s outlast the test's patience
  client->answer_all(503, "overloaded");
  auto t = start_flow(*this, probe);
  // The controller is down for five simulated minutes.
  for (int step = 0; step < 600; ++step) {
    advance(500ms, 100ms);
    auto snap = snapshot(t.trigger);
    REQUIRE(snap.live.pending_events <= static_cast<std::int64_t>(buffer_limit));
  }
  auto snap = snapshot(t.trigger);
  CHECK(snap.live.pending_events == static_cast<std::int64_t>(buffer_limit));
  CHECK(snap.live.retrying);
  CHECK(snap.status.fires == 0);
  // One grant filled the buffer; none followed while the firer backed off.
  REQUIRE(probe->credits.size() == 1);
  CHECK(probe->credits[0] == std::make_pair(at(0s), static_cast<std::int64_t>(buffer_limit)));
  CHECK(probe->emitted == static_cast<std::int64_t>(buffer_limit));
  // Only the first item was tried, again and again; no checkpoint was stored.
  REQUIRE(client->calls().size() > 10);
  for (const auto& body : client->bodies())
    CHECK(body == item_body(1));
  CHECK(latest_stored_checkpoint(*journal) == 0);
  CHECK(journal->dead_letters(flow).empty());
  // The controller recovers: every item flows, one fire at a time, and each checkpoint is stored only after the fire
  // of its item was answered.
  client->answer_none();
  advance(60s, 1s); // the pending retry goes out
  std::int64_t expected_next = 1;
  std::size_t answered = 0;
  while (client->unanswered() > 0) {
    REQUIRE(client->unanswered() == 1);
    auto index = client->calls().size() - 1;
    auto k = body_index(client->calls()[index].request.message.body);
    CHECK(k == expected_next);
    CHECK(latest_stored_checkpoint(*journal) == k - 1);
    client->answer(index, 202);
    run();
    CHECK(latest_stored_checkpoint(*journal) == k);
    REQUIRE(snapshot(t.trigger).live.pending_events <= static_cast<std::int64_t>(buffer_limit));
    ++expected_next;
    ++answered;
    REQUIRE(answered <= 100);
  }
  CHECK(expected_next == probe->supply + 1);
  snap = snapshot(t.trigger);
  CHECK(snap.status.fires == probe->supply);
  CHECK(snap.status.checkpoint == item_checkpoint(probe->supply));
  CHECK(snap.live.pending_events == 0);
  CHECK_FALSE(snap.live.retrying);
  // The stored checkpoint never moved backwards.
  auto checkpoints = stored_checkpoints(*journal);
  std::vector<std::int64_t> indexes;
  for (const auto& cp : checkpoints)
    indexes.push_back(checkpoint_index(cp));
  CHECK(std::is_sorted(indexes.begin(), indexes.end()));
}

TEST_CASE_METHOD(actor_fixture, "while events are dead-lettered one by one the source gets credit only as each "
                                "leaves, never while one is retried", "[trigger][delivery]") {
  auto probe = std::make_shared<source_probe>();
  probe->supply = 1000;
  env->retries.max_attempts = 4; // attempts at +0, +250, +750 and +1750 ms, then dead letters
  client->answer_all(503);
  auto t = start_flow(*this, probe);
  for (int step = 0; step < 1200; ++step) {
    advance(50ms, 50ms); // fine enough for the back-offs to fall due on time
    REQUIRE(snapshot(t.trigger).live.pending_events <= static_cast<std::int64_t>(buffer_limit));
  }
  auto letters = journal->dead_letters(flow);
  // 60 s / 1.75 s per item.
  CHECK(letters.size() == 34);
  CHECK(probe->credits.size() == 1 + letters.size());
  CHECK(probe->emitted == static_cast<std::int64_t>(buffer_limit + letters.size()));
  // Each item's attempts span [first, last]: no credit falls strictly inside.
  std::map<std::string, std::pair<sys_ms, sys_ms>> spans;
  for (const auto& call : client->calls()) {
    auto& body = call.request.message.body;
    auto [i, fresh] = spans.emplace(body, std::make_pair(call.sent, call.sent));
    if (!fresh)
      i->second.second = call.sent;
  }
  for (const auto& [when, amount] : probe->credits) {
    CHECK(amount == (when == at(0s) ? static_cast<std::int64_t>(buffer_limit) : 1));
    for (const auto& [body, span] : spans) {
      INFO(body << " credit at " << format_iso8601(when));
      CHECK_FALSE((when > span.first && when < span.second));
    }
  }
  // Dead letters count as done: the checkpoint follows them, in order.
  for (std::size_t i = 0; i < letters.size(); ++i)
    CHECK(letters[i].event.body == item_body(static_cast<std::int64_t>(i) + 1));
  CHECK(snapshot(t.trigger).status.checkpoint == item_checkpoint(static_cast<std::int64_t>(letters.size())));
  CHECK(latest_stored_checkpoint(*journal) == static_cast<std::int64_t>(letters.size()));
}

TEST_CASE_METHOD(actor_fixture, "a source restarted while the firer backs off gets no credit until a fire is done",
                 "[trigger][delivery]") {
  auto probe = std::make_shared<source_probe>();
  probe->supply = 1000;
  env->retries.max_attempts = 100;
  client->answer_all(503);
  auto t = start_flow(*this, probe);
  advance(2s, 100ms);
  REQUIRE(probe->sources.size() == 1);
  REQUIRE(snapshot(t.trigger).live.retrying);
  crash(probe->sources[0]);
  advance(10s, 100ms);
  REQUIRE(probe->starts.size() == 2);
  CHECK(probe->credits.size() == 1); // the first source's only grant
  CHECK(snapshot(t.trigger).live.pending_events <= static_cast<std::int64_t>(buffer_limit));
  CHECK(snapshot(t.trigger).status.state == registration_state::active);
}

TEST_CASE_METHOD(actor_fixture, "after a source crash each item is still fired once, in order, and the stored "
                                "checkpoint never moves backwards", "[trigger][delivery]") {
  // The crashed source's events are still queued: the restarted source must go on after the newest of them, not
  // replay from the stored checkpoint, or every buffered event would fire twice and the checkpoint would move back.
  auto probe = std::make_shared<source_probe>();
  probe->supply = 20;
  env->retries.max_attempts = 100;
  client->answer_all(503);
  auto t = start_flow(*this, probe);
  advance(2s, 100ms);
  REQUIRE(probe->sources.size() == 1);
  crash(probe->sources[0]);
  advance(1s, 100ms);
  REQUIRE(probe->starts.size() == 2);
  auto failed_calls = client->calls().size();
  client->answer_all(202);
  advance(60s, 1s);
  std::vector<std::int64_t> fired;
  for (auto i = failed_calls; i < client->calls().size(); ++i)
    fired.push_back(body_index(client->calls()[i].request.message.body));
  std::vector<std::int64_t> expected;
  for (std::int64_t k = 1; k <= probe->supply; ++k)
    expected.push_back(k);
  CHECK(fired == expected);
  std::vector<std::int64_t> indexes;
  for (const auto& cp : stored_checkpoints(*journal))
    indexes.push_back(checkpoint_index(cp));
  CHECK(std::is_sorted(indexes.begin(), indexes.end()));
  CHECK(snapshot(t.trigger).status.checkpoint == item_checkpoint(probe->supply));
}
