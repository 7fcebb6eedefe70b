// Bad mqtt parameters and refusing brokers: each CREATE is answered 400 naming the parameter to fix; a login refused
// later disables the registration. Beyond --max-mqtt-feeds a CREATE is answered 503.

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/mqtt_support.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/mosquitto_server.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Checks that CREATE with `body` is answered 400 naming `field`, and that nothing was registered.
void check_refused(feedrouter_process& fr, const trigger_ref& trigger, const std::string& body,
                   std::string_view field, std::string_view words = {}) {
  INFO(body);
  auto answer = fr.call(api_request("PUT", trigger_path(trigger), alice_key, body));
  INFO(answer.body);
  CHECK(answer.status == 400);
  CHECK(json_string_at(answer.body, "/field") == std::string{field});
  if (!words.empty())
    CHECK(json_string_at(answer.body, "/error").value_or("").find(words) != std::string::npos);
  CHECK(fr.call(api_request("GET", trigger_path(trigger), alice_key)).status == 404);
}

} // namespace

TEST_CASE("bad mqtt parameters are refused naming the parameter", "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref trigger{"alice", "bad"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  check_refused(*fr, trigger, R"({"feed":"mqtt","topic":"a"})", "url");
  check_refused(*fr, trigger, R"({"feed":"mqtt","url":"http://127.0.0.1:1883","topic":"a"})", "url");
  check_refused(*fr, trigger, R"({"feed":"mqtt","url":")" + broker.url() + R"("})", "topic");
  check_refused(*fr, trigger, mqtt_create_body(broker, "a/#/b"), "topic");
  check_refused(*fr, trigger, mqtt_create_body(broker, "a", R"("qos":2)"), "qos");
  check_refused(*fr, trigger, mqtt_create_body(broker, "a", R"("password":"p")"), "username");
  check_refused(*fr, trigger, mqtt_create_body(broker, "a", R"("cleanSession":"no")"), "cleanSession");
  fr->stop_cleanly();
}

TEST_CASE("a refused login fails CREATE naming username or password, an unreachable broker names url",
          "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server::options opts;
  opts.anonymous = false;
  opts.users = {{"alice", "s3cret"}};
  mosquitto_server broker{opts};
  const trigger_ref trigger{"alice", "login"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  check_refused(*fr, trigger, mqtt_create_body(broker, "a"), "username", "refused the connection");
  check_refused(*fr, trigger, mqtt_create_body(broker, "a", R"("username":"alice","password":"wrong")"), "password",
                "refused the connection");
  auto port = broker.port();
  broker.stop();
  check_refused(*fr, trigger, R"({"feed":"mqtt","url":"mqtt://127.0.0.1:)" + std::to_string(port)
                                + R"(","topic":"a","username":"alice","password":"s3cret"})",
                "url", "cannot connect");
  broker.start();
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      mqtt_create_body(broker, "a", R"("username":"alice","password":"s3cret")")));
  INFO(created.body);
  CHECK(created.status == 201);
  // The password is never shown.
  auto view = read_registration(*fr, trigger);
  CHECK(view.find("s3cret") == std::string::npos);
  CHECK(json_string_at(view, "/config/username") == std::string{"alice"});
  fr->stop_cleanly();
}

TEST_CASE("a login the broker refuses later disables the registration (AUTO) with the broker's reason",
          "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server::options opts;
  opts.anonymous = false;
  opts.users = {{"alice", "s3cret"}};
  mosquitto_server broker{opts};
  const trigger_ref trigger{"alice", "rotated"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                               mqtt_create_body(broker, "a", R"("username":"alice","password":"s3cret")")))
            .status
          == 201);
  // The password changes on the broker: the next connection is refused.
  broker.stop();
  broker.set_users({{"alice", "rotated"}});
  broker.start();
  std::string view;
  CHECK(poll_until(
    [&] {
      view = read_registration(*fr, trigger);
      return json_string_at(view, "/status/state") == std::string{"disabled"};
    },
    mqtt_message_timeout));
  INFO(view);
  CHECK(json_string_at(view, "/status/reason/kind") == std::string{"AUTO"});
  CHECK(json_string_at(view, "/status/reason/message").value_or("").find("not authorized") != std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("a broker the egress policy refuses fails CREATE naming url", "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref trigger{"alice", "loopback"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter_with_default_egress();
  check_refused(*fr, trigger, mqtt_create_body(broker, "a"), "url", "egress");
  fr->stop_cleanly();
}

TEST_CASE("at --max-mqtt-feeds a further mqtt CREATE answers 503 with Retry-After and registers nothing",
          "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref first{"alice", "first"};
  const trigger_ref second{"alice", "second"};
  fx.controller().add_trigger(first, std::string{alice_key});
  fx.controller().add_trigger(second, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--max-mqtt-feeds", "1"});
  REQUIRE(fr->call(api_request("PUT", trigger_path(first), alice_key, mqtt_create_body(broker, "a"))).status == 201);
  publish_numbered(broker, "a", 1, 1);
  // Once the first one fired, its source's connection is the one the bound allows.
  REQUIRE(wait_for_numbers(fx, first, 1));
  auto refused = fr->call(api_request("PUT", trigger_path(second), alice_key, mqtt_create_body(broker, "b")));
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(refused.field("Retry-After") == "30");
  CHECK(json_string_at(refused.body, "/error")
        == std::string{"this provider runs as many mqtt feeds as it may at once; try again later"});
  CHECK(fr->call(api_request("GET", trigger_path(second), alice_key)).status == 404);
  // The first one's UPDATE keeps its broker session: its new source takes the place its old one gives back.
  CHECK(fr->call(api_request("PATCH", trigger_path(first), alice_key, R"({"trigger_payload":{"team":"a"}})")).status
        == 200);
  publish_numbered(broker, "a", 2, 1);
  CHECK(wait_for_numbers(fx, first, 2));
  fr->stop_cleanly();
}
