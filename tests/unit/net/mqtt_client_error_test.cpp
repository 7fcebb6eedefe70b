// The MQTT client against brokers that fail or misbehave: a scripted broker (raw_mqtt_broker) on the test's thread,
// closed ports, and the egress policy.

#include "net/mqtt_client.hpp"

#include <chrono>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "net/detail/mqtt_codec.hpp"
#include "tests/support/free_port.hpp"
#include "tests/unit/net/mqtt_client_fixture.hpp"
#include "tests/unit/net/raw_mqtt_broker.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using kind = mqtt_update::kind;

namespace {

/// How long the scripted broker waits for the client; reached only when something is broken.
constexpr std::chrono::milliseconds broker_timeout{20'000};

constexpr int connect_type = 1;
constexpr int subscribe_type = 8;
constexpr int puback_type = 4;
constexpr int pingreq_type = 12;
constexpr int disconnect_type = 14;

const std::string connack_accepted{"\x20\x02\x00\x00", 4};

/// Has the scripted broker take the client's CONNECT and accept it.
void accept_client(raw_mqtt_broker& broker) {
  REQUIRE(broker.accept(broker_timeout));
  auto connect = broker.read_packet(broker_timeout);
  REQUIRE(connect);
  REQUIRE(connect->type == connect_type);
  broker.write(connack_accepted);
}

} // namespace

TEST_CASE_METHOD(mqtt_client_fixture, "CONNECT carries the client id, the credentials and the keepalive",
                 "[mqtt_client]") {
  raw_mqtt_broker broker;
  auto req = request(broker.port(), "c-77", true);
  req.username = "alice";
  req.password = "pw";
  req.keepalive = std::chrono::seconds{42};
  auto conn = open(req);
  REQUIRE(broker.accept(broker_timeout));
  auto connect = broker.read_packet(broker_timeout);
  REQUIRE(connect);
  mqtt_connect_fields fields;
  fields.client_id = "c-77";
  fields.username = "alice";
  fields.password = "pw";
  fields.clean_session = true;
  fields.keepalive_seconds = 42;
  CHECK("\x10" + std::string(1, static_cast<char>(connect->body.size())) + connect->body
        == encode_mqtt_connect(fields));
}

TEST_CASE_METHOD(mqtt_client_fixture, "a silent client sends PINGREQ after its keepalive, and fails when no PINGRESP "
                                      "comes while it reads", "[mqtt_client]") {
  raw_mqtt_broker broker;
  auto req = request(broker.port(), "c-keepalive");
  req.keepalive = std::chrono::seconds{1};
  req.timeout = std::chrono::milliseconds{1000};
  auto conn = open(req);
  accept_client(broker);
  conn.updates->expect(kind::connected);
  conn.connection->read();
  auto ping = broker.read_packet(broker_timeout);
  REQUIRE(ping);
  CHECK(ping->type == pingreq_type);
  SECTION("answered, it stays up and pings again") {
    broker.write(std::string{"\xd0\x00", 2});
    auto again = broker.read_packet(broker_timeout);
    REQUIRE(again);
    CHECK(again->type == pingreq_type);
    CHECK(conn.updates->idle());
  }
  SECTION("not answered, it fails") {
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::no_answer);
    CHECK(broker.wait_for_close(broker_timeout));
  }
}

TEST_CASE_METHOD(mqtt_client_fixture, "a client that does not read leaves the broker's bytes in the socket",
                 "[mqtt_client]") {
  raw_mqtt_broker broker;
  auto req = request(broker.port(), "c-backpressure");
  req.max_messages_per_read = 64;
  auto conn = open(req);
  accept_client(broker);
  conn.updates->expect(kind::connected);
  conn.connection->subscribe("b/#", 0);
  auto subscribe = broker.read_packet(broker_timeout);
  REQUIRE(subscribe);
  CHECK(subscribe->type == subscribe_type);
  CHECK(subscribe->flags == 2);
  broker.write(std::string{"\x90\x03\x00\x01\x00", 5});
  conn.updates->expect(kind::subscribed);
  // Nothing asked for messages: the socket fills up and the broker cannot send more (TCP flow control).
  auto packet = encode_mqtt_publish("b/x", std::string(4096, 'p'), 0, false, false, 0);
  auto sent = broker.write_until_full(packet, 1'000'000);
  CHECK(sent < 1'000'000);
  CHECK(conn.updates->idle());
  // Reading takes them all, in batches of at most max_messages_per_read.
  std::size_t received = 0;
  bool flushed = false;
  while (received < sent) {
    conn.connection->read();
    auto batch = conn.updates->expect(kind::messages);
    CHECK(batch.messages.size() <= 64);
    received += batch.messages.size();
    if (!flushed) {
      broker.flush_tail();
      flushed = true;
    }
  }
  CHECK(received == sent);
}

