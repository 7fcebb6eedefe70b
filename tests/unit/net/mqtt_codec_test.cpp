#include "net/detail/mqtt_codec.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (auto v : values)
    out += static_cast<char>(v);
  return out;
}

/// Feeds `stream` to a decoder in pieces of `piece` bytes and returns every packet, failing on anything malformed.
std::vector<mqtt_packet> decode_all(std::string_view stream, std::size_t piece, std::size_t max_packet = 1 << 20) {
  mqtt_decoder decoder{max_packet};
  std::vector<mqtt_packet> packets;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    decoder.feed(stream.substr(at, piece));
    for (auto next = decoder.next(); next.what != mqtt_decoded::kind::need_more; next = decoder.next()) {
      INFO(next.error);
      REQUIRE(next.what == mqtt_decoded::kind::packet);
      packets.push_back(std::move(next.packet));
    }
  }
  return packets;
}

} // namespace

// -- encoding ------------------------------------------------------------------------------------------------------

TEST_CASE("CONNECT carries MQTT level 4, the flags, the keepalive and the strings in order", "[mqtt_codec]") {
  mqtt_connect_fields fields;
  fields.client_id = "c1";
  fields.username = "u";
  fields.password = "pw";
  fields.keepalive_seconds = 30;
  CHECK(encode_mqtt_connect(fields)
        == bytes({0x10, 21, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xc0, 0, 30, 0, 2, 'c', '1', 0, 1, 'u', 0, 2, 'p', 'w'}));
  mqtt_connect_fields clean;
  clean.client_id = "x";
  clean.clean_session = true;
  CHECK(encode_mqtt_connect(clean) == bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0, 0, 1, 'x'}));
}

TEST_CASE("SUBSCRIBE, UNSUBSCRIBE, PUBACK, PINGREQ and DISCONNECT are encoded as the standard gives them",
          "[mqtt_codec]") {
  CHECK(encode_mqtt_subscribe(7, "a/#", 1) == bytes({0x82, 8, 0, 7, 0, 3, 'a', '/', '#', 1}));
  CHECK(encode_mqtt_unsubscribe(8, "a/#") == bytes({0xa2, 7, 0, 8, 0, 3, 'a', '/', '#'}));
  CHECK(encode_mqtt_puback(0x1234) == bytes({0x40, 2, 0x12, 0x34}));
  CHECK(encode_mqtt_pingreq() == bytes({0xc0, 0}));
  CHECK(encode_mqtt_disconnect() == bytes({0xe0, 0}));
}

TEST_CASE("a remaining length above 127 takes continuation bytes", "[mqtt_codec]") {
  auto packet = encode_mqtt_publish("t", std::string(200, 'x'), 0, false, false, 0);
  // 2 + 1 + 200 = 203 = 0x4b + 1 * 128
  CHECK(packet.substr(0, 3) == bytes({0x30, 0xcb, 0x01}));
  CHECK(packet.size() == 3 + 203);
  auto large = encode_mqtt_publish("t", std::string(2'097'152, 'x'), 1, true, true, 9);
  CHECK(large.substr(0, 5) == bytes({0x3b, 0x85, 0x80, 0x80, 0x01}));
}

TEST_CASE("mqtt_connect_problem refuses what CONNECT cannot carry", "[mqtt_codec]") {
  mqtt_connect_fields fields;
  fields.client_id = "c";
  CHECK(mqtt_connect_problem(fields).empty());
  fields.password = "pw";
  CHECK(mqtt_connect_problem(fields) == "a password needs a user name in MQTT 3.1.1");
  fields.username = std::string(mqtt_max_string + 1, 'u');
  CHECK(mqtt_connect_problem(fields) == "user name longer than 65535 bytes");
}

// -- decoding ------------------------------------------------------------------------------------------------------

