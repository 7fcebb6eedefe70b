// Delivery rule 5.4 at process level: an alarm occurrence fires at most once, also when the process is killed while
// its fire is on the wire. The controller holds the answer to that fire, so the occurrence is taken and unanswered at
// the kill; the restarted provider must not fire it again.

#include <signal.h>

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "core/time_format.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

using answer = fake_controller::scripted_answer;

/// How long a test waits for the alarm's one fire, or for the restarted provider to settle; reached only when
/// something is broken.
constexpr auto fire_timeout = 10s;

/// How far ahead the one-shot date lies: time enough for the CREATE to be answered before it.
constexpr auto date_ahead = 3s;

/// Longer than the test: the fire's answer never comes while the provider that sent it lives.
constexpr auto never = 600s;

} // namespace

TEST_CASE("an alarm occurrence whose fire is on the wire at kill -9 is not fired again after the restart",
          "[e2e][alarm][crash]") {
  // A one-shot date: after the restart its occurrence has passed, and nothing may bring it back (not a stored event,
  // not a late-fire tolerance). maxTriggers 1: the count taken is what must survive, or the schedule would go on.
  auto schedule = GENERATE(as<std::string>{}, "date", "maxTriggers");
  INFO("schedule: " << schedule);
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "once-only"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().script(trigger, {answer::after(never, 202)});
  auto first = fx.start_feedrouter();
  const auto body = schedule == "date"
                      ? R"({"feed":"alarm","date":")" + format_iso8601(now_ms() + date_ahead) + R"("})"
                      : std::string{R"({"feed":"alarm","cron":"* * * * * *","maxTriggers":1})"};
  auto created = first->call(api_request("PUT", trigger_path(trigger), alice_key, body));
  INFO("CREATE: " << created.body);
  REQUIRE(created.status == 201);
  // The fire arrived (a 2xx is recorded on arrival) and its answer is held: the occurrence is on the wire.
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  auto status = first->kill();
  CHECK(status.signal == SIGKILL);
  first.reset();

  auto second = fx.start_feedrouter();
  // The schedule has ended: the registration settles as disabled. Any fire the restart would make of the occurrence
  // is handed to the firer before that, and SIGTERM waits for a fire in flight, so the count below is final.
  std::string read;
  CHECK(poll_until(
    [&] {
      read = read_registration(*second, trigger);
      return json_string_at(read, "/status/state") == "disabled";
    },
    fire_timeout));
  INFO("READ after the restart: " << read);
  CHECK(json_string_at(read, "/status/reason/kind") == "AUTO");
  second->stop_cleanly();
  CHECK(fx.controller().attempt_count(trigger) == 1);
  CHECK(fx.fires_of(trigger).size() == 1);
}
