// Fuzzes the MQTT codec (net/detail/mqtt_codec) with what a broker sends on one connection, read the way the client
// reads it: bytes fed as they arrive, packets taken while complete ones are there.
//
// Input: byte 0 seeds the sizes of the pieces the stream arrives in, byte 1 picks the packet limit; the rest is the
// stream. Checked:
// - the stream is cut into the same packets, and found malformed at the same packet with the same reason, whether it
//   arrives whole, byte by byte, or in pieces of the seeded sizes;
// - the decoder never holds more than the limit (or an oversized PUBLISH's head) plus one piece;
// - every whole PUBLISH, encoded again, decodes to the same message, and an oversized one is no larger than the
//   limit allows only when its payload was dropped.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/detail/mqtt_codec.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using feedrouter::encode_mqtt_publish;
using feedrouter::fuzz::require;
using feedrouter::mqtt_decoded;
using feedrouter::mqtt_decoder;
using feedrouter::mqtt_packet;
using feedrouter::mqtt_packet_type;

/// The largest head an oversized PUBLISH may make the decoder hold: fixed header, topic length, topic, packet id.
constexpr std::size_t publish_head_limit = 5 + 2 + feedrouter::mqtt_max_string + 2;

/// Returns piece sizes from 1 to 31, from a linear congruential generator seeded with `seed`.
auto seeded_pieces(std::uint8_t seed) {
  return [state = std::uint32_t{seed}]() mutable {
    state = state * 1103515245u + 12345u;
    return std::size_t{1} + (state >> 16) % 31;
  };
}

struct decode_outcome {
  std::vector<mqtt_packet> packets;
  std::string error;
};

template <class NextPiece>
decode_outcome decode(std::string_view stream, std::size_t max_packet, NextPiece next_piece) {
  decode_outcome out;
  mqtt_decoder decoder{max_packet};
  std::size_t at = 0;
  while (at < stream.size() && out.error.empty()) {
    auto piece = std::min(next_piece(), stream.size() - at);
    decoder.feed(stream.substr(at, piece));
    at += piece;
    require(decoder.buffered() <= std::max(max_packet, publish_head_limit) + piece,
            "the decoder holds at most one packet (or a PUBLISH head) and the piece fed");
    for (auto next = decoder.next(); next.what != mqtt_decoded::kind::need_more; next = decoder.next()) {
      if (next.what == mqtt_decoded::kind::malformed) {
        require(!next.error.empty(), "!next.error.empty()");
        out.error = next.error;
        break;
      }
      out.packets.push_back(std::move(next.packet));
    }
  }
  return out;
}

bool same_packet(const mqtt_packet& x, const mqtt_packet& y) {
  return x.type == y.type && x.packet_id == y.packet_id && x.session_present == y.session_present
         && x.return_code == y.return_code && x.granted == y.granted && x.topic == y.topic && x.payload == y.payload
         && x.qos == y.qos && x.retain == y.retain && x.dup == y.dup && x.payload_size == y.payload_size
         && x.oversized == y.oversized;
}

void require_same(const decode_outcome& x, const decode_outcome& y) {
  require(x.error == y.error, "x.error == y.error");
  require(x.packets.size() == y.packets.size(), "x.packets.size() == y.packets.size()");
  for (std::size_t i = 0; i < x.packets.size(); ++i)
    require(same_packet(x.packets[i], y.packets[i]), "same_packet(x.packets[i], y.packets[i])");
}

void check_publish(const mqtt_packet& packet, std::size_t max_packet) {
  if (packet.type != mqtt_packet_type::publish)
    return;
  require(packet.qos <= 2, "packet.qos <= 2");
  require(!packet.dup || packet.qos > 0, "!packet.dup || packet.qos > 0");
  require(packet.qos == 0 || packet.packet_id != 0, "packet.qos == 0 || packet.packet_id != 0");
  if (packet.oversized) {
    require(packet.payload.empty(), "packet.payload.empty()");
    return;
  }
  require(packet.payload.size() == packet.payload_size, "packet.payload.size() == packet.payload_size");
  auto again = encode_mqtt_publish(packet.topic, packet.payload, packet.qos, packet.retain, packet.dup,
                                   packet.packet_id);
  require(again.size() <= max_packet, "again.size() <= max_packet");
  auto round = decode(again, max_packet, [&] { return again.size(); });
  require(round.error.empty() && round.packets.size() == 1 && same_packet(round.packets[0], packet),
          "a decoded PUBLISH encodes and decodes again as the same packet");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  std::string_view stream{reinterpret_cast<const char*>(data) + 2, size - 2};
  // From 8 bytes (only the smallest packets fit) to about 64 KiB.
  auto max_packet = std::size_t{8} << (data[1] % 14);
  auto whole = decode(stream, max_packet, [&] { return stream.size(); });
  require_same(whole, decode(stream, max_packet, [] { return std::size_t{1}; }));
  require_same(whole, decode(stream, max_packet, seeded_pieces(data[0])));
  for (const auto& packet : whole.packets)
    check_publish(packet, max_packet);
  return 0;
}