TEST_CASE("CONNACK, SUBACK, UNSUBACK, PUBACK and PINGRESP are decoded", "[mqtt_codec]") {
  auto stream = bytes({0x20, 2, 1, 0, 0x90, 5, 0, 1, 1, 0, 0x80, 0xb0, 2, 0, 2, 0x40, 2, 0, 3, 0xd0, 0});
  auto packets = decode_all(stream, stream.size());
  REQUIRE(packets.size() == 5);
  CHECK(packets[0].type == mqtt_packet_type::connack);
  CHECK(packets[0].session_present);
  CHECK(packets[0].return_code == 0);
  CHECK(packets[1].type == mqtt_packet_type::suback);
  CHECK(packets[1].packet_id == 1);
  CHECK(packets[1].granted == std::vector<std::uint8_t>{1, 0, mqtt_subscription_refused});
  CHECK(packets[2].type == mqtt_packet_type::unsuback);
  CHECK(packets[2].packet_id == 2);
  CHECK(packets[3].type == mqtt_packet_type::puback);
  CHECK(packets[3].packet_id == 3);
  CHECK(packets[4].type == mqtt_packet_type::pingresp);
}

TEST_CASE("a refused CONNACK carries its return code", "[mqtt_codec]") {
  auto packets = decode_all(bytes({0x20, 2, 0, 5}), 4);
  REQUIRE(packets.size() == 1);
  CHECK_FALSE(packets[0].session_present);
  CHECK(packets[0].return_code == 5);
}

TEST_CASE("PUBLISH of QoS 0 and 1 keeps topic, packet id, flags and payload, however the bytes arrive",
          "[mqtt_codec]") {
  auto stream = encode_mqtt_publish("dev/42/temp", R"({"c": 21.5})", 1, false, true, 513)
                + encode_mqtt_publish("alarms/fire", "", 0, true, false, 0)
                + encode_mqtt_publish("big", std::string(70'000, 'b'), 1, false, false, 2);
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, stream.size()}) {
    INFO("pieces of " << piece);
    auto packets = decode_all(stream, piece);
    REQUIRE(packets.size() == 3);
    CHECK(packets[0].type == mqtt_packet_type::publish);
    CHECK(packets[0].topic == "dev/42/temp");
    CHECK(packets[0].payload == R"({"c": 21.5})");
    CHECK(packets[0].payload_size == 11);
    CHECK(packets[0].qos == 1);
    CHECK(packets[0].dup);
    CHECK_FALSE(packets[0].retain);
    CHECK(packets[0].packet_id == 513);
    CHECK_FALSE(packets[0].oversized);
    CHECK(packets[1].topic == "alarms/fire");
    CHECK(packets[1].payload.empty());
    CHECK(packets[1].qos == 0);
    CHECK(packets[1].retain);
    CHECK(packets[1].packet_id == 0);
    CHECK(packets[2].payload == std::string(70'000, 'b'));
  }
}

TEST_CASE("an oversized PUBLISH keeps its topic and packet id, drops its payload, and the next packet follows",
          "[mqtt_codec]") {
  constexpr std::size_t limit = 100;
  auto stream = encode_mqtt_publish("big/one", std::string(5000, 'x'), 1, false, false, 77)
                + encode_mqtt_publish("small", "ok", 1, false, false, 78);
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{64}, stream.size()}) {
    INFO("pieces of " << piece);
    mqtt_decoder decoder{limit};
    std::vector<mqtt_packet> packets;
    std::size_t most_held = 0;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      decoder.feed(std::string_view{stream}.substr(at, piece));
      most_held = std::max(most_held, decoder.buffered());
      for (auto next = decoder.next(); next.what == mqtt_decoded::kind::packet; next = decoder.next())
        packets.push_back(std::move(next.packet));
    }
    REQUIRE(packets.size() == 2);
    CHECK(packets[0].oversized);
    CHECK(packets[0].topic == "big/one");
    CHECK(packets[0].packet_id == 77);
    CHECK(packets[0].payload.empty());
    CHECK(packets[0].payload_size == 5000);
    CHECK_FALSE(packets[1].oversized);
    CHECK(packets[1].payload == "ok");
    // Never more than one piece beyond a packet of the limit.
    CHECK(most_held <= limit + piece);
  }
}

TEST_CASE("a PUBLISH exactly at the limit is whole, one byte more is oversized", "[mqtt_codec]") {
  auto at_limit = encode_mqtt_publish("t", std::string(10, 'x'), 0, false, false, 0);
  auto packets = decode_all(at_limit, at_limit.size(), at_limit.size());
  REQUIRE(packets.size() == 1);
  CHECK_FALSE(packets[0].oversized);
  auto above = decode_all(at_limit, 1, at_limit.size() - 1);
  REQUIRE(above.size() == 1);
  CHECK(above[0].oversized);
  CHECK(above[0].payload_size == 10);
}
