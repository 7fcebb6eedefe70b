// The MQTT client against a real broker (mosquitto, tests/support/mosquitto_server.hpp).

#include "net/mqtt_client.hpp"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/mosquitto_server.hpp"
#include "tests/unit/net/mqtt_client_fixture.hpp"
#include "tests/unit/net/self_signed_cert.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using kind = mqtt_update::kind;

namespace {

std::vector<mqtt_publication> numbered(const std::string& topic, int from, int to, int qos = 1) {
  std::vector<mqtt_publication> messages;
  for (int i = from; i <= to; ++i)
    messages.push_back({topic, std::to_string(i), qos, false});
  return messages;
}

std::vector<std::string> payloads(const std::vector<mqtt_message>& messages) {
  std::vector<std::string> all;
  for (const auto& m : messages)
    all.push_back(m.payload);
  return all;
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> all;
  for (int i = from; i <= to; ++i)
    all.push_back(std::to_string(i));
  return all;
}

} // namespace

TEST_CASE_METHOD(mqtt_client_fixture, "the client connects, subscribes and receives QoS 0 and QoS 1 messages in order",
                 "[mqtt_client]") {
  mosquitto_server broker;
  auto conn = open(request(broker.port(), "client-1"));
  auto connack = conn.updates->expect(kind::connected);
  CHECK(connack.return_code == 0);
  CHECK_FALSE(connack.session_present);
  conn.connection->subscribe("dev/+/temp", 1);
  CHECK(conn.updates->expect(kind::subscribed).granted == std::vector<std::uint8_t>{1});
  broker.publish({{"dev/42/temp", R"({"c": 21.5})", 1, false},
                  {"dev/7/temp", "cold", 0, false},
                  {"other/topic", "not for us", 1, false},
                  {"dev/8/temp", std::string{"\x00\x01\xff", 3}, 1, false}});
  auto messages = conn.read_messages(3);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].topic == "dev/42/temp");
  CHECK(messages[0].payload == R"({"c": 21.5})");
  CHECK(messages[0].payload_size == 11);
  CHECK(messages[0].qos == 1);
  CHECK(messages[0].packet_id != 0);
  CHECK_FALSE(messages[0].dup);
  CHECK_FALSE(messages[0].retain);
  CHECK(messages[1].topic == "dev/7/temp");
  CHECK(messages[1].qos == 0);
  CHECK(messages[1].packet_id == 0);
  CHECK(messages[2].payload == std::string{"\x00\x01\xff", 3});
  conn.connection->ack(messages[0].packet_id);
  conn.connection->ack(messages[2].packet_id);
}

TEST_CASE_METHOD(mqtt_client_fixture, "a retained message comes with the retain flag on subscribing", "[mqtt_client]") {
  mosquitto_server broker;
  broker.publish("status/door", "open", 1, true);
  auto conn = subscribed(request(broker.port(), "client-retained"), "status/#", 1);
  auto messages = conn.read_messages(1);
  CHECK(messages[0].payload == "open");
  CHECK(messages[0].retain);
}

TEST_CASE_METHOD(mqtt_client_fixture,
                 "a QoS 1 message not acknowledged comes again with DUP after a reconnect to the persistent session",
                 "[mqtt_client]") {
  mosquitto_server broker;
  std::uint16_t first_id = 0;
  {
    auto conn = subscribed(request(broker.port(), "fr-redelivery"), "dev/#", 1);
    broker.publish("dev/1", "unacknowledged");
    auto messages = conn.read_messages(1);
    first_id = messages[0].packet_id;
    CHECK_FALSE(messages[0].dup);
    // Closed without PUBACK and without DISCONNECT, as a process killed between storing and acknowledging would.
  }
  broker.publish({{"dev/2", "while away", 1, false}});
  {
    auto conn = open(request(broker.port(), "fr-redelivery"));
    auto connack = conn.updates->expect(kind::connected);
    CHECK(connack.session_present);
    auto messages = conn.read_messages(2);
    CHECK(messages[0].payload == "unacknowledged");
    CHECK(messages[0].dup);
    CHECK(messages[0].packet_id == first_id);
    // Not checked for DUP: the broker may have sent it to the first connection before it noticed that one closed.
    CHECK(messages[1].payload == "while away");
    conn.connection->ack(messages[0].packet_id);
    conn.connection->ack(messages[1].packet_id);
    conn.connection->disconnect();
  }
  auto conn = open(request(broker.port(), "fr-redelivery"));
  CHECK(conn.updates->expect(kind::connected).session_present);
  broker.publish("dev/3", "marker");
  // Nothing acknowledged comes back: the next message is the new one.
  auto messages = conn.read_messages(1);
  CHECK(messages[0].payload == "marker");
  CHECK_FALSE(messages[0].dup);
}

TEST_CASE_METHOD(mqtt_client_fixture, "the broker stops at its in-flight limit and goes on as messages are acknowledged",
                 "[mqtt_client]") {
  mosquitto_server::options opts;
  opts.max_inflight = 5;
  mosquitto_server broker{opts};
  auto conn = subscribed(request(broker.port(), "client-window"), "w", 1);
  broker.publish(numbered("w", 1, 12));
  std::vector<mqtt_message> held;
  while (held.size() < 5) {
    for (auto& m : conn.read_messages(1))
      held.push_back(std::move(m));
  }
  CHECK(payloads(held) == numbers(1, 5));
  for (const auto& m : held)
    conn.connection->ack(m.packet_id);
  auto rest = conn.read_messages(7);
  CHECK(payloads(rest) == numbers(6, 12));
}