TEST_CASE_METHOD(mqtt_client_fixture, "acknowledgements go out in the order they are given", "[mqtt_client]") {
  raw_mqtt_broker broker;
  auto conn = open(request(broker.port(), "c-acks"));
  accept_client(broker);
  conn.updates->expect(kind::connected);
  for (std::uint16_t id : {5, 3, 9})
    conn.connection->ack(id);
  for (std::uint16_t id : {5, 3, 9}) {
    auto puback = broker.read_packet(broker_timeout);
    REQUIRE(puback);
    CHECK(puback->type == puback_type);
    CHECK(puback->body == encode_mqtt_puback(id).substr(2));
  }
  conn.connection->disconnect();
  auto disconnect = broker.read_packet(broker_timeout);
  REQUIRE(disconnect);
  CHECK(disconnect->type == disconnect_type);
  CHECK(broker.wait_for_close(broker_timeout));
  CHECK(conn.updates->idle());
}

TEST_CASE_METHOD(mqtt_client_fixture, "a broker that breaks the protocol fails the connection", "[mqtt_client]") {
  raw_mqtt_broker broker;
  auto req = request(broker.port(), "c-protocol");
  req.timeout = std::chrono::milliseconds{1000};
  auto conn = open(req);
  REQUIRE(broker.accept(broker_timeout));
  REQUIRE(broker.read_packet(broker_timeout));
  SECTION("a PUBLISH before CONNACK") {
    broker.write(encode_mqtt_publish("t", "x", 0, false, false, 0));
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::protocol);
    CHECK(failed.error == "PUBLISH before CONNACK");
  }
  SECTION("a SUBACK nothing asked for") {
    broker.write(connack_accepted);
    conn.updates->expect(kind::connected);
    conn.connection->read();
    broker.write(std::string{"\x90\x03\x00\x01\x00", 5});
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::protocol);
    CHECK(failed.error == "a SUBACK nothing asked for");
  }
  SECTION("a malformed packet") {
    broker.write(std::string{"\x20\x02\x00\x09", 4});
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::protocol);
    CHECK(failed.error == "CONNACK with an unknown return code 9");
  }
  SECTION("not MQTT at all") {
    // "H" reads as the head of a PUBACK whose length the bytes never reach: no CONNACK comes.
    broker.write("HTTP/1.1 400 Bad Request\r\n\r\n");
    CHECK(conn.updates->expect(kind::failed).failure == mqtt_failure::no_connection);
  }
  CHECK(broker.wait_for_close(broker_timeout));
}

TEST_CASE_METHOD(mqtt_client_fixture, "no CONNACK within the timeout, a closed port and a lost connection fail",
                 "[mqtt_client]") {
  SECTION("no CONNACK") {
    raw_mqtt_broker broker;
    auto req = request(broker.port(), "c-silent");
    req.timeout = std::chrono::milliseconds{300};
    auto conn = open(req);
    REQUIRE(broker.accept(broker_timeout));
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::no_connection);
    CHECK(failed.error == "timeout waiting for CONNACK");
  }
  SECTION("nothing listens") {
    auto conn = open(request(pick_free_port(), "c-refused"));
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::no_connection);
    CHECK(failed.error.rfind("connect: ", 0) == 0);
    CHECK(mqtt_failure_text(failed.failure)
          == "no MQTT connection (cannot connect, timed out, TLS failed or not an MQTT broker)");
  }
  SECTION("the broker goes away") {
    raw_mqtt_broker broker;
    auto conn = open(request(broker.port(), "c-lost"));
    accept_client(broker);
    conn.updates->expect(kind::connected);
    conn.connection->read();
    broker.close_connection();
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::connection_lost);
    CHECK(failed.error.rfind("read: ", 0) == 0);
  }
}

