#include "core/kafka_spec.hpp"

#include <algorithm>
#include <charconv>

#include "core/ip_address.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

/// Kafka's own limit on a topic name.
constexpr std::size_t max_topic_length = 249;
/// DNS's limit on a host name.
constexpr std::size_t max_host_length = 253;
constexpr std::uint16_t default_broker_port = 9092;
constexpr std::int64_t default_batch_bytes = 900'000;

constexpr std::array<std::string_view, 3> sasl_mechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

bool is_topic(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
           || c == '-';
  };
  return !name.empty() && name.size() <= max_topic_length && name != "." && name != ".."
         && std::all_of(name.begin(), name.end(), allowed);
}

bool is_host_name(std::string_view host) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'
           || c == '_';
  };
  return !host.empty() && host.size() <= max_host_length && std::all_of(host.begin(), host.end(), allowed);
}

std::optional<std::uint16_t> read_port(std::string_view digits) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/// Parses "host", "host:port", "[v6]" or "[v6]:port"; nullopt for anything else (a scheme, a path, blanks).
std::optional<kafka_broker> parse_broker(std::string_view text) {
  kafka_broker broker;
  std::optional<std::string_view> port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    auto address = parse_ip_address(text.substr(1, close - 1));
    if (!address || address->is_v4())
      return std::nullopt;
    broker.host = std::string{text.substr(1, close - 1)};
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return std::nullopt;
      port_text = rest.substr(1);
    }
  } else {
    auto colon = text.find(':');
    broker.host = std::string{text.substr(0, colon)};
    if (colon != std::string_view::npos)
      port_text = text.substr(colon + 1);
    if (!is_host_name(broker.host))
      return std::nullopt;
  }
  if (!port_text)
    return broker;
  auto port = read_port(*port_text);
  if (!port)
    return std::nullopt;
  broker.port = *port;
  return broker;
}

outcome<bool> read_flag(const json_members& params, std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return false;
  if (auto flag = json_as_bool(*raw))
    return *flag;
  // OpenWhisk reads "true" in any case and with blanks around it; "false" likewise here, everything else is refused
  // rather than taken as false.
  if (auto text = json_as_string(*raw)) {
    auto word = trim_ows(*text);
    if (iequals(word, "true"))
      return true;
    if (iequals(word, "false"))
      return false;
  }
  return field_error{std::string{field}, "must be true or false"};
}

struct broker_list {
  std::vector<kafka_broker> brokers;
  std::string field;
};

outcome<broker_list> read_brokers(const json_members& params) {
  const bool plain = find_member(params, "brokers") != nullptr;
  const bool sasl = find_member(params, "kafka_brokers_sasl") != nullptr;
  if (plain && sasl)
    return field_error{"kafka_brokers_sasl",
                       "cannot be combined with brokers: give brokers (kafkaFeed, plaintext) or kafka_brokers_sasl "
                       "(messageHubFeed, SASL over TLS)"};
  if (!plain && !sasl)
    return field_error{"brokers", "is required: the Kafka brokers as an array of \"host:port\" or a comma-separated "
                                  "string (or kafka_brokers_sasl with user and password)"};
  std::string field = plain ? "brokers" : "kafka_brokers_sasl";
  auto list = read_string_list_param(params, field);
  if (!list)
    return list.error();
  if (!*list || (*list)->empty())
    return field_error{field, "must name at least one broker as \"host:port\""};
  if ((*list)->size() > kafka_max_brokers)
    return field_error{field, "may name at most " + std::to_string(kafka_max_brokers) + " brokers"};
  broker_list result{{}, field};
  for (const auto& text : **list) {
    auto broker = parse_broker(trim_ows(text));
    if (!broker)
      return field_error{field, "\"" + text + "\" is not a broker: give \"host:port\" (a host name or address, "
                                              "IPv6 in brackets, and a port from 1 to 65535)"};
    auto same = [&](const kafka_broker& b) { return b.host == broker->host && b.port == broker->port; };
    if (std::none_of(result.brokers.begin(), result.brokers.end(), same))
      result.brokers.push_back(std::move(*broker));
  }
  return result;
}

