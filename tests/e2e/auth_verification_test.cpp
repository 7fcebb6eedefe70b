#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// A well-formed authKey the fake controller has never heard of.
constexpr std::string_view unknown_key = "00000000-0000-4000-8000-000000000000:not-a-key";

} // namespace

TEST_CASE("a CREATE with an authKey the controller rejects is answered 401 and stores nothing", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "verified-alarm"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto path = trigger_path(trigger);

  SECTION("through the lifecycle route") {
    auto created = fr->call(api_request("PUT", path, unknown_key, alarm_body(yearly, "{}")));
    INFO(created.body);
    CHECK(created.status == 401);
    CHECK(json_string_at(created.body, "/field") == "authKey");
  }

  SECTION("through the feed-action protocol") {
    auto created = fr->call(lifecycle_request("CREATE", trigger, unknown_key, R"("feed":"alarm","cron":"0 0 1 1 *")"));
    INFO(created.body);
    CHECK(created.status == 401);
    CHECK(json_string_at(created.body, "/field") == "authKey");
  }

  CHECK(fr->call(api_request("GET", path, unknown_key)).status == 404);
  CHECK(fr->call(api_request("GET", path, alice_key)).status == 404);
  CHECK(fr->call(lifecycle_request("READ", trigger, unknown_key)).status == 404);
  fr->stop_cleanly();
}

TEST_CASE("a CREATE for a trigger the controller does not have is answered 404 and stores nothing", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref missing{"alice", "never-created"};
  // The key is known to the controller, the trigger is not.
  fx.controller().add_trigger({"alice", "some-other-trigger"}, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto path = trigger_path(missing);

  auto created = fr->call(api_request("PUT", path, alice_key, alarm_body(yearly, "{}")));
  INFO(created.body);
  CHECK(created.status == 404);
  CHECK(json_string_at(created.body, "/field") == "triggerName");
  CHECK(fr->call(api_request("GET", path, alice_key)).status == 404);
  CHECK(fr->call(lifecycle_request("READ", missing, alice_key)).status == 404);
  fr->stop_cleanly();
}

TEST_CASE("with --no-verify-auth a CREATE with a key the controller does not know is accepted", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref trigger{"carol", "unverified-alarm"};
  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  auto path = trigger_path(trigger);

  auto created = fr->call(api_request("PUT", path, unknown_key, alarm_body(yearly, "{}")));
  INFO(created.body);
  CHECK(created.status == 201);
  auto read = fr->call(api_request("GET", path, unknown_key));
  CHECK(read.status == 200);
  CHECK(json_string_at(read.body, "/status/state") == "active");
  // Without verification, another key still cannot take the registration over.
  auto takeover = fr->call(api_request("PUT", path, alice_key, alarm_body(yearly, "{}")));
  CHECK(takeover.status == 409);
  fr->stop_cleanly();
}
