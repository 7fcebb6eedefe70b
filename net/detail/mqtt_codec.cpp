#include "net/detail/mqtt_codec.hpp"

#include <algorithm>
#include <utility>

namespace feedrouter {

namespace {

/// The protocol name and level of MQTT 3.1.1 (section 3.1.2.1, 3.1.2.2).
constexpr std::string_view protocol_name = "MQTT";
constexpr std::uint8_t protocol_level = 4;

// CONNECT flags (section 3.1.2.3).
constexpr std::uint8_t username_flag = 0x80;
constexpr std::uint8_t password_flag = 0x40;
constexpr std::uint8_t clean_session_flag = 0x02;

/// Fixed-header flags that SUBSCRIBE, UNSUBSCRIBE and PUBREL must carry (section 2.2.2).
constexpr std::uint8_t reserved_0010 = 0x02;

/// Bytes of a remaining length at most.
constexpr std::size_t max_length_bytes = 4;

/// The highest CONNACK return code the standard defines.
constexpr std::uint8_t last_connack_code = 5;

/// The highest QoS.
constexpr std::uint8_t max_qos = 2;

void put_u16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value & 0xff);
}

void put_string(std::string& out, std::string_view text) {
  put_u16(out, static_cast<std::uint16_t>(text.size()));
  out += text;
}

/// Returns the packet of `type` with `flags` around `body`: the fixed header with the remaining length, then `body`.
std::string framed(mqtt_packet_type type, std::uint8_t flags, std::string_view body) {
  std::string out;
  out.reserve(1 + max_length_bytes + body.size());
  out += static_cast<char>((static_cast<std::uint8_t>(type) << 4) | flags);
  auto length = body.size();
  do {
    auto digit = static_cast<std::uint8_t>(length % 128);
    length /= 128;
    if (length > 0)
      digit |= 0x80;
    out += static_cast<char>(digit);
  } while (length > 0);
  out += body;
  return out;
}

std::uint8_t byte_at(std::string_view bytes, std::size_t i) noexcept {
  return static_cast<std::uint8_t>(bytes[i]);
}

std::uint16_t u16_at(std::string_view bytes, std::size_t i) noexcept {
  return static_cast<std::uint16_t>((byte_at(bytes, i) << 8) | byte_at(bytes, i + 1));
}

/// Returns whether `topic` may name a PUBLISH: not empty, without wildcards or NUL (section 4.7).
bool is_topic_name(std::string_view topic) noexcept {
  return !topic.empty() && topic.find_first_of(std::string_view{"+#\0", 3}) == std::string_view::npos;
}

} // namespace

std::string_view mqtt_packet_name(mqtt_packet_type type) noexcept {
  switch (type) {
    case mqtt_packet_type::connect:
      return "CONNECT";
    case mqtt_packet_type::connack:
      return "CONNACK";
    case mqtt_packet_type::publish:
      return "PUBLISH";
    case mqtt_packet_type::puback:
      return "PUBACK";
    case mqtt_packet_type::pubrec:
      return "PUBREC";
    case mqtt_packet_type::pubrel:
      return "PUBREL";
    case mqtt_packet_type::pubcomp:
      return "PUBCOMP";
    case mqtt_packet_type::subscribe:
      return "SUBSCRIBE";
    case mqtt_packet_type::suback:
      return "SUBACK";
    case mqtt_packet_type::unsubscribe:
      return "UNSUBSCRIBE";
    case mqtt_packet_type::unsuback:
      return "UNSUBACK";
    case mqtt_packet_type::pingreq:
      return "PINGREQ";
    case mqtt_packet_type::pingresp:
      return "PINGRESP";
    case mqtt_packet_type::disconnect:
      return "DISCONNECT";
  }
  return "reserved packet";
}

std::string mqtt_connect_problem(const mqtt_connect_fields& fields) {
  auto too_long = [](const char* what) {
    return std::string{what} + " longer than " + std::to_string(mqtt_max_string) + " bytes";
  };
  if (fields.client_id.size() > mqtt_max_string)
    return too_long("client id");
  if (fields.username && fields.username->size() > mqtt_max_string)
    return too_long("user name");
  if (fields.password && fields.password->size() > mqtt_max_string)
    return too_long("password");
  if (fields.password && !fields.username)
    return "a password needs a user name in MQTT 3.1.1";
  return {};
}

// -- encoding ---------------------------------------------------------------------------------------------------------

std::string encode_mqtt_connect(const mqtt_connect_fields& fields) {
  std::string body;
  put_string(body, protocol_name);
  body += static_cast<char>(protocol_level);
  std::uint8_t flags = 0;
  if (fields.username)
    flags |= username_flag;
  if (fields.password)
    flags |= password_flag;
  if (fields.clean_session)
    flags |= clean_session_flag;
  body += static_cast<char>(flags);
  put_u16(body, fields.keepalive_seconds);
  put_string(body, fields.client_id);
  if (fields.username)
    put_string(body, *fields.username);
  if (fields.password)
    put_string(body, *fields.password);
  return framed(mqtt_packet_type::connect, 0, body);
}

