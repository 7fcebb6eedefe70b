#include "actors/sources/mqtt.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr char sensors[] = R"({"url": "mqtt://broker.example.com", "topic": "sensors/#"})";

mqtt_update update_of(mqtt_update::kind what) {
  mqtt_update update;
  update.what = what;
  return update;
}

mqtt_update failed(mqtt_failure failure) {
  auto update = update_of(mqtt_update::kind::failed);
  update.failure = failure;
  update.error = "connect: Connection refused";
  return update;
}

} // namespace

TEST_CASE_METHOD(source_fixture, "a failed connection is reported, dropped, and made again after a back-off",
                 "[mqtt_source]") {
  spawn_mqtt(sensors);
  auto connected = update_of(mqtt_update::kind::connected);
  mqtt_deliver(connected);
  auto subscribed = update_of(mqtt_update::kind::subscribed);
  subscribed.granted = {1};
  mqtt_deliver(subscribed);
  log->hold_items = true;
  mqtt_message m;
  m.topic = "sensors/1";
  m.payload = "1";
  m.packet_id = 4;
  m.qos = 1;
  auto arrived = update_of(mqtt_update::kind::messages);
  arrived.messages = {m};
  mqtt_deliver(arrived);
  mqtt_deliver(failed(mqtt_failure::connection_lost));
  CHECK(mqtt->connection().closed);
  // The operator's detail stays in the log; the tenant sees what kind of failure it was.
  CHECK(log->statuses == std::vector<std::string>{"MQTT broker: the connection was lost"});
  // Stored after the connection was lost: no PUBACK can go out; the broker sends the message again.
  release_items();
  CHECK(mqtt->connection().acks.empty());
  advance(30s);
  REQUIRE(mqtt->connections.size() == 2);
  mqtt_deliver(connected);
  mqtt_deliver(subscribed);
  CHECK(log->statuses == std::vector<std::string>{"MQTT broker: the connection was lost", ""});
}

TEST_CASE_METHOD(source_fixture, "what retrying cannot mend disables the registration", "[mqtt_source]") {
  spawn_mqtt(sensors);
  SECTION("a refused login") {
    auto refused = update_of(mqtt_update::kind::connected);
    refused.return_code = 5;
    mqtt_deliver(refused);
    REQUIRE(log->disables.size() == 1);
    CHECK(log->disables[0].second == "the MQTT broker refused the connection: not authorized");
  }
  SECTION("a refused subscription") {
    mqtt_deliver(update_of(mqtt_update::kind::connected));
    auto refused = update_of(mqtt_update::kind::subscribed);
    refused.granted = {mqtt_granted_refusal};
    mqtt_deliver(refused);
    REQUIRE(log->disables.size() == 1);
    CHECK(log->disables[0].second.find("subscription") != std::string::npos);
  }
  SECTION("a broker address the egress policy refuses") {
    mqtt_deliver(failed(mqtt_failure::not_allowed));
    REQUIRE(log->disables.size() == 1);
    CHECK(log->disables[0].second.find("egress policy") != std::string::npos);
  }
  // Nothing more: no reconnect.
  advance(60s);
  CHECK(mqtt->connections.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "a broker that is unavailable for now is retried, not disabled", "[mqtt_source]") {
  spawn_mqtt(sensors);
  auto unavailable = update_of(mqtt_update::kind::connected);
  unavailable.return_code = 3;
  mqtt_deliver(unavailable);
  CHECK(log->disables.empty());
  CHECK(log->statuses.size() == 1);
  advance(30s);
  CHECK(mqtt->connections.size() == 2);
}

TEST_CASE_METHOD(source_fixture, "without room among the instance's connections the source says so and tries again",
                 "[mqtt_source]") {
  spawn_mqtt(sensors);
  mqtt_deliver(failed(mqtt_failure::no_room));
  CHECK(log->disables.empty());
  CHECK(log->statuses
        == std::vector<std::string>{"this provider runs as many mqtt feeds as it may at once; try again later"});
  advance(30s);
  CHECK(mqtt->connections.size() == 2);
}
