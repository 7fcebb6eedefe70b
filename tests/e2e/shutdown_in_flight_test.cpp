#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

using answer = fake_controller::scripted_answer;

/// How long a test waits for a fire or an attempt that should come at once; reached only when something is broken.
constexpr auto fire_timeout = 5s;

/// How slowly the controller answers the fire in flight at SIGTERM.
constexpr auto slow_answer = 1000ms;

/// A --shutdown-grace far longer than the process may take to exit (feedrouter_process::exit_timeout): a process that
/// exits in time did not wait for the whole grace.
constexpr auto long_grace = "60";

/// Longer than the test: an answer held back this long never reaches the provider that asked.
constexpr auto never = 600s;

} // namespace

TEST_CASE("SIGTERM waits for a fire in flight within --shutdown-grace and the fire stays counted", "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "slow-controller"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().script(trigger, {answer::after(slow_answer, 202)});
  auto first = fx.start_feedrouter({"--shutdown-grace", long_grace});
  auto hook = create_webhook(*first, trigger);
  post_event(*first, hook, R"({"id":1})");
  // The controller has the fire (and recorded it) and holds its answer back for a second.
  REQUIRE(fx.controller().wait_for_attempts(trigger, 1, fire_timeout));

  // It waits for the answer, not for the whole grace period: terminate() fails the test unless the process exits
  // within exit_timeout, far less than the grace.
  auto status = first->terminate();
  {
    INFO("feedrouter stderr:\n" << first->process().stderr_text());
    INFO("exit code " << status.code << ", signal " << status.signal);
    CHECK(status.exited());
    CHECK(status.code == 0);
  }
  first.reset();

  // It waited for the answer: the fire is counted and nothing is pending.
  auto second = fx.start_feedrouter();
  auto read = read_registration(*second, trigger);
  INFO("READ after restart: " << read);
  CHECK(json_int_at(read, "/status/fires") == 1);
  CHECK(json_string_at(read, "/status/lastFired"));
  CHECK(json_int_at(read, "/status/pendingEvents") == 0);
  // The answered event is not fired again: a later event is the next fire (order is kept, so a repeat of the first
  // would arrive before it).
  post_event(*second, hook, R"({"id":2})");
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 2);
  CHECK(json_int_at(fires[0].body, "/id") == 1);
  CHECK(json_int_at(fires[1].body, "/id") == 2);
  second->stop_cleanly();
}

TEST_CASE("SIGTERM with a fire slower than --shutdown-grace exits 0 after the grace and the event fires again",
          "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "very-slow-controller"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  // Slower than the test: the provider must give up on it.
  fx.controller().script(trigger, {answer::after(never, 202)});
  auto first = fx.start_feedrouter({"--shutdown-grace", "0.3"});
  auto hook = create_webhook(*first, trigger);
  post_event(*first, hook, R"({"id":"unanswered"})");
  REQUIRE(fx.controller().wait_for_attempts(trigger, 1, fire_timeout));

  auto sent = std::chrono::steady_clock::now();
  auto status = first->terminate();
  auto took = std::chrono::steady_clock::now() - sent;
  {
    INFO("feedrouter stderr:\n" << first->process().stderr_text());
    INFO("exit code " << status.code << ", signal " << status.signal);
    CHECK(status.exited());
    CHECK(status.code == 0);
  }
  // It waited for the grace; and it exited (within exit_timeout) although the answer never came.
  CHECK(took >= 300ms);
  // The actors stopped by themselves: the unanswered fire, still in the I/O layer, holds nothing they wait for (its
  // completion once held the store actor, and the process waited for the exit watchdog's second grace period).
  CHECK(first->process().stderr_text().find("actors did not stop") == std::string::npos);
  first.reset();

  // The answer never reached the provider, so the event is still pending and fires again: at least once.
  auto second = fx.start_feedrouter();
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  auto fires = fx.fires_of(trigger);
  CHECK(json_string_at(fires[0].body, "/id") == "unanswered");
  CHECK(json_string_at(fires[1].body, "/id") == "unanswered");
  CHECK(poll_until(
    [&] { return json_int_at(read_registration(*second, trigger), "/status/pendingEvents") == 0; }, fire_timeout));
  second->stop_cleanly();
}
