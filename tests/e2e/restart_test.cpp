#include <signal.h>

#include <chrono>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for fires of an every-second alarm; reached only when something is broken.
constexpr auto fire_timeout = 5s;

std::int64_t fires_counted(feedrouter_process& fr, const trigger_ref& trigger) {
  auto read = fr.call(api_request("GET", trigger_path(trigger), alice_key));
  INFO(read.body);
  REQUIRE(read.status == 200);
  auto fires = json_int_at(read.body, "/status/fires");
  REQUIRE(fires);
  return *fires;
}

} // namespace

TEST_CASE("a restart after SIGTERM keeps every registration with its state and counters", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref active{"alice", "stays-active"};
  const trigger_ref paused{"alice", "stays-paused"};
  fx.controller().add_trigger(active, std::string{alice_key});
  fx.controller().add_trigger(paused, std::string{alice_key});

  auto first = fx.start_feedrouter();
  auto create_paused = api_request("PUT", trigger_path(paused), alice_key, alarm_body(every_second, R"({"p":1})"));
  REQUIRE(first->call(std::move(create_paused)).status == 201);
  REQUIRE(first->call(api_request("POST", trigger_path(paused) + "/pause", alice_key)).status == 200);
  auto create_active = api_request("PUT", trigger_path(active), alice_key, alarm_body(every_second, R"({"a":1})"));
  REQUIRE(first->call(std::move(create_active)).status == 201);
  REQUIRE(fx.wait_for_fires_of(active, 2, fire_timeout));
  auto fires_before = fires_counted(*first, active);
  CHECK(fires_before >= 1);
  auto config_before = json_at(first->call(api_request("GET", trigger_path(active), alice_key)).body, "/config");

  // SIGTERM: the process flushes the store and exits with code 0.
  first->stop_cleanly();
  first.reset();

  auto second = fx.start_feedrouter();
  auto read_active = second->call(api_request("GET", trigger_path(active), alice_key));
  INFO("active after restart: " << read_active.body);
  REQUIRE(read_active.status == 200);
  CHECK(json_string_at(read_active.body, "/status/state") == "active");
  CHECK(json_at(read_active.body, "/config") == config_before);
  CHECK(json_int_at(read_active.body, "/status/fires") >= fires_before);
  auto read_paused = second->call(api_request("GET", trigger_path(paused), alice_key));
  INFO("paused after restart: " << read_paused.body);
  REQUIRE(read_paused.status == 200);
  CHECK(json_string_at(read_paused.body, "/status/state") == "paused");
  CHECK(json_string_at(read_paused.body, "/status/reason/kind") == "USER");

  auto paused_fires = fx.fires_of(paused).size();
  auto active_fires = fx.fires_of(active).size();
  REQUIRE(fx.wait_for_fires_of(active, active_fires + 1, fire_timeout));
  CHECK(fx.fires_of(paused).size() == paused_fires);
  // The counter goes on from the stored value once the fire's answer is processed, so ask after the next one too.
  REQUIRE(fx.wait_for_fires_of(active, active_fires + 2, fire_timeout));
  CHECK(fires_counted(*second, active) > fires_before);

  second->stop_cleanly();
}

TEST_CASE("a restart after kill -9 keeps every registration that was answered 201", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref firing{"alice", "fires-again"};
  const trigger_ref quiet{"alice", "yearly-alarm"};
  fx.controller().add_trigger(firing, std::string{alice_key});
  fx.controller().add_trigger(quiet, std::string{alice_key});

  auto first = fx.start_feedrouter();
  auto create_quiet = api_request("PUT", trigger_path(quiet), alice_key, alarm_body(yearly, R"({"q":1})"));
  REQUIRE(first->call(std::move(create_quiet)).status == 201);
  auto create_firing = api_request("PUT", trigger_path(firing), alice_key, alarm_body(every_second, R"({"f":1})"));
  REQUIRE(first->call(std::move(create_firing)).status == 201);
  // Killed right after the last 201: nothing gets a chance to flush.
  auto status = first->kill();
  CHECK(status.signal == SIGKILL);
  first.reset();

  auto second = fx.start_feedrouter();
  for (const auto& trigger : {quiet, firing}) {
    auto read = second->call(api_request("GET", trigger_path(trigger), alice_key));
    INFO(trigger.qualified() << " after restart: " << read.body);
    CHECK(read.status == 200);
    CHECK(json_string_at(read.body, "/status/state") == "active");
  }
  auto read_firing = second->call(api_request("GET", trigger_path(firing), alice_key));
  CHECK(json_at(read_firing.body, "/config/trigger_payload") == R"({"f":1})");
  auto before = fx.fires_of(firing).size();
  CHECK(fx.wait_for_fires_of(firing, before + 1, fire_timeout));
  second->stop_cleanly();
}
