#include "net/detail/mqtt_codec.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (auto v : values)
    out += static_cast<char>(v);
  return out;
}

/// Returns the error the decoder gives for `stream` (fed whole), failing when it finds none.
std::string error_of(const std::string& stream, std::size_t max_packet = 1024) {
  mqtt_decoder decoder{max_packet};
  decoder.feed(stream);
  for (auto next = decoder.next();; next = decoder.next()) {
    if (next.what == mqtt_decoded::kind::malformed) {
      CHECK_FALSE(next.error.empty());
      // Malformed for good: later bytes change nothing.
      decoder.feed(bytes({0xd0, 0}));
      CHECK(decoder.next().what == mqtt_decoded::kind::malformed);
      return next.error;
    }
    INFO("stream of " << stream.size() << " bytes");
    REQUIRE(next.what == mqtt_decoded::kind::packet);
  }
}

} // namespace

TEST_CASE("packets only clients send are malformed from a broker", "[mqtt_codec]") {
  CHECK(error_of(bytes({0x10, 0})) == "a CONNECT packet, which only clients send");
  CHECK(error_of(bytes({0x82, 0})) == "a SUBSCRIBE packet, which only clients send");
  CHECK(error_of(bytes({0xa2, 0})) == "a UNSUBSCRIBE packet, which only clients send");
  CHECK(error_of(bytes({0xc0, 0})) == "a PINGREQ packet, which only clients send");
  CHECK(error_of(bytes({0xe0, 0})) == "a DISCONNECT packet, which only clients send");
  CHECK(error_of(bytes({0x00, 0})) == "a packet of reserved type 0");
  CHECK(error_of(bytes({0xf0, 0})) == "a packet of reserved type 15");
}

TEST_CASE("a remaining length of five bytes is malformed", "[mqtt_codec]") {
  CHECK(error_of(bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01})) == "a remaining length of more than four bytes");
}

TEST_CASE("a CONNACK that breaks the standard is malformed", "[mqtt_codec]") {
  CHECK(error_of(bytes({0x21, 2, 0, 0})) == "CONNACK with reserved flags set");
  CHECK(error_of(bytes({0x20, 3, 0, 0, 0})) == "CONNACK of the wrong length");
  CHECK(error_of(bytes({0x20, 2, 2, 0})) == "CONNACK with reserved acknowledge flags set");
  CHECK(error_of(bytes({0x20, 2, 0, 6})) == "CONNACK with an unknown return code 6");
  CHECK(error_of(bytes({0x20, 2, 1, 4})) == "CONNACK refusing the connection with a session present");
}

TEST_CASE("a PUBLISH that breaks the standard is malformed", "[mqtt_codec]") {
  CHECK(error_of(bytes({0x36, 5, 0, 1, 't', 0, 1})) == "PUBLISH with QoS 3");
  CHECK(error_of(bytes({0x38, 3, 0, 1, 't'})) == "PUBLISH of QoS 0 marked as a duplicate");
  CHECK(error_of(bytes({0x30, 1, 0})) == "PUBLISH without a topic");
  CHECK(error_of(bytes({0x32, 4, 0, 1, 't', 0})) == "PUBLISH shorter than its topic and packet id");
  CHECK(error_of(bytes({0x30, 2, 0, 0})) == "PUBLISH to an empty topic or one with wildcards or NUL");
  CHECK(error_of(bytes({0x30, 3, 0, 1, '#'})) == "PUBLISH to an empty topic or one with wildcards or NUL");
  CHECK(error_of(bytes({0x30, 5, 0, 3, 'a', '+', 'b'})) == "PUBLISH to an empty topic or one with wildcards or NUL");
  CHECK(error_of(bytes({0x30, 3, 0, 1, 0})) == "PUBLISH to an empty topic or one with wildcards or NUL");
  CHECK(error_of(bytes({0x32, 5, 0, 1, 't', 0, 0})) == "PUBLISH of QoS 1 with packet id 0");
}

TEST_CASE("acknowledgements that break the standard are malformed", "[mqtt_codec]") {
  CHECK(error_of(bytes({0x90, 2, 0, 1})) == "SUBACK without a return code");
  CHECK(error_of(bytes({0x90, 3, 0, 0, 1})) == "SUBACK with packet id 0");
  CHECK(error_of(bytes({0x90, 3, 0, 1, 3})) == "SUBACK with an unknown return code 3");
  CHECK(error_of(bytes({0xb0, 3, 0, 1, 0})) == "UNSUBACK of the wrong length");
  CHECK(error_of(bytes({0x41, 2, 0, 1})) == "PUBACK with reserved flags set");
  CHECK(error_of(bytes({0x40, 2, 0, 0})) == "PUBACK with packet id 0");
  CHECK(error_of(bytes({0x60, 2, 0, 1})) == "PUBREL with reserved flags set");
  CHECK(error_of(bytes({0xd0, 1, 0})) == "PINGRESP of the wrong length");
}

TEST_CASE("a packet other than PUBLISH beyond the limit is malformed before its bytes arrive", "[mqtt_codec]") {
  // Only the fixed header is here: the decoder does not wait for (or hold) the rest.
  CHECK(error_of(bytes({0x90, 0xe8, 0x07}), 100) == "a SUBACK of 1003 bytes, more than the 100 accepted");
}

TEST_CASE("an oversized PUBLISH whose topic does not fit its length is malformed", "[mqtt_codec]") {
  // remaining length 200 (> limit 16), topic length 0xffff.
  CHECK(error_of(bytes({0x30, 0xc8, 0x01, 0xff, 0xff}), 16) == "PUBLISH shorter than its topic and packet id");
}