std::string encode_mqtt_subscribe(std::uint16_t packet_id, std::string_view filter, std::uint8_t qos) {
  std::string body;
  put_u16(body, packet_id);
  put_string(body, filter);
  body += static_cast<char>(qos);
  return framed(mqtt_packet_type::subscribe, reserved_0010, body);
}

std::string encode_mqtt_unsubscribe(std::uint16_t packet_id, std::string_view filter) {
  std::string body;
  put_u16(body, packet_id);
  put_string(body, filter);
  return framed(mqtt_packet_type::unsubscribe, reserved_0010, body);
}

std::string encode_mqtt_publish(std::string_view topic, std::string_view payload, std::uint8_t qos, bool retain,
                                bool dup, std::uint16_t packet_id) {
  std::string body;
  body.reserve(2 + topic.size() + 2 + payload.size());
  put_string(body, topic);
  if (qos > 0)
    put_u16(body, packet_id);
  body += payload;
  auto flags = static_cast<std::uint8_t>((dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0));
  return framed(mqtt_packet_type::publish, flags, body);
}

std::string encode_mqtt_puback(std::uint16_t packet_id) {
  std::string body;
  put_u16(body, packet_id);
  return framed(mqtt_packet_type::puback, 0, body);
}

std::string encode_mqtt_pingreq() {
  return framed(mqtt_packet_type::pingreq, 0, {});
}

std::string encode_mqtt_disconnect() {
  return framed(mqtt_packet_type::disconnect, 0, {});
}

// -- decoding -------------------------------------------------------------------------------------------------------

namespace {

/// Decodes the variable header and payload `body` of a complete packet whose first byte was `first`; returns the
/// error text for a packet that breaks the standard.
std::string decode_body(std::uint8_t first, std::string_view body, mqtt_packet& packet) {
  auto flags = static_cast<std::uint8_t>(first & 0x0f);
  auto type = packet.type;
  auto name = std::string{mqtt_packet_name(type)};
  auto expect_flags = [&](std::uint8_t wanted) {
    return flags == wanted ? std::string{} : name + " with reserved flags set";
  };
  auto expect_length = [&](std::size_t wanted) {
    return body.size() == wanted ? std::string{} : name + " of the wrong length";
  };
  switch (type) {
    case mqtt_packet_type::connack: {
      if (auto problem = expect_flags(0); !problem.empty())
        return problem;
      if (auto problem = expect_length(2); !problem.empty())
        return problem;
      auto ack_flags = byte_at(body, 0);
      packet.session_present = (ack_flags & 0x01) != 0;
      packet.return_code = byte_at(body, 1);
      if ((ack_flags & 0xfe) != 0)
        return "CONNACK with reserved acknowledge flags set";
      if (packet.return_code > last_connack_code)
        return "CONNACK with an unknown return code " + std::to_string(packet.return_code);
      if (packet.return_code != 0 && packet.session_present)
        return "CONNACK refusing the connection with a session present";
      return {};
    }
    case mqtt_packet_type::publish: {
      packet.dup = (flags & 0x08) != 0;
      packet.qos = static_cast<std::uint8_t>((flags >> 1) & 0x03);
      packet.retain = (flags & 0x01) != 0;
      if (packet.qos > max_qos)
        return "PUBLISH with QoS 3";
      if (packet.dup && packet.qos == 0)
        return "PUBLISH of QoS 0 marked as a duplicate";
      if (body.size() < 2)
        return "PUBLISH without a topic";
      std::size_t topic_length = u16_at(body, 0);
      auto id_length = packet.qos > 0 ? std::size_t{2} : std::size_t{0};
      if (body.size() < 2 + topic_length + id_length)
        return "PUBLISH shorter than its topic and packet id";
      packet.topic = std::string{body.substr(2, topic_length)};
      if (!is_topic_name(packet.topic))
        return "PUBLISH to an empty topic or one with wildcards or NUL";
      if (packet.qos > 0) {
        packet.packet_id = u16_at(body, 2 + topic_length);
        if (packet.packet_id == 0)
          return "PUBLISH of QoS " + std::to_string(packet.qos) + " with packet id 0";
      }
      auto payload = body.substr(2 + topic_length + id_length);
      packet.payload_size = payload.size();
      if (!packet.oversized)
        packet.payload = std::string{payload};
      return {};
    }
    case mqtt_packet_type::puback:
    case mqtt_packet_type::pubrec:
    case mqtt_packet_type::pubrel:
    case mqtt_packet_type::pubcomp:
    case mqtt_packet_type::unsuback: {
      auto wanted = type == mqtt_packet_type::pubrel ? reserved_0010 : std::uint8_t{0};
      if (auto problem = expect_flags(wanted); !problem.empty())
        return problem;
      if (auto problem = expect_length(2); !problem.empty())
        return problem;
      packet.packet_id = u16_at(body, 0);
      return packet.packet_id == 0 ? name + " with packet id 0" : std::string{};
    }
    case mqtt_packet_type::suback: {
      if (auto problem = expect_flags(0); !problem.empty())
        return problem;
      if (body.size() < 3)
        return "SUBACK without a return code";
      packet.packet_id = u16_at(body, 0);
      if (packet.packet_id == 0)
        return "SUBACK with packet id 0";
      for (std::size_t i = 2; i < body.size(); ++i) {
        auto code = byte_at(body, i);
        if (code > max_qos && code != mqtt_subscription_refused)
          return "SUBACK with an unknown return code " + std::to_string(code);
        packet.granted.push_back(code);
      }
      return {};
    }
    case mqtt_packet_type::pingresp:
      if (auto problem = expect_flags(0); !problem.empty())
        return problem;
      return expect_length(0);
    case mqtt_packet_type::connect:
    case mqtt_packet_type::subscribe:
    case mqtt_packet_type::unsubscribe:
    case mqtt_packet_type::pingreq:
    case mqtt_packet_type::disconnect:
      return "a " + name + " packet, which only clients send";
  }
  return "a packet of reserved type " + std::to_string(first >> 4);
}

} // namespace

