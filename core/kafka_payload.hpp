#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/kafka_spec.hpp"

namespace feedrouter {

/// One message read from the registration's topic, as the client hands it over.
struct kafka_record {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;   ///< nullopt for a message without a key
  std::optional<std::string> value; ///< nullopt for a message without a value (a tombstone)
};

/// Returns the JSON of one message as OpenWhisk's kafka provider fires it inside {"messages": [...]}:
/// {"topic", "partition", "offset", "key", "value"}.
///
/// - `value`: the bytes as UTF-8, each invalid byte replaced by U+FFFD; null without a value. With isJSONData a value
///   that is one JSON value is that JSON, and any other value the plain string (OpenWhisk wraps it in an extra pair of
///   quotes; docs/kafka-feed.md). With isBinaryValue base64 (RFC 4648, without the line breaks OpenWhisk's MIME
///   encoding puts every 76 characters).
/// - `key`: the same without isJSONData; with isBinaryKey base64. A message without a key has a null key.
std::string kafka_message_body(const kafka_spec& spec, const kafka_record& record);

/// Returns `bytes` as valid UTF-8: each byte that does not belong to a well-formed sequence (overlong forms,
/// surrogates and code points beyond U+10FFFF included) becomes U+FFFD.
std::string replace_invalid_utf8(std::string_view bytes);

} // namespace feedrouter