std::optional<field_error> read_credentials(const json_members& params, kafka_spec& spec) {
  auto user = read_string_param(params, "user");
  if (!user)
    return user.error();
  auto password = read_string_param(params, "password");
  if (!password)
    return password.error();
  auto mechanism = read_string_param(params, "saslMechanism");
  if (!mechanism)
    return mechanism.error();
  if (spec.brokers_field == "brokers") {
    if (*user || *password || *mechanism) {
      auto field = *user ? "user" : *password ? "password" : "saslMechanism";
      return field_error{field, "is only for kafka_brokers_sasl (messageHubFeed, SASL over TLS); brokers connect "
                                "in plaintext"};
    }
    return std::nullopt;
  }
  if (!*user || (*user)->empty())
    return field_error{"user", "is required with kafka_brokers_sasl: the SASL user name"};
  if (!*password || (*password)->empty())
    return field_error{"password", "is required with kafka_brokers_sasl: the SASL password"};
  spec.user = std::move(**user);
  spec.password = std::move(**password);
  if (*mechanism) {
    if (std::find(sasl_mechanisms.begin(), sasl_mechanisms.end(), **mechanism) == sasl_mechanisms.end())
      return field_error{"saslMechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"};
    spec.sasl_mechanism = std::move(**mechanism);
  }
  return std::nullopt;
}

std::optional<field_error> read_flags(const json_members& params, kafka_spec& spec) {
  auto json_data = read_flag(params, "isJSONData");
  if (!json_data)
    return json_data.error();
  auto binary_key = read_flag(params, "isBinaryKey");
  if (!binary_key)
    return binary_key.error();
  auto binary_value = read_flag(params, "isBinaryValue");
  if (!binary_value)
    return binary_value.error();
  if (*json_data && *binary_value)
    return field_error{"isBinaryValue", "cannot be combined with isJSONData: a value is either read as JSON or "
                                        "encoded as base64"};
  spec.json_data = *json_data;
  spec.binary_key = *binary_key;
  spec.binary_value = *binary_value;
  return std::nullopt;
}

std::optional<field_error> check_brokers_egress(const kafka_spec& spec, const egress_policy& egress) {
  for (const auto& broker : spec.brokers) {
    auto verdict = egress.check_host(broker.host, broker.port);
    if (verdict && !verdict->allowed)
      return field_error{spec.brokers_field,
                         std::string{egress_refusal_text} + ": " + describe_refusal(*verdict, broker.host)};
  }
  return std::nullopt;
}

} // namespace

std::string kafka_broker::text() const {
  return format_host_port(host, port);
}

outcome<kafka_spec> parse_kafka_spec(const json_members& params, const egress_policy& egress) {
  kafka_spec spec;
  auto brokers = read_brokers(params);
  if (!brokers)
    return brokers.error();
  spec.brokers = std::move(brokers->brokers);
  spec.brokers_field = std::move(brokers->field);
  if (auto error = read_credentials(params, spec))
    return *error;
  auto topic = read_string_param(params, "topic");
  if (!topic)
    return topic.error();
  if (!*topic)
    return field_error{"topic", "is required: the Kafka topic whose messages fire the trigger"};
  if (!is_topic(**topic))
    return field_error{"topic", "must be 1 to " + std::to_string(max_topic_length)
                                  + " letters, digits, '.', '_' or '-' (Kafka's rule for topic names)"};
  spec.topic = std::move(**topic);
  if (auto error = read_flags(params, spec))
    return *error;
  auto since = read_string_param(params, "since");
  if (!since)
    return since.error();
  if (*since) {
    if (**since != "now" && **since != "earliest")
      return field_error{"since", "must be \"now\" (messages produced from now on) or \"earliest\" (every message "
                                  "the topic holds)"};
    spec.since = std::move(**since);
  }
  auto batch_bytes = read_int_param(params, kafka_batch_bytes_param);
  if (!batch_bytes)
    return batch_bytes.error();
  spec.batch_bytes = static_cast<std::size_t>(batch_bytes->value_or(default_batch_bytes));
  if (auto refused = check_brokers_egress(spec, egress))
    return *refused;
  return spec;
}

