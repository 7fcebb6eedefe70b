#include "core/mqtt_spec.hpp"

#include <algorithm>
#include <vector>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

constexpr std::uint16_t mqtt_default_port = 1883;
constexpr std::uint16_t mqtts_default_port = 8883;

/// The prefix of a derived client id, and how many hex digits of the trigger's hash follow it: 23 characters in all,
/// the length every broker accepts.
constexpr std::string_view client_id_prefix = "fr";
constexpr std::size_t client_id_hash_digits = 21;

constexpr std::int64_t default_qos = 1;

outcome<url> read_broker_url(const json_members& params) {
  auto text = read_string_param(params, "url");
  if (!text)
    return text.error();
  if (!*text)
    return field_error{"url", "is required: the broker, such as mqtts://broker.example.com:8883"};
  auto broker = parse_url(**text, "url", {{"mqtt", mqtt_default_port}, {"mqtts", mqtts_default_port}});
  if (!broker)
    return broker.error();
  if (broker->target != "/")
    return field_error{"url", "must not have a path or query: give the broker as mqtt://host:port or "
                              "mqtts://host:port"};
  return broker;
}

outcome<std::string> read_topic(const json_members& params) {
  auto topic = read_string_param(params, "topic");
  if (!topic)
    return topic.error();
  if (!*topic)
    return field_error{"topic", "is required: the topic filter to subscribe to, such as sensors/+/temperature"};
  if (auto problem = mqtt_filter_problem(**topic))
    return field_error{"topic", std::move(*problem)};
  return std::move(**topic);
}

/// Returns whether `id` is printable ASCII without blanks: what a client id may hold here.
bool is_client_id(std::string_view id) {
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

outcome<std::string> read_client_id(const json_members& params, std::string_view trigger_key) {
  auto id = read_string_param(params, "clientId");
  if (!id)
    return id.error();
  if (!*id)
    return default_mqtt_client_id(trigger_key);
  if ((*id)->empty() || (*id)->size() > mqtt_max_client_id || !is_client_id(**id))
    return field_error{"clientId", "must have 1 to " + std::to_string(mqtt_max_client_id)
                                     + " printable ASCII characters without blanks (every broker accepts 1 to 23 "
                                       "letters and digits)"};
  return std::move(**id);
}

/// Reads `username` and `password`: a password only with a user name, as MQTT 3.1.1 requires.
outcome<bool> read_credentials(const json_members& params, mqtt_spec& spec) {
  auto username = read_string_param(params, "username");
  if (!username)
    return username.error();
  auto password = read_string_param(params, "password");
  if (!password)
    return password.error();
  if (*password && !*username)
    return field_error{"username", "is required with password (MQTT 3.1.1 sends no password without a user name)"};
  if (*username && ((*username)->empty() || (*username)->size() > mqtt_max_username))
    return field_error{"username", "must have 1 to " + std::to_string(mqtt_max_username) + " bytes"};
  if (*password && (*password)->size() > mqtt_max_password)
    return field_error{"password", "must have at most " + std::to_string(mqtt_max_password) + " bytes"};
  spec.username = std::move(*username);
  spec.password = std::move(*password);
  return true;
}

void write_common(json_writer& out, std::string_view topic, std::uint8_t qos, bool retain) {
  out.key("topic").value(topic);
  out.key("qos").value(static_cast<int>(qos));
  out.key("retain").value(retain);
}

} // namespace

std::optional<std::string> mqtt_filter_problem(std::string_view filter) {
  if (filter.empty())
    return std::string{"must not be empty"};
  if (filter.size() > mqtt_max_topic_filter)
    return "must have at most " + std::to_string(mqtt_max_topic_filter) + " bytes";
  if (filter.find('\0') != std::string_view::npos)
    return std::string{"must not contain NUL"};
  std::size_t level_start = 0;
  while (true) {
    auto level_end = std::min(filter.find('/', level_start), filter.size());
    auto level = filter.substr(level_start, level_end - level_start);
    if (level.find('#') != std::string_view::npos && (level != "#" || level_end != filter.size()))
      return std::string{"may have '#' only as the whole last level, as in sensors/#"};
    if (level.find('+') != std::string_view::npos && level != "+")
      return std::string{"may have '+' only as a whole level, as in sensors/+/temperature"};
    if (level_end == filter.size())
      return std::nullopt;
    level_start = level_end + 1;
  }
}

