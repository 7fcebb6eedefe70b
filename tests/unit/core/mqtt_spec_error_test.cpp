#include "core/mqtt_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;

namespace {

/// Checks that each of `params_json` is refused with an error naming `field`.
void check_rejected(std::string_view field, const std::vector<std::string>& params_json) {
  for (const auto& json : params_json) {
    INFO("params: " << json);
    auto parsed = parse_mqtt_spec(params(json), "guest/t");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == field);
    CHECK_FALSE(parsed.error().message.empty());
  }
}

/// Returns the params of a valid feed with `extra` (members, without braces) added.
std::string with(std::string_view extra) {
  return R"({"url": "mqtt://broker.example.com", "topic": "a/b", )" + std::string{extra} + "}";
}

} // namespace

TEST_CASE("an mqtt feed without a broker url of scheme mqtt or mqtts names url", "[mqtt_spec]") {
  check_rejected("url", {
                          R"({"topic": "a"})",
                          R"({"url": 1883, "topic": "a"})",
                          R"({"url": "", "topic": "a"})",
                          R"({"url": "http://broker.example.com", "topic": "a"})",
                          R"({"url": "tcp://broker.example.com:1883", "topic": "a"})",
                          R"({"url": "broker.example.com:1883", "topic": "a"})",
                          R"({"url": "mqtt://broker.example.com/path", "topic": "a"})",
                          R"({"url": "mqtt://broker.example.com/?x=1", "topic": "a"})",
                          R"({"url": "mqtt://alice:secret@broker.example.com", "topic": "a"})",
                          R"({"url": "mqtt://broker.example.com:0", "topic": "a"})",
                          R"({"url": "mqtt://broker.example.com:65536", "topic": "a"})",
                          R"({"url": "mqtt://", "topic": "a"})",
                        });
}

TEST_CASE("the url's message names the schemes it takes", "[mqtt_spec]") {
  auto parsed = parse_mqtt_spec(params(R"({"url": "https://b", "topic": "a"})"), "guest/t");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().message == "must use the mqtt or mqtts scheme");
}

TEST_CASE("a topic that is no MQTT topic filter names topic", "[mqtt_spec]") {
  check_rejected("topic", {
                            R"({"url": "mqtt://b"})",
                            R"({"url": "mqtt://b", "topic": ""})",
                            R"({"url": "mqtt://b", "topic": ["a", "b"]})",
                            R"({"url": "mqtt://b", "topic": "a/#/b"})",
                            R"({"url": "mqtt://b", "topic": "a#"})",
                            R"({"url": "mqtt://b", "topic": "a/b#"})",
                            R"({"url": "mqtt://b", "topic": "a+/b"})",
                            R"({"url": "mqtt://b", "topic": "a/+b"})",
                            R"({"url": "mqtt://b", "topic": "##"})",
                            R"({"url": "mqtt://b", "topic": "a\u0000b"})",
                            R"({"url": "mqtt://b", "topic": ")" + std::string(mqtt_max_topic_filter + 1, 'x') + "\"}",
                          });
}

TEST_CASE("qos other than 0 or 1 names qos", "[mqtt_spec]") {
  check_rejected("qos", {with(R"("qos": 2)"), with(R"("qos": -1)"), with(R"("qos": "1.5")"), with(R"("qos": true)"),
                         with(R"("qos": "one")")});
}

TEST_CASE("a client id that is empty, too long or not printable ASCII names clientId", "[mqtt_spec]") {
  check_rejected("clientId", {with(R"("clientId": "")"), with(R"("clientId": "has blank")"),
                              with(R"("clientId": "tab\there")"), with(R"("clientId": "naïve")"),
                              with(R"("clientId": 7)"),
                              with(R"("clientId": ")" + std::string(mqtt_max_client_id + 1, 'c') + "\"")});
}

TEST_CASE("a password without a user name names username, bad credentials name their field", "[mqtt_spec]") {
  check_rejected("username", {with(R"("password": "secret")"), with(R"("username": "", "password": "x")"),
                              with(R"("username": 5)"),
                              with(R"("username": ")" + std::string(mqtt_max_username + 1, 'u') + "\"")});
  check_rejected("password", {with(R"("username": "u", "password": 5)"),
                              with(R"("username": "u", "password": ")" + std::string(mqtt_max_password + 1, 'p')
                                   + "\"")});
}

TEST_CASE("cleanSession and binary take booleans only", "[mqtt_spec]") {
  check_rejected("cleanSession", {with(R"("cleanSession": "yes")"), with(R"("cleanSession": 1)")});
  check_rejected("binary", {with(R"("binary": "no")"), with(R"("binary": null)")});
}

TEST_CASE("a broker the egress policy refuses without resolving names url", "[mqtt_spec]") {
  for (std::string_view url : {"mqtt://127.0.0.1", "mqtts://localhost:8883", "mqtt://169.254.169.254",
                               "mqtt://[::1]:1883", "mqtt://10.1.2.3"}) {
    INFO(url);
    auto json = R"({"url": ")" + std::string{url} + R"(", "topic": "a"})";
    auto config =
      make_feed_config("mqtt", params(json), sys_ms{}, validation_time::request, "guest/t", egress_policy{});
    REQUIRE_FALSE(config);
    CHECK(config.error().field == "url");
    CHECK(config.error().message.rfind("not allowed by the egress policy", 0) == 0);
  }
  auto loopback = make_feed_config("mqtt", params(R"({"url": "mqtt://127.0.0.1:1883", "topic": "a"})"), sys_ms{},
                                   validation_time::request, "guest/t", feedrouter::test::loopback_allowed());
  CHECK(loopback);
}
