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

/// How long a paused registration must stay silent: more than two intervals of its every-second alarm.
constexpr auto quiet_period = 2500ms;

} // namespace

TEST_CASE("an alarm registration goes through create then read update pause resume and delete", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "every-second"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto path = trigger_path(trigger);

  auto created = fr->call(api_request("PUT", path, alice_key, alarm_body(every_second, R"({"greeting":"hello"})")));
  INFO("CREATE: " << created.body);
  REQUIRE(created.status == 201);
  CHECK(json_string_at(created.body, "/config/cron") == std::string{every_second});

  auto read = fr->call(api_request("GET", path, alice_key));
  INFO("READ: " << read.body);
  REQUIRE(read.status == 200);
  CHECK(json_string_at(read.body, "/config/feed") == "alarm");
  CHECK(json_string_at(read.body, "/config/triggerName") == "/alice/every-second");
  CHECK(json_string_at(read.body, "/config/cron") == std::string{every_second});
  CHECK(json_at(read.body, "/config/trigger_payload") == R"({"greeting":"hello"})");
  CHECK(json_string_at(read.body, "/status/state") == "active");

  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  for (const auto& fire : fx.fires_of(trigger)) {
    CHECK(fire.authorization == basic_authorization(alice_key));
    CHECK(json_at(fire.body, "") == R"({"greeting":"hello"})");
  }

  auto updated = fr->call(api_request("PATCH", path, alice_key, R"({"trigger_payload":{"greeting":"updated"}})"));
  INFO("UPDATE: " << updated.body);
  REQUIRE(updated.status == 200);
  CHECK(json_at(updated.body, "/config/trigger_payload") == R"({"greeting":"updated"})");
  CHECK(json_string_at(updated.body, "/config/cron") == std::string{every_second});
  read = fr->call(api_request("GET", path, alice_key));
  CHECK(json_at(read.body, "/config/trigger_payload") == R"({"greeting":"updated"})");
  // One fire may have been on its way with the old payload; the one after it carries the new one.
  auto before_update = fx.fires_of(trigger).size();
  REQUIRE(fx.wait_for_fires_of(trigger, before_update + 2, fire_timeout));
  CHECK(json_at(fx.fires_of(trigger).back().body, "") == R"({"greeting":"updated"})");

  auto paused = fr->call(api_request("POST", path + "/pause", alice_key));
  INFO("PAUSE: " << paused.body);
  REQUIRE(paused.status == 200);
  CHECK(json_string_at(paused.body, "/status/state") == "paused");
  // There is no event for "nothing happens": wait for more than two fire intervals and count the fires. One fire
  // sent before the pause was answered may still land, however slowly (the pause lets a fire on the wire finish);
  // a second one would have been sent after the pause.
  auto at_pause = fx.fires_of(trigger).size();
  CHECK_FALSE(fx.wait_for_fires_of(trigger, at_pause + 2, quiet_period));
  read = fr->call(api_request("GET", path, alice_key));
  CHECK(json_string_at(read.body, "/status/state") == "paused");

  auto resumed = fr->call(api_request("POST", path + "/resume", alice_key));
  INFO("RESUME: " << resumed.body);
  REQUIRE(resumed.status == 200);
  CHECK(json_string_at(resumed.body, "/status/state") == "active");
  auto at_resume = fx.fires_of(trigger).size();
  CHECK(fx.wait_for_fires_of(trigger, at_resume + 1, fire_timeout));

  auto deleted = fr->call(api_request("DELETE", path, alice_key));
  CHECK(deleted.status == 204);
  CHECK(deleted.body.empty());
  CHECK(fr->call(api_request("GET", path, alice_key)).status == 404);
  CHECK(fr->call(api_request("DELETE", path, alice_key)).status == 404);

  fr->stop_cleanly();
}

TEST_CASE("a key gets 404 for every operation on another key's registration", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref alices{"alice", "private-alarm"};
  const trigger_ref bobs{"bob", "own-alarm"};
  fx.controller().add_trigger(alices, std::string{alice_key});
  fx.controller().add_trigger(bobs, std::string{bob_key});
  auto fr = fx.start_feedrouter();
  auto path = trigger_path(alices);
  REQUIRE(fr->call(api_request("PUT", path, alice_key, alarm_body(yearly, R"({"owner":"alice"})"))).status == 201);
  auto original = fr->call(api_request("GET", path, alice_key));
  REQUIRE(original.status == 200);

  SECTION("read and update and pause and resume and delete are 404") {
    auto read = fr->call(api_request("GET", path, bob_key));
    CHECK(read.status == 404);
    auto update = fr->call(api_request("PATCH", path, bob_key, R"({"trigger_payload":{"owner":"bob"}})"));
    CHECK(update.status == 404);
    CHECK(fr->call(api_request("POST", path + "/pause", bob_key)).status == 404);
    CHECK(fr->call(api_request("POST", path + "/resume", bob_key)).status == 404);
    CHECK(fr->call(api_request("DELETE", path, bob_key)).status == 404);
    // The answer reveals nothing: it is the same as for a trigger nobody registered.
    auto unknown = fr->call(api_request("GET", trigger_path({"alice", "no-such-alarm"}), bob_key));
    CHECK(json_at(read.body, "/field") == json_at(unknown.body, "/field"));
  }

  SECTION("the list of the namespace is empty for the other key") {
    auto list = fr->call(api_request("GET", "/v1/triggers/alice", bob_key));
    REQUIRE(list.status == 200);
    CHECK(json_at(list.body, "/triggers") == "[]");
    auto own = fr->call(api_request("GET", "/v1/triggers/alice", alice_key));
    CHECK(json_string_at(own.body, "/triggers/0/config/triggerName") == "/alice/private-alarm");
  }

  SECTION("a CREATE over it is refused because the controller denies the key that trigger") {
    auto takeover = fr->call(api_request("PUT", path, bob_key, alarm_body(yearly, R"({"owner":"bob"})")));
    INFO(takeover.body);
    CHECK(takeover.status == 403);
    CHECK(json_string_at(takeover.body, "/field") == "authKey");
  }

  auto after = fr->call(api_request("GET", path, alice_key));
  INFO(after.body);
  REQUIRE(after.status == 200);
  CHECK(json_at(after.body, "/config") == json_at(original.body, "/config"));
  CHECK(json_string_at(after.body, "/status/state") == "active");
  // dateChanged is epoch milliseconds (OpenWhisk's form): present, and unchanged.
  REQUIRE(json_int_at(original.body, "/status/dateChanged"));
  CHECK(json_int_at(after.body, "/status/dateChanged") == json_int_at(original.body, "/status/dateChanged"));
  fr->stop_cleanly();
}
