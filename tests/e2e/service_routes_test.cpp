#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/support/process.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for fires of an every-second alarm; reached only when something is broken.
constexpr auto fire_timeout = 5s;

/// Returns the value of the sample line `name` (e.g. `feedrouter_fires_total{outcome="ok"}`) in Prometheus text.
std::optional<std::string> sample(const std::string& text, const std::string& name) {
  auto at = text.find('\n' + name + ' ');
  if (at == std::string::npos)
    return std::nullopt;
  auto begin = at + name.size() + 2;
  return text.substr(begin, text.find('\n', begin) - begin);
}

} // namespace

TEST_CASE("/health and /ready and /metrics answer 200 and /metrics counts fires", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "metered"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();

  auto health = fr->call(api_request("GET", "/health"));
  CHECK(health.status == 200);
  CHECK(json_string_at(health.body, "/status") == "ok");
  auto ready = fr->call(api_request("GET", "/ready"));
  CHECK(ready.status == 200);
  CHECK(json_at(ready.body, "/ready") == "true");
  auto metrics = fr->call(api_request("GET", "/metrics"));
  INFO(metrics.body);
  CHECK(metrics.status == 200);
  CHECK_THAT(std::string{metrics.field("Content-Type")}, Catch::StartsWith("text/plain"));
  CHECK_THAT(metrics.body, Catch::Contains("feedrouter_fires_total"));
  CHECK(sample(metrics.body, R"(feedrouter_fires_total{outcome="ok"})") == "0");

  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, alarm_body(every_second, "{}"))).status
          == 201);
  // By the second recorded fire, the answer to the first has long been counted.
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  metrics = fr->call(api_request("GET", "/metrics"));
  INFO(metrics.body);
  auto ok = sample(metrics.body, R"(feedrouter_fires_total{outcome="ok"})");
  REQUIRE(ok);
  CHECK(std::stoll(*ok) >= 1);
  CHECK(sample(metrics.body, R"(feedrouter_registrations{feed="alarm",state="active"})") == "1");
  auto fired = sample(metrics.body, R"(feedrouter_events_fired_total{feed="alarm"})");
  REQUIRE(fired);
  CHECK(std::stoll(*fired) >= 1);
  CHECK(sample(metrics.body, "feedrouter_ready") == "1");
  fr->stop_cleanly();

  // The exposition of the running service, read by the Prometheus client's own parser.
  auto exposition = fx.file("metrics.txt");
  std::ofstream{exposition} << metrics.body;
  child_process checker{{DEBIAN_PYTHON3, {METRICS_CHECKER, "--file", exposition}, fx.next_stderr_path()}};
  auto checked = checker.wait(feedrouter_process::exit_timeout);
  INFO("checker: " << checker.stderr_text());
  REQUIRE(checked);
  CHECK(checked->code == 0);
}
