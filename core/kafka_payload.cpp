#include "core/kafka_payload.hpp"

#include "core/crypto.hpp"
#include "core/json.hpp"

namespace feedrouter {

namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

/// Returns the length of the well-formed UTF-8 sequence at the start of `bytes` (Unicode table 3-7), or 0.
std::size_t sequence_length(std::string_view bytes) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  auto continuation = [&](std::size_t i, unsigned char low = 0x80, unsigned char high = 0xBF) {
    return i < bytes.size() && byte(i) >= low && byte(i) <= high;
  };
  auto first = byte(0);
  if (first < 0x80)
    return 1;
  if (first >= 0xC2 && first <= 0xDF)
    return continuation(1) ? 2 : 0;
  if (first >= 0xE0 && first <= 0xEF) {
    // No overlong forms (E0 needs A0..BF) and no surrogates (ED needs 80..9F).
    auto low = first == 0xE0 ? 0xA0 : 0x80;
    auto high = first == 0xED ? 0x9F : 0xBF;
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (first >= 0xF0 && first <= 0xF4) {
    // No overlong forms (F0 needs 90..BF) and nothing beyond U+10FFFF (F4 needs 80..8F).
    auto low = first == 0xF0 ? 0x90 : 0x80;
    auto high = first == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

void write_bytes(json_writer& out, const std::optional<std::string>& bytes, bool binary, bool json_data) {
  if (!bytes) {
    out.null();
    return;
  }
  if (binary) {
    out.value(base64_encode(*bytes));
    return;
  }
  auto text = replace_invalid_utf8(*bytes);
  if (json_data && json_is_value(text))
    out.raw(text);
  else
    out.value(text);
}

} // namespace

std::string replace_invalid_utf8(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size());
  std::size_t valid = 0; // the well-formed run at the front of `bytes`, appended in one go
  while (valid < bytes.size()) {
    auto length = sequence_length(bytes.substr(valid));
    if (length > 0) {
      valid += length;
      continue;
    }
    text += bytes.substr(0, valid);
    text += replacement_character;
    bytes.remove_prefix(valid + 1);
    valid = 0;
  }
  text += bytes;
  return text;
}

std::string kafka_message_body(const kafka_spec& spec, const kafka_record& record) {
  json_writer out;
  out.begin_object();
  out.key("topic").value(spec.topic);
  out.key("partition").value(static_cast<std::int64_t>(record.partition));
  out.key("offset").value(record.offset);
  out.key("key");
  write_bytes(out, record.key, spec.binary_key, false);
  out.key("value");
  write_bytes(out, record.value, spec.binary_value, spec.json_data);
  out.end_object();
  return out.take();
}

} // namespace feedrouter
