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

/// How long a test waits for a fire that should come at once; reached only when something is broken.
constexpr auto fire_timeout = 5s;

/// How long the provider may take to disable a registration after the refusing answer.
constexpr auto disable_timeout = 5s;

/// Polls alice's READ of `trigger` until its state is "disabled" and returns the last READ. Disabling happens inside
/// the provider; no event reaches the test (a 404 from the controller is not even an attempt), hence the polling.
std::string await_disabled(feedrouter_process& fr, const trigger_ref& trigger) {
  std::string read;
  auto disabled = poll_until(
    [&] {
      read = read_registration(fr, trigger);
      return json_string_at(read, "/status/state") == "disabled";
    },
    disable_timeout);
  INFO("READ: " << read);
  REQUIRE(disabled);
  return read;
}

} // namespace

TEST_CASE("a 404 from the controller disables the webhook registration and its event fires after resume",
          "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "deleted-in-openwhisk"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger);

  // Someone deletes the trigger in OpenWhisk: the next fire is answered 404.
  fx.controller().remove_trigger(trigger);
  const std::string kept = R"({"id":"kept"})";
  post_event(*fr, hook, kept);
  auto read = await_disabled(*fr, trigger);
  INFO("READ: " << read);
  CHECK(json_string_at(read, "/status/reason/kind") == "AUTO");
  CHECK(json_int_at(read, "/status/reason/statusCode") == 404);
  CHECK_FALSE(json_string_at(read, "/status/reason/message").value_or("").empty());
  CHECK(json_int_at(read, "/status/pendingEvents") == 1);
  CHECK(json_int_at(read, "/status/deadLetters") == 0);
  CHECK(fx.fires_of(trigger).empty());

  // While disabled the hook refuses new events, so their senders retry later instead of losing them.
  auto refused = fr->call(signed_hook(hook.hook_target, hook.secret, R"({"id":"refused"})"));
  INFO("hook POST while disabled: " << refused.body);
  CHECK(refused.status == 503);
  // The signature is still checked first.
  CHECK(fr->call(unsigned_hook(hook.hook_target, R"({"id":"refused"})")).status == 401);

  // The trigger is back; resume re-enables the AUTO-disabled registration and the pending event fires.
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto resumed = fr->call(api_request("POST", trigger_path(trigger) + "/resume", alice_key));
  INFO("resume: " << resumed.body);
  REQUIRE(resumed.status == 200);
  CHECK(json_string_at(resumed.body, "/status/state") == "active");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  post_event(*fr, hook, R"({"id":"after-resume"})");
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  // In order, each once, and the refused event never.
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 2);
  CHECK(json_string_at(fires[0].body, "/id") == "kept");
  CHECK(json_string_at(fires[1].body, "/id") == "after-resume");
  fr->stop_cleanly();
}

TEST_CASE("a 400 or 401 or 403 from the controller disables the registration with that status code",
          "[e2e][delivery]") {
  auto status = GENERATE(400, 401, 403);
  INFO("the controller answers " << status);
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "refused-" + std::to_string(status)};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().script(trigger, {answer::with_status(status)});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger);

  post_event(*fr, hook, R"({"id":"waits"})");
  REQUIRE(fx.controller().wait_for_attempts(trigger, 1, fire_timeout));
  auto read = await_disabled(*fr, trigger);
  INFO("READ: " << read);
  CHECK(json_string_at(read, "/status/reason/kind") == "AUTO");
  CHECK(json_int_at(read, "/status/reason/statusCode") == status);
  CHECK(json_int_at(read, "/status/pendingEvents") == 1);
  CHECK(fx.controller().attempt_count(trigger) == 1);

  // The script is used up: after resume the controller takes the event as usual.
  auto resumed = fr->call(api_request("POST", trigger_path(trigger) + "/resume", alice_key));
  REQUIRE(resumed.status == 200);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  CHECK(json_string_at(fx.fires_of(trigger)[0].body, "/id") == "waits");
  CHECK(fx.controller().attempt_count(trigger) == 2);
  fr->stop_cleanly();
}

TEST_CASE("an event of a registration disabled by the controller is still pending after a restart", "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "disabled-then-restarted"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().script(trigger, {answer::with_status(403)});
  auto first = fx.start_feedrouter();
  auto hook = create_webhook(*first, trigger);
  post_event(*first, hook, R"({"id":"survivor"})");
  REQUIRE(fx.controller().wait_for_attempts(trigger, 1, fire_timeout));
  await_disabled(*first, trigger);
  first->stop_cleanly();
  first.reset();

  auto second = fx.start_feedrouter();
  auto read = read_registration(*second, trigger);
  INFO("READ after restart: " << read);
  CHECK(json_string_at(read, "/status/state") == "disabled");
  CHECK(json_int_at(read, "/status/reason/statusCode") == 403);
  CHECK(json_int_at(read, "/status/pendingEvents") == 1);
  REQUIRE(second->call(api_request("POST", trigger_path(trigger) + "/resume", alice_key)).status == 200);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  CHECK(json_string_at(fx.fires_of(trigger)[0].body, "/id") == "survivor");
  second->stop_cleanly();
}
