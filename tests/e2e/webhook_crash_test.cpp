#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// Events posted before the crash: enough that several group commits are involved, few enough to stay fast.
constexpr int event_count = 50;

/// How long the restarted provider may take to fire every pending event; reached only when something is broken.
constexpr auto drain_timeout = 15s;

/// How long the slow controller takes per answer.
constexpr std::chrono::milliseconds slow_answer{20};

/// Fires the slow controller answers before it holds the next answers back for longer than the test runs: the kill
/// comes once the fire after them arrived, so it lands in the middle of the stream, however fast the events came.
constexpr int answered_before_kill = 10;

/// Longer than the test: an answer held back this long never reaches the provider that asked.
constexpr auto never = std::chrono::seconds{600};

/// Returns the "id" member of each recorded fire of `trigger`, in the order the fires arrived.
std::vector<std::int64_t> fired_ids(const e2e_fixture& fx, const trigger_ref& trigger) {
  std::vector<std::int64_t> ids;
  for (const auto& fire : fx.fires_of(trigger)) {
    auto id = json_int_at(fire.body, "/id");
    INFO("fire without an id: " << fire.body);
    REQUIRE(id);
    ids.push_back(*id);
  }
  return ids;
}

std::set<std::int64_t> missing_from(const std::set<std::int64_t>& expected, const std::vector<std::int64_t>& seen) {
  auto missing = expected;
  for (auto id : seen)
    missing.erase(id);
  return missing;
}

} // namespace

// The process-level crash test of delivery rule 1: a 202 to a webhook sender means the event is stored or fired.
// Held: the controller refuses every fire until after the crash, so all events are pending at the kill. Slow: the
// controller answers the first fires after a short delay and then none, so the kill lands while events are being
// fired and removed from the store, with a fire on the wire. Fast: the controller answers at once, so most events are
// answered by their fire before their put is committed and are never written; the kill comes right after the last
// 202, and none of them may be missing afterwards.
TEST_CASE("every webhook event answered 202 before kill -9 is fired after the restart or dead-lettered",
          "[e2e][delivery]") {
  auto mode = GENERATE(as<std::string>{}, "held", "slow", "fast");
  INFO("controller: " << mode);
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "crash-safe-hook"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  auto hook = create_webhook(*first, trigger);

  if (mode == "held") {
    fx.controller().hold(trigger, 503);
  } else if (mode == "slow") {
    std::vector<fake_controller::scripted_answer> slow(event_count,
                                                       fake_controller::scripted_answer::after(never, 202));
    std::fill_n(slow.begin(), answered_before_kill, fake_controller::scripted_answer::after(slow_answer, 202));
    fx.controller().script(trigger, std::move(slow));
  }
  std::set<std::int64_t> accepted;
  for (int id = 1; id <= event_count; ++id) {
    post_event(*first, hook, R"({"id":)" + std::to_string(id) + R"(,"kind":"push"})");
    accepted.insert(id);
  }
  // At least one attempt was made, so the crash also interrupts a fire in flight or being retried; when slow, the
  // fire after the answered ones is on the wire.
  const auto attempts_before_kill = mode == "held" ? 1 : answered_before_kill + 1;
  REQUIRE(fx.controller().wait_for_attempts(trigger, attempts_before_kill, drain_timeout));
  auto status = first->kill();
  CHECK(status.signal == SIGKILL);
  first.reset();
  auto fired_before = fx.fires_of(trigger).size();
  INFO("fires before the crash: " << fired_before);
  if (mode == "held")
    fx.controller().release(trigger);
  else if (mode == "slow")
    fx.controller().script(trigger, {});
  // The slow mode is only useful when the kill came in the middle of the stream.
  if (mode == "slow") {
    CHECK(fired_before >= static_cast<std::size_t>(answered_before_kill));
    CHECK(fired_before < static_cast<std::size_t>(event_count));
  }

  auto second = fx.start_feedrouter();
  // Woken by each fire; ends when every accepted id was seen, duplicates allowed (delivery is at-least-once).
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  for (;;) {
    auto seen = fx.fires_of(trigger).size();
    if (missing_from(accepted, fired_ids(fx, trigger)).empty())
      break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms || !fx.wait_for_fires_of(trigger, seen + 1, left))
      break;
  }
  auto ids = fired_ids(fx, trigger);
  auto missing = missing_from(accepted, ids);
  // What did not fire must be a dead letter (the held first event could have run out of attempts).
  auto letters = read_dead_letters(*second, trigger);
  auto letter_count = json_int_at(letters, "/count").value_or(0);
  for (std::int64_t i = 0; i < letter_count; ++i)
    if (auto id = json_int_at(letters, "/deadLetters/" + std::to_string(i) + "/payload/id"))
      missing.erase(*id);
  INFO("dead letters: " << letters);
  INFO("fired ids: " << Catch::Detail::stringify(ids));
  CAPTURE(missing);
  CHECK(missing.empty());

  // Per-trigger order is kept: the first fire of each id comes in the order the events were accepted.
  std::vector<std::int64_t> first_fires;
  std::set<std::int64_t> seen_once;
  for (auto id : ids)
    if (seen_once.insert(id).second)
      first_fires.push_back(id);
  CHECK(std::is_sorted(first_fires.begin(), first_fires.end()));

  // Nothing is left waiting once all fired. The counter moves when an answer is processed: no event announces
  // that, so poll the READ briefly.
  CHECK(poll_until(
    [&] { return json_int_at(read_registration(*second, trigger), "/status/pendingEvents") == 0; }, 5s));
  second->stop_cleanly();
}
