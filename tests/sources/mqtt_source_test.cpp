#include "actors/sources/mqtt.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "core/mqtt_spec.hpp"
#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr char sensors[] = R"({"url": "mqtt://broker.example.com", "topic": "sensors/#"})";

std::string sensors_checkpoint(std::string_view params = sensors) {
  auto spec = parse_mqtt_spec(*parse_json_object(params, "params"), "guest/t");
  return to_mqtt_checkpoint(*spec);
}

mqtt_update connected(bool session_present) {
  mqtt_update update;
  update.what = mqtt_update::kind::connected;
  update.session_present = session_present;
  return update;
}

mqtt_update subscribed(std::uint8_t granted = 1) {
  mqtt_update update;
  update.what = mqtt_update::kind::subscribed;
  update.granted = {granted};
  return update;
}

mqtt_message message(std::uint16_t packet_id, std::string payload, std::uint8_t qos = 1) {
  mqtt_message m;
  m.topic = "sensors/1";
  m.payload = std::move(payload);
  m.payload_size = m.payload.size();
  m.packet_id = qos > 0 ? packet_id : 0;
  m.qos = qos;
  return m;
}

mqtt_update messages(std::vector<mqtt_message> list) {
  mqtt_update update;
  update.what = mqtt_update::kind::messages;
  update.messages = std::move(list);
  return update;
}

} // namespace

TEST_CASE_METHOD(source_fixture, "the source connects to its session as the registration says and subscribes",
                 "[mqtt_source]") {
  spawn_mqtt(R"({"url": "mqtts://broker.example.com", "topic": "sensors/#", "qos": 0, "username": "u",
                 "password": "p"})");
  REQUIRE(mqtt->connections.size() == 1);
  const auto& req = mqtt->connection().request;
  CHECK(req.host == "broker.example.com");
  CHECK(req.port == 8883);
  CHECK(req.tls);
  CHECK(req.client_id == default_mqtt_client_id("guest/t"));
  CHECK(req.username == std::optional<std::string>{"u"});
  CHECK(req.password == std::optional<std::string>{"p"});
  CHECK_FALSE(req.clean_session);
  CHECK(req.owner == destination_owner::tenant);
  mqtt_deliver(connected(false));
  CHECK(mqtt->connection().subscribes == std::vector<std::pair<std::string, std::uint8_t>>{{"sensors/#", 0}});
  CHECK(mqtt->connection().reads == 0);
  mqtt_deliver(subscribed(0));
  CHECK(mqtt->connection().reads == 1);
}

TEST_CASE_METHOD(source_fixture, "QoS 1 messages are acknowledged only once the parent stored them, in their order",
                 "[mqtt_source]") {
  log->hold_items = true;
  spawn_mqtt(sensors);
  mqtt_deliver(connected(false));
  mqtt_deliver(subscribed());
  mqtt_deliver(messages({message(7, R"({"c":1})"), message(0, "plain", 0), message(3, R"({"c":2})")}));
  REQUIRE(log->held == 1);
  // Held by the parent, as by a store that has not committed yet: no PUBACK, and no further read.
  CHECK(mqtt->connection().acks.empty());
  CHECK(mqtt->connection().reads == 1);
  release_items();
  CHECK(mqtt->connection().acks == std::vector<std::uint16_t>{7, 3});
  CHECK(mqtt->connection().reads == 2);
  REQUIRE(log->committed.size() == 1);
  auto bodies = log->bodies();
  REQUIRE(bodies.size() == 3);
  CHECK(bodies[0] == R"({"topic":"sensors/1","qos":1,"retain":false,"payload":{"c":1}})");
  CHECK(bodies[1] == R"({"topic":"sensors/1","qos":0,"retain":false,"payload":"plain"})");
  CHECK(log->checkpoint() == sensors_checkpoint());
}

TEST_CASE_METHOD(source_fixture, "an oversized message is stored without its payload and acknowledged",
                 "[mqtt_source]") {
  spawn_mqtt(sensors);
  mqtt_deliver(connected(false));
  mqtt_deliver(subscribed());
  auto big = message(9, "");
  big.oversized = true;
  big.payload_size = 5'000'000;
  mqtt_deliver(messages({big}));
  REQUIRE(log->bodies().size() == 1);
  CHECK(log->bodies()[0].find(R"("payloadTooLarge":true)") != std::string::npos);
  CHECK(mqtt->connection().acks == std::vector<std::uint16_t>{9});
}

TEST_CASE_METHOD(source_fixture, "a refused store sends no PUBACK and offers fewer messages again a moment later",
                 "[mqtt_source]") {
  log->max_bodies = 1;
  spawn_mqtt(sensors);
  mqtt_deliver(connected(false));
  mqtt_deliver(subscribed());
  mqtt_deliver(messages({message(1, "1"), message(2, "2")}));
  CHECK(log->refused == 1);
  CHECK(mqtt->connection().acks.empty());
  advance(500ms);
  // Halved to one message per request: each is stored and acknowledged in turn.
  CHECK(log->committed.size() == 2);
  CHECK(mqtt->connection().acks == std::vector<std::uint16_t>{1, 2});
  CHECK(mqtt->connection().reads == 2);
}

TEST_CASE_METHOD(source_fixture, "a session the broker still holds with the same subscription is not subscribed again",
                 "[mqtt_source]") {
  SECTION("session present: no SUBSCRIBE, so the broker does not send retained messages again") {
    spawn_mqtt(sensors, sensors_checkpoint());
    mqtt_deliver(connected(true));
    CHECK(mqtt->connection().subscribes.empty());
    CHECK(mqtt->connection().reads == 1);
  }
  SECTION("session lost on the broker: subscribed again") {
    spawn_mqtt(sensors, sensors_checkpoint());
    mqtt_deliver(connected(false));
    CHECK(mqtt->connection().subscribes.size() == 1);
  }
  SECTION("another filter in the same session: dropped first") {
    spawn_mqtt(sensors,
               sensors_checkpoint(R"({"url": "mqtt://broker.example.com", "topic": "old/+"})"));
    mqtt_deliver(connected(true));
    CHECK(mqtt->connection().unsubscribes == std::vector<std::string>{"old/+"});
    CHECK(mqtt->connection().subscribes.empty());
    mqtt_update done;
    done.what = mqtt_update::kind::unsubscribed;
    mqtt_deliver(done);
    CHECK(mqtt->connection().subscribes == std::vector<std::pair<std::string, std::uint8_t>>{{"sensors/#", 1}});
  }
}

TEST_CASE_METHOD(source_fixture, "stopping the source sends DISCONNECT, keeping the broker session", "[mqtt_source]") {
  auto parent = spawn_mqtt(sensors);
  mqtt_deliver(connected(false));
  stop(parent);
  CHECK(mqtt->connection().disconnected);
}
