#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "core/auth_key.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for fires of an every-second alarm; reached only when something is broken.
constexpr auto fire_timeout = 5s;

} // namespace

TEST_CASE("each lifecycleEvent of the feed-action protocol has the result of its lifecycle route", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "feed-action-alarm"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto alarm_params = std::string{R"("feed":"alarm","cron":")"} + std::string{every_second}
                      + R"(","trigger_payload":{"via":"feed-action"})";

  auto created = fr->call(lifecycle_request("CREATE", trigger, alice_key, alarm_params));
  INFO("CREATE: " << created.body);
  REQUIRE(created.status == 201);
  CHECK(json_string_at(created.body, "/config/triggerName") == "/alice/feed-action-alarm");
  // The protocol's own members steer the request; they are not stored as feed parameters.
  CHECK_FALSE(json_at(created.body, "/config/lifecycleEvent"));
  CHECK_FALSE(json_at(created.body, "/config/authKey"));

  auto read = fr->call(lifecycle_request("READ", trigger, alice_key));
  INFO("READ: " << read.body);
  REQUIRE(read.status == 200);
  CHECK(json_string_at(read.body, "/config/cron") == std::string{every_second});
  CHECK(json_at(read.body, "/config/trigger_payload") == R"({"via":"feed-action"})");
  CHECK(json_string_at(read.body, "/status/state") == "active");
  // The same registration as the REST routes see it.
  auto rest_read = fr->call(api_request("GET", trigger_path(trigger), alice_key));
  CHECK(json_at(rest_read.body, "/config") == json_at(read.body, "/config"));

  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  CHECK(fx.fires_of(trigger).front().authorization == basic_authorization(alice_key));
  CHECK(json_at(fx.fires_of(trigger).front().body, "") == R"({"via":"feed-action"})");

  auto updated = fr->call(lifecycle_request("UPDATE", trigger, alice_key, R"("trigger_payload":{"via":"update"})"));
  INFO("UPDATE: " << updated.body);
  REQUIRE(updated.status == 200);
  CHECK(json_at(updated.body, "/config/trigger_payload") == R"({"via":"update"})");
  CHECK(json_string_at(updated.body, "/config/cron") == std::string{every_second});

  auto paused = fr->call(lifecycle_request("PAUSE", trigger, alice_key));
  INFO("PAUSE: " << paused.body);
  REQUIRE(paused.status == 200);
  CHECK(json_string_at(paused.body, "/status/state") == "paused");
  rest_read = fr->call(api_request("GET", trigger_path(trigger), alice_key));
  CHECK(json_string_at(rest_read.body, "/status/state") == "paused");

  auto unpaused = fr->call(lifecycle_request("UNPAUSE", trigger, alice_key));
  INFO("UNPAUSE: " << unpaused.body);
  REQUIRE(unpaused.status == 200);
  CHECK(json_string_at(unpaused.body, "/status/state") == "active");

  // CREATE on an existing registration replaces it: 200, no second registration.
  auto replaced = fr->call(lifecycle_request("CREATE", trigger, alice_key, alarm_params));
  INFO("CREATE again: " << replaced.body);
  CHECK(replaced.status == 200);
  auto list = fr->call(api_request("GET", "/v1/triggers/alice", alice_key));
  CHECK_FALSE(json_at(list.body, "/triggers/1"));

  auto deleted = fr->call(lifecycle_request("DELETE", trigger, alice_key));
  CHECK(deleted.status == 204);
  CHECK(fr->call(lifecycle_request("READ", trigger, alice_key)).status == 404);
  CHECK(fr->call(lifecycle_request("DELETE", trigger, alice_key)).status == 404);
  CHECK(fr->call(api_request("GET", trigger_path(trigger), alice_key)).status == 404);

  fr->stop_cleanly();
}

TEST_CASE("the feed-action protocol answers 404 to another key as the lifecycle routes do", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "guarded-alarm"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().add_trigger({"bob", "own-alarm"}, std::string{bob_key});
  auto fr = fx.start_feedrouter();
  auto created = fr->call(lifecycle_request("CREATE", trigger, alice_key, R"("feed":"alarm","cron":"0 0 1 1 *")"));
  REQUIRE(created.status == 201);
  for (auto event : {"READ", "UPDATE", "PAUSE", "UNPAUSE", "DELETE"}) {
    INFO(event);
    CHECK(fr->call(lifecycle_request(event, trigger, bob_key)).status == 404);
  }
  auto read = fr->call(lifecycle_request("READ", trigger, alice_key));
  CHECK(read.status == 200);
  CHECK(json_string_at(read.body, "/status/state") == "active");
  fr->stop_cleanly();
}