std::string default_mqtt_client_id(std::string_view trigger_key) {
  return std::string{client_id_prefix} + sha256_hex(trigger_key).substr(0, client_id_hash_digits);
}

outcome<mqtt_spec> parse_mqtt_spec(const json_members& params, std::string_view trigger_key) {
  mqtt_spec spec;
  auto broker = read_broker_url(params);
  if (!broker)
    return broker.error();
  spec.broker = std::move(*broker);
  auto topic = read_topic(params);
  if (!topic)
    return topic.error();
  spec.topic = std::move(*topic);
  auto qos = read_int_param(params, mqtt_qos_param);
  if (!qos)
    return qos.error();
  spec.qos = static_cast<std::uint8_t>(qos->value_or(default_qos));
  auto client_id = read_client_id(params, trigger_key);
  if (!client_id)
    return client_id.error();
  spec.client_id = std::move(*client_id);
  if (auto credentials = read_credentials(params, spec); !credentials)
    return credentials.error();
  auto clean = read_bool_param(params, "cleanSession");
  if (!clean)
    return clean.error();
  spec.clean_session = clean->value_or(false);
  auto binary = read_bool_param(params, "binary");
  if (!binary)
    return binary.error();
  spec.binary = binary->value_or(false);
  return spec;
}

std::string mqtt_event_body(const mqtt_spec& spec, std::string_view topic, std::string_view payload,
                            std::uint8_t qos, bool retain, std::string_view fire_body) {
  json_writer out;
  out.begin_object();
  write_common(out, topic, qos, retain);
  out.key("payload");
  if (spec.binary)
    out.value(base64_encode(payload));
  else if (json_is_value(payload))
    out.raw(payload);
  else
    out.value(payload);
  out.end_object();
  return merge_object_defaults(out.str(), fire_body);
}

std::string mqtt_oversized_body(std::string_view topic, std::size_t payload_bytes, std::uint8_t qos, bool retain,
                                std::string_view fire_body) {
  json_writer out;
  out.begin_object();
  write_common(out, topic, qos, retain);
  out.key("payloadBytes").value(static_cast<std::int64_t>(payload_bytes));
  out.key("payloadTooLarge").value(true);
  out.end_object();
  return merge_object_defaults(out.str(), fire_body);
}

std::string mqtt_session_name(const mqtt_spec& spec) {
  return spec.broker.origin() + '/' + spec.client_id;
}

std::string to_mqtt_checkpoint(const mqtt_spec& spec) {
  json_writer out;
  out.begin_object();
  out.key("session").value(mqtt_session_name(spec));
  out.key("topic").value(spec.topic);
  out.key("qos").value(static_cast<int>(spec.qos));
  out.key("cleanSession").value(spec.clean_session);
  out.end_object();
  return out.take();
}

std::optional<mqtt_session_record> read_mqtt_checkpoint(std::string_view checkpoint) {
  if (checkpoint.empty())
    return std::nullopt;
  auto members = parse_json_object(checkpoint, "checkpoint");
  if (!members)
    return std::nullopt;
  const auto* session = find_member(*members, "session");
  const auto* topic = find_member(*members, "topic");
  const auto* qos = find_member(*members, "qos");
  const auto* clean = find_member(*members, "cleanSession");
  if (session == nullptr || topic == nullptr || qos == nullptr || clean == nullptr)
    return std::nullopt;
  mqtt_session_record record;
  auto session_text = json_as_string(*session);
  auto topic_text = json_as_string(*topic);
  auto qos_value = json_as_int(*qos);
  auto clean_value = json_as_bool(*clean);
  if (!session_text || !topic_text || !qos_value || !clean_value)
    return std::nullopt;
  record.session = std::move(*session_text);
  record.topic = std::move(*topic_text);
  record.qos = static_cast<int>(*qos_value);
  record.clean_session = *clean_value;
  return record;
}

} // namespace feedrouter
