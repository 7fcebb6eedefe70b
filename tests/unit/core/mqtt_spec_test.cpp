#include "core/mqtt_spec.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;

namespace {

constexpr std::string_view trigger_key = "guest/sensors";

mqtt_spec spec(std::string_view json) {
  auto parsed = parse_mqtt_spec(params(json), trigger_key);
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

} // namespace

// -- parse_mqtt_spec -----------------------------------------------------------------------------------------------

TEST_CASE("an mqtt feed needs only url and topic, QoS 1 and a persistent session by default", "[mqtt_spec]") {
  auto s = spec(R"({"url": "mqtt://broker.example.com", "topic": "sensors/+/temperature"})");
  CHECK(s.broker.scheme == "mqtt");
  CHECK(s.broker.host == "broker.example.com");
  CHECK(s.broker.port == 1883);
  CHECK(s.topic == "sensors/+/temperature");
  CHECK(s.qos == 1);
  CHECK(s.client_id == default_mqtt_client_id(trigger_key));
  CHECK_FALSE(s.username);
  CHECK_FALSE(s.password);
  CHECK_FALSE(s.clean_session);
  CHECK_FALSE(s.binary);
}

TEST_CASE("an mqtt feed takes every parameter, in the forms the wsk CLI sends", "[mqtt_spec]") {
  auto s = spec(R"({"url": "MQTTS://Broker.Example.com:8884/", "topic": "#", "qos": "0", "clientId": "plant-7",
                    "username": "alice", "password": "s3cret", "cleanSession": "true", "binary": true})");
  CHECK(s.broker.scheme == "mqtts");
  CHECK(s.broker.host == "broker.example.com");
  CHECK(s.broker.port == 8884);
  CHECK(s.topic == "#");
  CHECK(s.qos == 0);
  CHECK(s.client_id == "plant-7");
  CHECK(s.username == std::string{"alice"});
  CHECK(s.password == std::string{"s3cret"});
  CHECK(s.clean_session);
  CHECK(s.binary);
}

TEST_CASE("mqtts defaults to port 8883, and a user name may come without a password", "[mqtt_spec]") {
  auto s = spec(R"({"url": "mqtts://[2001:db8::1]", "topic": "a", "username": "device-1"})");
  CHECK(s.broker.host == "2001:db8::1");
  CHECK(s.broker.port == 8883);
  CHECK(s.username == std::string{"device-1"});
  CHECK_FALSE(s.password);
  CHECK(s.broker.origin() == "mqtts://[2001:db8::1]:8883");
}

TEST_CASE("the derived client id is 23 letters and digits, fixed per trigger and different between triggers",
          "[mqtt_spec]") {
  auto id = default_mqtt_client_id("guest/sensors");
  CHECK(id.size() == 23);
  CHECK(id.rfind("fr", 0) == 0);
  CHECK(id.find_first_not_of("0123456789abcdefr") == std::string::npos);
  CHECK(id == "fr" + sha256_hex("guest/sensors").substr(0, 21));
  CHECK(default_mqtt_client_id("guest/sensors") == id);
  CHECK(default_mqtt_client_id("guest/other") != id);
}

TEST_CASE("topic filters with wildcards in whole levels are accepted", "[mqtt_spec]") {
  for (std::string_view filter : {"a", "a/b/c", "#", "+", "+/+", "a/#", "a/+/c/#", "/leading", "trailing/", "a//b",
                                  "$SYS/broker/#", "späti/℃"}) {
    INFO(filter);
    CHECK_FALSE(mqtt_filter_problem(filter));
  }
  CHECK_FALSE(mqtt_filter_problem(std::string(mqtt_max_topic_filter, 'x')));
}

// -- what fires ----------------------------------------------------------------------------------------------------

TEST_CASE("a payload that is JSON fires as JSON, anything else as a string", "[mqtt_spec]") {
  auto s = spec(R"({"url": "mqtt://b", "topic": "#"})");
  CHECK(mqtt_event_body(s, "dev/1/temp", R"({"c": 21.5})", 1, false, "{}")
        == R"({"topic":"dev/1/temp","qos":1,"retain":false,"payload":{"c":21.5}})");
  CHECK(mqtt_event_body(s, "t", "42", 0, true, "{}") == R"({"topic":"t","qos":0,"retain":true,"payload":42})");
  CHECK(mqtt_event_body(s, "t", "on", 1, false, "{}") == R"({"topic":"t","qos":1,"retain":false,"payload":"on"})");
  CHECK(mqtt_event_body(s, "t", "", 1, false, "{}") == R"({"topic":"t","qos":1,"retain":false,"payload":""})");
  CHECK(mqtt_event_body(s, "t", "{\"a\":", 1, false, "{}")
        == R"({"topic":"t","qos":1,"retain":false,"payload":"{\"a\":"})");
}

TEST_CASE("with binary the payload fires as base64, even when it is JSON", "[mqtt_spec]") {
  auto s = spec(R"({"url": "mqtt://b", "topic": "#", "binary": true})");
  auto body = mqtt_event_body(s, "t", std::string{"\x00\xff{}", 4}, 1, false, "{}");
  CHECK(body == R"({"topic":"t","qos":1,"retain":false,"payload":")" + base64_encode(std::string{"\x00\xff{}", 4})
                  + R"("})");
  CHECK(json_is_object(body));
}

TEST_CASE("a payload that is neither JSON nor UTF-8 still fires as valid JSON", "[mqtt_spec]") {
  auto s = spec(R"({"url": "mqtt://b", "topic": "#"})");
  auto body = mqtt_event_body(s, "t", "\xc3\x28\x01", 1, false, "{}");
  CHECK(json_is_object(body));
}

TEST_CASE("trigger_payload is merged in, the message's own members win", "[mqtt_spec]") {
  auto s = spec(R"({"url": "mqtt://b", "topic": "#"})");
  auto body = mqtt_event_body(s, "t", "1", 1, false, R"({"site":"berlin","topic":"ignored"})");
  CHECK(body == R"({"topic":"t","qos":1,"retain":false,"payload":1,"site":"berlin"})");
}

TEST_CASE("an oversized message fires its topic and size without the payload", "[mqtt_spec]") {
  CHECK(mqtt_oversized_body("big/one", 5'000'000, 1, false, R"({"site":"berlin"})")
        == R"({"topic":"big/one","qos":1,"retain":false,"payloadBytes":5000000,"payloadTooLarge":true,)"
           R"("site":"berlin"})");
}

TEST_CASE("make_feed_config serves mqtt and stores qos normalized", "[mqtt_spec]") {
  auto config = make_feed_config("mqtt", params(R"({"url": "mqtt://b", "topic": "a/#", "qos": "0"})"), sys_ms{},
                                 validation_time::request, trigger_key, egress_policy{});
  REQUIRE(config);
  REQUIRE(config->mqtt);
  CHECK(config->mqtt->qos == 0);
  CHECK(*find_member(config->params, "qos") == "0");
  CHECK(config->fire_body == "{}");
}

// -- the session checkpoint ----------------------------------------------------------------------------------------

TEST_CASE("the checkpoint names the session and what it is subscribed to, and reads back", "[mqtt_spec]") {
  auto s = spec(R"({"url": "mqtts://broker.example.com", "topic": "a/+", "clientId": "c1"})");
  auto checkpoint = to_mqtt_checkpoint(s);
  CHECK(checkpoint
        == R"({"session":"mqtts://broker.example.com:8883/c1","topic":"a/+","qos":1,"cleanSession":false})");
  CHECK(mqtt_session_name(s) == "mqtts://broker.example.com:8883/c1");
  auto record = read_mqtt_checkpoint(checkpoint);
  REQUIRE(record);
  CHECK(record->session == "mqtts://broker.example.com:8883/c1");
  CHECK(record->topic == "a/+");
  CHECK(record->qos == 1);
  CHECK_FALSE(record->clean_session);
}

TEST_CASE("checkpoints of other feeds or of nothing are no session", "[mqtt_spec]") {
  CHECK_FALSE(read_mqtt_checkpoint(""));
  CHECK_FALSE(read_mqtt_checkpoint("not json"));
  CHECK_FALSE(read_mqtt_checkpoint(R"({"source":"http://127.0.0.1:5984/orders","seq":"7"})"));
  CHECK_FALSE(read_mqtt_checkpoint(R"({"session":"mqtt://b:1883/c","topic":"a","qos":"1","cleanSession":false})"));
}
