// The mqtt feed end to end: the real feedrouter process, the fake controller, and a mosquitto broker the test starts
// on 127.0.0.1 (tests/support/mosquitto_server.hpp).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/auth_key.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/mqtt_support.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/mosquitto_server.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::int64_t> numbers_from(std::int64_t first, std::int64_t count) {
  std::vector<std::int64_t> numbers(static_cast<std::size_t>(count));
  std::iota(numbers.begin(), numbers.end(), first);
  return numbers;
}

} // namespace

TEST_CASE("messages published after CREATE fire once each, in order, with their topic, payload and trigger_payload",
          "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server broker;
  broker.publish("sensors/1/temp", R"({"n":-1})");
  const trigger_ref trigger{"alice", "readings"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      mqtt_create_body(broker, "sensors/+/temp", R"("trigger_payload":{"site":"a"})")));
  INFO(created.body);
  REQUIRE(created.status == 201);
  // CREATE answers once the broker session holds the subscription: what is published from now on is kept for it.
  CHECK(json_string_at(created.body, "/status/checkpoint/topic") == std::string{"sensors/+/temp"});
  constexpr int count = 200;
  publish_numbered(broker, "sensors/7/temp", 0, count);
  broker.publish("sensors/8/temp", "21.5 degrees", 0);
  broker.publish("sensors/8/humidity", R"({"n":-2})");
  REQUIRE(wait_for_numbers(fx, trigger, count));
  REQUIRE(fx.wait_for_fires_of(trigger, count + 1, mqtt_message_timeout));
  CHECK(fired_numbers(fx, trigger) == numbers_from(0, count));
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == count + 1);
  const auto& first = fires.front();
  CHECK(json_string_at(first.body, "/topic") == std::string{"sensors/7/temp"});
  CHECK(json_int_at(first.body, "/qos") == 1);
  CHECK(json_at(first.body, "/retain") == std::string{"false"});
  CHECK(json_string_at(first.body, "/site") == std::string{"a"});
  CHECK(first.authorization == basic_authorization(alice_key));
  // Not JSON: the payload is fired as a string; QoS 0 as published. MQTT orders messages per publisher and QoS only,
  // so the broker may hand this one over before the last QoS 1 messages of the other publisher: looked up by topic.
  const auto plain = std::find_if(fires.begin(), fires.end(), [](const auto& fire) {
    return json_string_at(fire.body, "/topic") == std::string{"sensors/8/temp"};
  });
  REQUIRE(plain != fires.end());
  CHECK(json_string_at(plain->body, "/payload") == std::string{"21.5 degrees"});
  CHECK(json_int_at(plain->body, "/qos") == 0);
  fr->stop_cleanly();
}

TEST_CASE("PAUSE disconnects and keeps the broker session, UNPAUSE fires what was published meanwhile, each once",
          "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref paused{"alice", "paused-readings"};
  const trigger_ref witness{"alice", "witness"};
  fx.controller().add_trigger(paused, std::string{alice_key});
  fx.controller().add_trigger(witness, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(paused), alice_key, mqtt_create_body(broker, "r/#"))).status == 201);
  REQUIRE(fr->call(api_request("PUT", trigger_path(witness), alice_key, mqtt_create_body(broker, "r/#"))).status
          == 201);
  publish_numbered(broker, "r/a", 0, 10);
  REQUIRE(wait_for_numbers(fx, paused, 10));
  REQUIRE(wait_for_numbers(fx, witness, 10));
  REQUIRE(fr->call(api_request("POST", trigger_path(paused) + "/pause", alice_key)).status == 200);

  publish_numbered(broker, "r/a", 10, 6);
  // Once the other registration fired these, the paused one would have too had it been connected.
  REQUIRE(wait_for_numbers(fx, witness, 16));
  CHECK(fired_numbers(fx, paused).size() == 10);

  REQUIRE(fr->call(api_request("POST", trigger_path(paused) + "/resume", alice_key)).status == 200);
  REQUIRE(wait_for_numbers(fx, paused, 16));
  CHECK(fired_numbers(fx, paused) == numbers_from(0, 16));
  fr->stop_cleanly();
}

TEST_CASE("a restart of feedrouter fires what was published while it was down, a broker restart is reported and "
          "overcome",
          "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref trigger{"alice", "restarted"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key,
                                  mqtt_create_body(broker, "orders", R"("batchSize":5)")))
            .status
          == 201);
  publish_numbered(broker, "orders", 0, 20);
  REQUIRE(wait_for_numbers(fx, trigger, 20));
  first->stop_cleanly();
  first.reset();

  publish_numbered(broker, "orders", 20, 10);
  auto second = fx.start_feedrouter();
  REQUIRE(wait_for_numbers(fx, trigger, 30));
  CHECK(fired_numbers(fx, trigger) == numbers_from(0, 30));

  // The broker goes away: the status says so; once it is back the session (saved on SIGTERM) goes on.
  broker.stop();
  std::string view;
  CHECK(poll_until(
    [&] {
      view = read_registration(*second, trigger);
      return json_string_at(view, "/status/lastSourceError").has_value();
    },
    mqtt_message_timeout));
  INFO(view);
  CHECK(json_string_at(view, "/status/state") == std::string{"active"});
  broker.start();
  publish_numbered(broker, "orders", 30, 10);
  REQUIRE(wait_for_numbers(fx, trigger, 40));
  CHECK(fired_numbers(fx, trigger) == numbers_from(0, 40));
  CHECK(poll_until([&] { return !json_string_at(read_registration(*second, trigger), "/status/lastSourceError"); },
                   mqtt_message_timeout));
  second->stop_cleanly();
}

TEST_CASE("a message larger than the payload bound fires without its payload, the messages around it fire",
          "[e2e][mqtt]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref trigger{"alice", "big"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, mqtt_create_body(broker, "big"))).status
          == 201);
  broker.publish("big", R"({"n":0})");
  broker.publish("big", std::string(2 * 1024 * 1024, 'x'));
  broker.publish("big", R"({"n":1})");
  REQUIRE(fx.wait_for_fires_of(trigger, 3, mqtt_message_timeout));
  auto fires = fx.fires_of(trigger);
  CHECK(fired_numbers(fx, trigger) == numbers_from(0, 2));
  CHECK(json_at(fires[1].body, "/payloadTooLarge") == std::string{"true"});
  CHECK(json_int_at(fires[1].body, "/payloadBytes") == 2 * 1024 * 1024);
  fr->stop_cleanly();
}
