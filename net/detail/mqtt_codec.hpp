#pragma once

// Private to net/: MQTT 3.1.1 control packets (OASIS standard, 2014) as bytes and back, without any I/O. Includes no
// Asio, so that the client (net/mqtt_client.cpp), its tests and a fuzz target (tests/fuzz/mqtt_codec_fuzz.cpp) share
// one codec.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace feedrouter {

/// The control packet types (MQTT 3.1.1 section 2.2.1).
enum class mqtt_packet_type : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

/// Returns the packet type's name as the standard writes it ("CONNACK"), for error texts.
std::string_view mqtt_packet_name(mqtt_packet_type type) noexcept;

/// Longest string the protocol can carry: a two-byte length prefix (section 1.5.3).
inline constexpr std::size_t mqtt_max_string = 65'535;

/// Largest remaining length four length bytes can express (section 2.2.3).
inline constexpr std::size_t mqtt_max_remaining_length = 268'435'455;

/// A SUBACK's return code for a subscription the broker refused (section 3.9.3).
inline constexpr std::uint8_t mqtt_subscription_refused = 0x80;

/// What a CONNECT carries (section 3.1). Strings are at most mqtt_max_string bytes: encode_mqtt_connect's caller
/// checks that (see mqtt_connect_problem).
struct mqtt_connect_fields {
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password; ///< only with a username: 3.1.1 forbids a password alone
  bool clean_session = false;
  std::uint16_t keepalive_seconds = 0; ///< 0: the broker never disconnects a silent client
};

/// Returns why `fields` cannot be encoded ("client id longer than 65535 bytes", "a password needs a user name"), or
/// an empty string.
std::string mqtt_connect_problem(const mqtt_connect_fields& fields);

// -- encoding (client to broker, and PUBLISH for tests and benchmarks) ----------------------------------------------

std::string encode_mqtt_connect(const mqtt_connect_fields& fields);
/// SUBSCRIBE of one topic filter at `qos` (0 to 2); `packet_id` must not be 0.
std::string encode_mqtt_subscribe(std::uint16_t packet_id, std::string_view filter, std::uint8_t qos);
/// UNSUBSCRIBE of one topic filter; `packet_id` must not be 0.
std::string encode_mqtt_unsubscribe(std::uint16_t packet_id, std::string_view filter);
/// PUBLISH of `payload` to `topic`; `packet_id` is sent only for a `qos` above 0, where it must not be 0.
std::string encode_mqtt_publish(std::string_view topic, std::string_view payload, std::uint8_t qos, bool retain,
                                bool dup, std::uint16_t packet_id);
std::string encode_mqtt_puback(std::uint16_t packet_id);
std::string encode_mqtt_pingreq();
std::string encode_mqtt_disconnect();

// -- decoding (broker to client) ------------------------------------------------------------------------------------

/// One packet a broker sent; which members mean something depends on `type`.
struct mqtt_packet {
  mqtt_packet_type type = mqtt_packet_type::pingresp;
  std::uint16_t packet_id = 0; ///< PUBLISH of QoS 1 or 2, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK

  // -- CONNACK --
  bool session_present = false;
  std::uint8_t return_code = 0; ///< 0 accepted; 1 to 5 refused (section 3.2.2.3)

  // -- SUBACK --
  std::vector<std::uint8_t> granted; ///< per filter: the QoS granted (0 to 2) or mqtt_subscription_refused

  // -- PUBLISH --
  std::string topic;
  std::string payload; ///< empty when `oversized`
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  std::size_t payload_size = 0; ///< the payload's length, also when it was dropped
  /// The packet was longer than the decoder's limit: its payload was dropped as it arrived, the rest is kept, so that
  /// the client can still acknowledge it (an unacknowledged message would be sent again forever).
  bool oversized = false;
};

/// What mqtt_decoder::next() found.
struct mqtt_decoded {
  enum class kind {
    packet,    ///< `packet` is the next packet
    need_more, ///< no complete packet yet: feed more bytes
    malformed, ///< the bytes are not a packet a broker may send (`error` says why); the connection must close
  };
  kind what = kind::need_more;
  mqtt_packet packet;
  std::string error;
};

/// Cuts the bytes a broker sends into packets and checks each against the standard, holding at most one packet (or
/// the head of an oversized PUBLISH) and the bytes fed after it.
///
/// A packet longer than `max_packet` bytes (fixed header included) is malformed, except a PUBLISH: its topic and
/// packet id are kept and its payload is dropped as it arrives, so an oversized message costs no more memory than
/// the limit. Packets only clients send (CONNECT, SUBSCRIBE, ...) are malformed too. Where the packets end does not
/// depend on how the bytes arrive. After `malformed` the decoder stays malformed.
class mqtt_decoder {
public:
  explicit mqtt_decoder(std::size_t max_packet);

  /// Takes the next bytes of the stream.
  void feed(std::string_view bytes);

  /// Returns the next complete packet, or that more bytes are needed, or why the stream is malformed.
  mqtt_decoded next();

  /// Returns the bytes held that no packet has taken yet.
  std::size_t buffered() const noexcept {
    return buffer_.size() - start_;
  }

private:
  mqtt_decoded fail(std::string why);
  /// Reads the head of an oversized PUBLISH from the front of the buffer, then drops its payload.
  mqtt_decoded start_skipping(std::uint8_t first, std::size_t header, std::size_t remaining);
  void consume(std::size_t bytes) noexcept;

  std::size_t max_packet_;
  std::string buffer_;
  std::size_t start_ = 0;               ///< bytes at the front of buffer_ already taken
  std::size_t skip_ = 0;                ///< payload bytes of an oversized PUBLISH still to drop
  std::optional<mqtt_packet> skipped_; ///< that PUBLISH, returned once its payload is dropped
  std::string error_;                   ///< set once malformed
};

} // namespace feedrouter