json_members normalize_kafka_flags(json_members params) {
  for (auto& [name, raw] : params) {
    if (std::find(kafka_flag_params.begin(), kafka_flag_params.end(), name) == kafka_flag_params.end())
      continue;
    if (auto flag = read_flag({{name, raw}}, name))
      raw = *flag ? "true" : "false";
  }
  return params;
}

std::string kafka_source(const kafka_spec& spec) {
  std::vector<std::string> names;
  names.reserve(spec.brokers.size());
  for (const auto& broker : spec.brokers)
    names.push_back(broker.text());
  std::sort(names.begin(), names.end());
  std::string source;
  for (const auto& name : names) {
    if (!source.empty())
      source += ',';
    source += name;
  }
  source += '/';
  source += spec.topic;
  return source;
}

std::vector<std::pair<std::string, std::string>> kafka_client_properties(const kafka_spec& spec,
                                                                         const kafka_tls_options& tls,
                                                                         const kafka_fetch_bounds& bounds) {
  std::string bootstrap;
  for (const auto& broker : spec.brokers) {
    if (!bootstrap.empty())
      bootstrap += ',';
    bootstrap += broker.text();
  }
  std::vector<std::pair<std::string, std::string>> props = {
    {"bootstrap.servers", bootstrap},
    {"client.id", "feedrouter"},
  };
  if (spec.uses_sasl()) {
    props.emplace_back("security.protocol", "sasl_ssl");
    props.emplace_back("sasl.mechanisms", spec.sasl_mechanism);
    props.emplace_back("sasl.username", spec.user);
    props.emplace_back("sasl.password", spec.password);
    if (!tls.ca_file.empty())
      props.emplace_back("ssl.ca.location", tls.ca_file);
    if (tls.insecure_skip_verify) {
      props.emplace_back("enable.ssl.certificate.verification", "false");
      props.emplace_back("ssl.endpoint.identification.algorithm", "none");
    } else {
      props.emplace_back("enable.ssl.certificate.verification", "true");
      props.emplace_back("ssl.endpoint.identification.algorithm", "https");
    }
  } else {
    props.emplace_back("security.protocol", "plaintext");
  }
  // The position lives in the provider's store and moves only past messages fired or dead-lettered: nothing is
  // committed to or stored for the brokers, and a position the topic no longer holds is an error to report, not a
  // silent jump.
  props.emplace_back("enable.auto.commit", "false");
  props.emplace_back("enable.auto.offset.store", "false");
  props.emplace_back("auto.offset.reset", "error");
  props.emplace_back("enable.partition.eof", "false");
  // A position taken at CREATE is where the partition ends; reading committed messages only would start at the last
  // stable offset instead, and messages of a transaction open at CREATE that commits later would be missed.
  props.emplace_back("isolation.level", "read_uncommitted");
  props.emplace_back("allow.auto.create.topics", "false");
  // A tenant's brokers decide how much they send: every buffer is bounded.
  props.emplace_back("queued.max.messages.kbytes", std::to_string(bounds.queue_kbytes));
  props.emplace_back("fetch.message.max.bytes", std::to_string(bounds.partition_bytes));
  props.emplace_back("fetch.max.bytes", std::to_string(bounds.request_bytes));
  props.emplace_back("receive.message.max.bytes", std::to_string(bounds.response_bytes));
  props.emplace_back("fetch.wait.max.ms", std::to_string(bounds.wait_ms));
  return props;
}

std::string kafka_broker_host(std::string_view broker_name) {
  std::string_view name = broker_name;
  if (auto scheme = name.find("://"); scheme != std::string_view::npos)
    name.remove_prefix(scheme + 3);
  // The node id (or "bootstrap") follows the last '/'.
  if (auto slash = name.rfind('/'); slash != std::string_view::npos)
    name = name.substr(0, slash);
  if (!name.empty() && name.front() == '[') {
    auto close = name.find(']');
    return close == std::string_view::npos ? std::string{} : std::string{name.substr(1, close - 1)};
  }
  return std::string{name.substr(0, name.rfind(':'))};
}

} // namespace feedrouter