mqtt_decoder::mqtt_decoder(std::size_t max_packet) : max_packet_(max_packet) {
  // nop
}

void mqtt_decoder::feed(std::string_view bytes) {
  if (!error_.empty())
    return;
  // The payload of an oversized PUBLISH is dropped as it arrives: never held.
  auto dropped = std::min(skip_, bytes.size());
  skip_ -= dropped;
  bytes.remove_prefix(dropped);
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

void mqtt_decoder::consume(std::size_t bytes) noexcept {
  start_ += bytes;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
}

mqtt_decoded mqtt_decoder::fail(std::string why) {
  error_ = std::move(why);
  buffer_ = std::string{};
  start_ = 0;
  skipped_.reset();
  mqtt_decoded result;
  result.what = mqtt_decoded::kind::malformed;
  result.error = error_;
  return result;
}

mqtt_decoded mqtt_decoder::next() {
  mqtt_decoded result;
  if (!error_.empty()) {
    result.what = mqtt_decoded::kind::malformed;
    result.error = error_;
    return result;
  }
  if (skipped_) {
    if (skip_ > 0)
      return result;
    result.what = mqtt_decoded::kind::packet;
    result.packet = std::move(*skipped_);
    skipped_.reset();
    return result;
  }
  std::string_view bytes{buffer_};
  bytes.remove_prefix(start_);
  if (bytes.empty())
    return result;
  auto first = byte_at(bytes, 0);
  auto type_bits = first >> 4;
  if (type_bits == 0 || type_bits == 15)
    return fail("a packet of reserved type " + std::to_string(type_bits));
  std::size_t remaining = 0;
  std::size_t header = 1;
  for (std::size_t multiplier = 1;; multiplier *= 128) {
    if (header > max_length_bytes)
      return fail("a remaining length of more than four bytes");
    if (header >= bytes.size())
      return result;
    auto digit = byte_at(bytes, header++);
    remaining += (digit & 0x7f) * multiplier;
    if ((digit & 0x80) == 0)
      break;
  }
  auto type = static_cast<mqtt_packet_type>(type_bits);
  if (header + remaining > max_packet_) {
    if (type != mqtt_packet_type::publish)
      return fail("a " + std::string{mqtt_packet_name(type)} + " of " + std::to_string(header + remaining)
                  + " bytes, more than the " + std::to_string(max_packet_) + " accepted");
    return start_skipping(first, header, remaining);
  }
  if (bytes.size() < header + remaining)
    return result;
  result.packet.type = type;
  auto problem = decode_body(first, bytes.substr(header, remaining), result.packet);
  if (!problem.empty())
    return fail(std::move(problem));
  consume(header + remaining);
  result.what = mqtt_decoded::kind::packet;
  return result;
}

mqtt_decoded mqtt_decoder::start_skipping(std::uint8_t first, std::size_t header, std::size_t remaining) {
  mqtt_decoded result;
  std::string_view bytes{buffer_};
  bytes.remove_prefix(start_);
  // The head needed: the topic's length, the topic, and the packet id of QoS 1 and 2.
  if (bytes.size() < header + 2)
    return result;
  auto qos = (first >> 1) & 0x03;
  std::size_t head = 2 + u16_at(bytes, header) + (qos > 0 ? 2 : 0);
  if (head > remaining)
    return fail("PUBLISH shorter than its topic and packet id");
  if (bytes.size() < header + head)
    return result;
  mqtt_packet packet;
  packet.type = mqtt_packet_type::publish;
  packet.oversized = true;
  auto problem = decode_body(first, bytes.substr(header, head), packet);
  if (!problem.empty())
    return fail(std::move(problem));
  packet.payload_size = remaining - head;
  // Drop what of the payload is here already; feed() drops the rest as it comes.
  auto held = std::min(bytes.size() - header - head, packet.payload_size);
  consume(header + head + held);
  skip_ = packet.payload_size - held;
  skipped_ = std::move(packet);
  return next();
}

} // namespace feedrouter
