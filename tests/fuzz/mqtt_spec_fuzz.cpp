// Fuzzes the mqtt feed from what tenants control: the parameters of a CREATE (validation, normalization, the session
// position) and the bytes of a message (its topic and payload as they are fired). Every fire body must be one valid
// JSON object, a stored registration must read back as the same one, and every position must read back as written.
//
// Input: the parameters as a JSON object on the first line, then the message: its topic up to the first NUL byte,
// the rest its payload.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/mqtt_spec.hpp"
#include "core/time_format.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

constexpr sys_ms now{std::chrono::milliseconds{1'768'471'200'000}}; // 2026-01-15T10:00:00Z

void check_message(const mqtt_spec& spec, std::string_view message, std::string_view fire_body) {
  auto split = message.find('\0');
  auto topic = split == std::string_view::npos ? std::string_view{"t"} : message.substr(0, split);
  auto payload = split == std::string_view::npos ? message : message.substr(split + 1);
  auto qos = static_cast<std::uint8_t>(message.size() % 2);
  require(json_is_object(mqtt_event_body(spec, topic, payload, qos, message.size() % 3 == 0, fire_body)),
          "a message fires as a JSON object");
  require(json_is_object(mqtt_oversized_body(topic, payload.size(), qos, false, fire_body)),
          "an oversized message fires as a JSON object");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto end = input.find('\n');
  auto params_text = input.substr(0, end);
  auto message = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
  // Any filter as text: the check must hold for what validation sees, not only for what parses as JSON.
  if (auto problem = mqtt_filter_problem(params_text); !problem)
    require(!params_text.empty() && params_text.size() <= mqtt_max_topic_filter, "an accepted filter is within bounds");
  auto params = parse_json_object(params_text, "params");
  if (!params)
    return 0;
  auto config = make_feed_config("mqtt", *params, now, validation_time::request, "guest/fuzzed", egress_policy{});
  if (!config)
    return 0;
  const auto& spec = *config->mqtt;
  require(spec.qos <= 1, "qos is 0 or 1");
  require(!spec.client_id.empty() && spec.client_id.size() <= mqtt_max_client_id, "a client id within bounds");
  require(!spec.password || spec.username, "a password only with a user name");
  require(!mqtt_filter_problem(spec.topic), "the accepted topic is a valid filter");
  // The stored parameters are read again at every start: they must give the same registration.
  auto again =
    make_feed_config("mqtt", config->params, now, validation_time::restore, "guest/fuzzed", egress_policy{});
  require(again && again->mqtt && mqtt_session_name(*again->mqtt) == mqtt_session_name(spec)
            && again->mqtt->topic == spec.topic && again->mqtt->qos == spec.qos,
          "the stored parameters give the same registration");
  auto record = read_mqtt_checkpoint(to_mqtt_checkpoint(spec));
  require(record && record->session == mqtt_session_name(spec) && record->topic == spec.topic
            && record->qos == spec.qos && record->clean_session == spec.clean_session,
          "the session position reads back as written");
  check_message(spec, message, config->fire_body);
  return 0;
}
