// Fuzzes the kafka feed from what tenants control: the parameters of a CREATE (validation, normalization, the
// client's properties) and the bytes of a message (its key and value as they are fired). Every fire body must be one
// valid JSON value, every position must read back as written, and the UTF-8 repair must leave valid text alone.
//
// Input: the parameters as a JSON object on the first line, then the message: its key up to the first NUL byte, the
// rest its value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/kafka_checkpoint.hpp"
#include "core/kafka_payload.hpp"
#include "core/kafka_spec.hpp"
#include "core/time_format.hpp"

namespace {

using namespace feedrouter;

constexpr sys_ms now{std::chrono::milliseconds{1'768'471'200'000}}; // 2026-01-15T10:00:00Z

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

void check_message(const kafka_spec& spec, std::string_view message) {
  auto split = message.find('\0');
  kafka_record record;
  record.partition = static_cast<std::int32_t>(message.size() % kafka_max_partitions);
  record.offset = static_cast<std::int64_t>(message.size());
  if (split != std::string_view::npos) {
    record.key = std::string{message.substr(0, split)};
    record.value = std::string{message.substr(split + 1)};
  } else if (!message.empty()) {
    record.value = std::string{message};
  }
  auto body = kafka_message_body(spec, record);
  check(json_is_object(body));
  auto repaired = replace_invalid_utf8(message);
  check(replace_invalid_utf8(repaired) == repaired);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto end = input.find('\n');
  auto params_text = input.substr(0, end);
  auto message = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
  auto params = parse_json_object(params_text, "params");
  if (!params)
    return 0;
  auto config = make_feed_config("kafka", *params, now, validation_time::request, "guest/fuzzed", egress_policy{});
  if (!config)
    return 0;
  const auto& spec = *config->kafka;
  check(!spec.brokers.empty() && spec.brokers.size() <= kafka_max_brokers);
  check(!(spec.json_data && spec.binary_value));
  check(config->delivery.envelope.key == "messages" && config->delivery.envelope.max_bytes == spec.batch_bytes);
  // The stored parameters are read again at every start: they must give the same registration.
  auto again =
    make_feed_config("kafka", config->params, now, validation_time::restore, "guest/fuzzed", egress_policy{});
  check(again && kafka_source(again->kafka ? *again->kafka : spec) == kafka_source(spec));
  kafka_offsets offsets;
  for (std::size_t p = 0; p < spec.brokers.size(); ++p)
    offsets[static_cast<std::int32_t>(p)] = static_cast<std::int64_t>(p * 1000 + message.size());
  check(restore_kafka_offsets(to_kafka_checkpoint(spec, offsets), spec) == offsets);
  check(!kafka_client_properties(spec, {}, {}).empty());
  check_message(spec, message);
  return 0;
}