TEST_CASE_METHOD(mqtt_client_fixture, "with a clean session nothing is kept across connections", "[mqtt_client]") {
  mosquitto_server broker;
  {
    auto conn = subscribed(request(broker.port(), "client-clean", true), "c/#", 1);
    conn.connection->disconnect();
  }
  broker.publish("c/1", "lost");
  auto conn = open(request(broker.port(), "client-clean", true));
  CHECK_FALSE(conn.updates->expect(kind::connected).session_present);
  conn.connection->subscribe("c/#", 1);
  conn.updates->expect(kind::subscribed);
  broker.publish("c/2", "kept");
  CHECK(payloads(conn.read_messages(1)) == std::vector<std::string>{"kept"});
}

TEST_CASE_METHOD(mqtt_client_fixture, "DISCONNECT keeps the persistent session and what is published meanwhile",
                 "[mqtt_client]") {
  mosquitto_server broker;
  {
    auto conn = subscribed(request(broker.port(), "client-paused"), "p/#", 1);
    conn.connection->disconnect();
  }
  broker.publish(numbered("p/x", 1, 3));
  auto conn = open(request(broker.port(), "client-paused"));
  CHECK(conn.updates->expect(kind::connected).session_present);
  CHECK(payloads(conn.read_messages(3)) == numbers(1, 3));
}

TEST_CASE_METHOD(mqtt_client_fixture, "unsubscribing stops the messages of a filter", "[mqtt_client]") {
  mosquitto_server broker;
  auto conn = subscribed(request(broker.port(), "client-unsub"), "old/#", 1);
  conn.connection->subscribe("new/#", 1);
  conn.updates->expect(kind::subscribed);
  conn.connection->unsubscribe("old/#");
  conn.updates->expect(kind::unsubscribed);
  broker.publish({{"old/a", "gone", 1, false}, {"new/a", "here", 1, false}});
  CHECK(payloads(conn.read_messages(1)) == std::vector<std::string>{"here"});
}

TEST_CASE_METHOD(mqtt_client_fixture, "user name and password log in, wrong ones are refused with CONNACK 5",
                 "[mqtt_client]") {
  mosquitto_server::options opts;
  opts.anonymous = false;
  opts.users = {{"alice", "s3cret"}};
  mosquitto_server broker{opts};
  SECTION("right") {
    auto req = request(broker.port(), "client-auth");
    req.username = "alice";
    req.password = "s3cret";
    auto conn = open(req);
    CHECK(conn.updates->expect(kind::connected).return_code == 0);
  }
  SECTION("wrong password") {
    auto req = request(broker.port(), "client-auth");
    req.username = "alice";
    req.password = "wrong";
    auto conn = open(req);
    auto connack = conn.updates->expect(kind::connected);
    CHECK(connack.return_code == 5);
    CHECK(mqtt_refusal_text(connack.return_code) == "not authorized");
    // The refusal closes the connection: nothing follows.
    CHECK_FALSE(conn.updates->next(std::chrono::milliseconds{0}));
  }
  SECTION("none") {
    auto conn = open(request(broker.port(), "client-auth"));
    CHECK(conn.updates->expect(kind::connected).return_code == 5);
  }
}

TEST_CASE_METHOD(mqtt_client_fixture, "an oversized message comes without its payload, is acknowledged, and the next "
                                      "one follows whole", "[mqtt_client]") {
  mosquitto_server broker;
  auto req = request(broker.port(), "client-big");
  req.max_packet = 1024;
  auto conn = subscribed(req, "big/#", 1);
  broker.publish({{"big/one", std::string(100'000, 'x'), 1, false}, {"big/two", "small", 1, false}});
  auto messages = conn.read_messages(2);
  CHECK(messages[0].oversized);
  CHECK(messages[0].topic == "big/one");
  CHECK(messages[0].payload.empty());
  CHECK(messages[0].payload_size == 100'000);
  CHECK_FALSE(messages[1].oversized);
  CHECK(messages[1].payload == "small");
  conn.connection->ack(messages[0].packet_id);
  conn.connection->ack(messages[1].packet_id);
  conn.connection->disconnect();
  // Acknowledged: a reconnect brings neither again.
  auto again = open(request(broker.port(), "client-big"));
  again.updates->expect(kind::connected);
  broker.publish("big/three", "next");
  CHECK(payloads(again.read_messages(1)) == std::vector<std::string>{"next"});
}

TEST_CASE("mqtts verifies the broker's certificate against the CA file", "[mqtt_client]") {
  auto dir = std::filesystem::temp_directory_path() / ("feedrouter-mqtt-cert-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto cert = make_self_signed_cert(dir.string(), "localhost");
  mosquitto_server::options opts;
  opts.tls = std::make_pair(cert.cert_file, cert.key_file);
  {
    mosquitto_server broker{opts};
    CHECK(broker.url().rfind("mqtts://", 0) == 0);
    SECTION("trusted") {
      mqtt_connector_options client_opts;
      client_opts.ca_file = cert.cert_file;
      mqtt_client_fixture fx{client_opts};
      auto req = mqtt_client_fixture::request(broker.port(), "client-tls");
      req.tls = true;
      auto conn = fx.subscribed(req, "t", 1);
      SUCCEED("TLS connection made and subscribed");
    }
    SECTION("unknown CA") {
      mqtt_client_fixture fx;
      auto req = mqtt_client_fixture::request(broker.port(), "client-tls");
      req.tls = true;
      auto conn = fx.open(req);
      auto failed = conn.updates->expect(kind::failed);
      CHECK(failed.failure == mqtt_failure::no_connection);
      CHECK(failed.error.find("tls handshake") != std::string::npos);
    }
  }
  std::filesystem::remove_all(dir);
}