TEST_CASE("the egress policy judges the broker's address before connecting", "[mqtt_client]") {
  raw_mqtt_broker broker;
  mqtt_connector_options opts;
  opts.egress = std::make_shared<const egress_policy>();
  mqtt_client_fixture fx{opts};
  SECTION("a tenant's broker on loopback is refused") {
    auto conn = fx.open(mqtt_client_fixture::request(broker.port(), "c-egress"));
    auto failed = conn.updates->expect(kind::failed);
    CHECK(failed.failure == mqtt_failure::not_allowed);
    CHECK(mqtt_failure_text(failed.failure) == "not allowed by the egress policy");
    CHECK_FALSE(broker.accept(std::chrono::milliseconds{0}));
  }
  SECTION("by name too: localhost") {
    auto req = mqtt_client_fixture::request(broker.port(), "c-egress");
    req.host = "localhost";
    auto conn = fx.open(req);
    CHECK(conn.updates->expect(kind::failed).failure == mqtt_failure::not_allowed);
  }
  SECTION("the operator's own destination is not judged") {
    auto req = mqtt_client_fixture::request(broker.port(), "c-egress");
    req.owner = destination_owner::operator_config;
    auto conn = fx.open(req);
    accept_client(broker);
    CHECK(conn.updates->expect(kind::connected).return_code == 0);
  }
}

TEST_CASE_METHOD(mqtt_client_fixture, "what CONNECT cannot carry fails before connecting", "[mqtt_client]") {
  raw_mqtt_broker broker;
  auto req = request(broker.port(), "c-bad");
  req.password = "no user";
  auto conn = open(req);
  auto failed = conn.updates->expect(kind::failed);
  CHECK(failed.error == "a password needs a user name in MQTT 3.1.1");
  CHECK_FALSE(broker.accept(std::chrono::milliseconds{0}));
}

TEST_CASE("beyond max_connections a connection fails with no_room, and has room again once one ended",
          "[mqtt_client]") {
  raw_mqtt_broker broker;
  mqtt_connector_options opts;
  opts.max_connections = 1;
  mqtt_client_fixture fx{opts};
  auto first = fx.open(mqtt_client_fixture::request(broker.port(), "c-first"));
  accept_client(broker);
  REQUIRE(first.updates->expect(kind::connected).return_code == 0);
  CHECK_FALSE(fx.connector->has_room());
  auto second = fx.open(mqtt_client_fixture::request(broker.port(), "c-second"));
  auto refused = second.updates->expect(kind::failed);
  CHECK(refused.failure == mqtt_failure::no_room);
  CHECK(refused.error == "this instance has 1 MQTT connections open (--max-mqtt-feeds)");
  CHECK(mqtt_failure_text(refused.failure)
        == "this provider runs as many mqtt feeds as it may at once; try again later");
  first.connection->close();
  REQUIRE(broker.wait_for_close(broker_timeout));
  CHECK(fx.connector->has_room());
  auto third = fx.open(mqtt_client_fixture::request(broker.port(), "c-third"));
  accept_client(broker);
  CHECK(third.updates->expect(kind::connected).return_code == 0);
}

TEST_CASE("at max_connections a connection of a closing session takes the place the closing one gives back",
          "[mqtt_client]") {
  raw_mqtt_broker broker;
  mqtt_connector_options opts;
  opts.max_connections = 1;
  mqtt_client_fixture fx{opts};
  auto first = fx.open(mqtt_client_fixture::request(broker.port(), "c-same"));
  accept_client(broker);
  REQUIRE(first.updates->expect(kind::connected).return_code == 0);
  // As a source after its preparer: the next connection of the session is made while the first still closes.
  first.connection->disconnect();
  auto next = fx.open(mqtt_client_fixture::request(broker.port(), "c-same"));
  auto disconnect = broker.read_packet(broker_timeout);
  REQUIRE(disconnect);
  CHECK(disconnect->type == disconnect_type);
  accept_client(broker);
  CHECK(next.updates->expect(kind::connected).return_code == 0);
}
