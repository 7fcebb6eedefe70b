#include "core/feed_config.hpp"

#include <vector>

#include "core/param_reader.hpp"

namespace feedrouter {

namespace {

constexpr std::string_view alarm_feed = "alarm";
constexpr std::string_view webhook_feed = "webhook";
constexpr std::string_view poll_feed = "poll";
constexpr std::string_view changes_feed = "changes";
constexpr std::string_view kafka_feed = "kafka";
constexpr std::string_view github_feed = "github";
constexpr std::string_view mqtt_feed = "mqtt";
constexpr std::string_view redis_stream_feed = "redis-stream";

/// Returns the fire body for `trigger_payload`: an object as is, a string wrapped as {"payload": "..."}.
outcome<std::string> make_fire_body(const json_members& params) {
  const auto* raw = find_member(params, "trigger_payload");
  if (raw == nullptr)
    return std::string{"{}"};
  if (json_is_object(*raw))
    return *raw;
  if (auto text = json_as_string(*raw)) {
    // Also a string that holds JSON: OpenWhisk's alarms wrap it as it is (`wsk -p trigger_payload '{"a":1}'` sends an
    // object, which is taken above).
    json_writer out;
    out.begin_object().key("payload").value(*text).end_object();
    return out.take();
  }
  return field_error{"trigger_payload", "must be a JSON object or a string"};
}

/// Returns the parameters of feed kind `feed` read as integers, whose lenient forms ("5", 5.0) are stored normalized.
std::vector<std::string_view> numeric_params(std::string_view feed) {
  std::vector<std::string_view> names;
  auto add = [&names](const auto& table) {
    for (const auto& param : table)
      names.push_back(param.name);
  };
  add(delivery_int_params);
  if (feed == alarm_feed) {
    add(alarm_int_params);
    names.insert(names.end(), alarm_date_params.begin(), alarm_date_params.end());
  } else if (feed == poll_feed) {
    add(poll_int_params);
  } else if (feed == changes_feed) {
    add(changes_int_params);
  } else if (feed == kafka_feed) {
    add(kafka_int_params);
  } else if (feed == github_feed) {
    names.push_back(github_hook_id_param);
  } else if (feed == mqtt_feed) {
    add(mqtt_int_params);
  }
  return names;
}

/// Returns `delivery` without a batch window unless the registration sets batchWindowMs. For a feed whose source reads
/// a backlog as fast as credit allows (kafka, redis-stream), a fire carries what is waiting: with a window, a partial
/// batch would wait for events that the source reads only once that credit comes back.
delivery_spec without_default_window(delivery_spec delivery, const json_members& params) {
  if (find_member(params, batch_window_ms_param.name) == nullptr)
    delivery.batch_window = std::chrono::milliseconds{0};
  return delivery;
}

/// Returns how a kafka registration delivers: as OpenWhisk's provider, every fire is {"messages": [...]} with the
/// registration's `trigger_payload` beside it, and carries what is waiting (up to batchSize 1000 and batchBytes)
/// unless the registration sets its own batchSize or batchWindowMs.
delivery_spec kafka_delivery(delivery_spec delivery, const json_members& params, const kafka_spec& kafka,
                             const std::string& fire_body) {
  if (find_member(params, batch_size_param.name) == nullptr)
    delivery.batch_size = static_cast<std::size_t>(batch_size_param.max);
  delivery = without_default_window(std::move(delivery), params);
  delivery.envelope.key = "messages";
  delivery.envelope.wrap_single = true;
  delivery.envelope.max_bytes = kafka.batch_bytes;
  if (auto members = parse_json_object(fire_body, "trigger_payload"))
    delivery.envelope.members = std::move(*members);
  return delivery;
}

} // namespace

bool is_known_feed(std::string_view feed) {
  return feed == alarm_feed || feed == webhook_feed || feed == poll_feed || feed == changes_feed || feed == kafka_feed
         || feed == github_feed || feed == mqtt_feed || feed == redis_stream_feed;
}

bool is_hook_feed(std::string_view feed) {
  return feed == webhook_feed || feed == github_feed;
}

std::optional<std::int64_t> feed_config::max_triggers() const {
  if (alarm)
    return alarm->max_triggers;
  if (changes)
    return changes->max_triggers;
  return std::nullopt;
}

outcome<feed_config> make_feed_config(std::string_view feed, json_members params, sys_ms now, validation_time when,
                                      std::string_view trigger_key, const egress_policy& egress,
                                      const json_members* given) {
  if (!is_known_feed(feed))
    return field_error{"feed", "unknown feed kind \"" + std::string{feed}
                                 + "\"; this provider serves: alarm, webhook, poll, changes, kafka, github, mqtt,"
                                   " redis-stream"};
  auto delivery = parse_delivery_spec(params);
  if (!delivery)
    return delivery.error();
  feed_config config;
  config.feed = std::string{feed};
  config.delivery = *delivery;
  auto body = make_fire_body(params);
  if (!body)
    return body.error();
  config.fire_body = std::move(*body);
  if (feed == webhook_feed) {
    auto webhook = parse_webhook_spec(params);
    if (!webhook)
      return webhook.error();
    config.webhook = std::make_shared<const webhook_spec>(std::move(*webhook));
    config.params = normalize_int_params(std::move(params), numeric_params(feed));
    return config;
  }
  if (feed == github_feed) {
    auto github = parse_github_spec(params, egress);
    if (!github)
      return github.error();
    auto webhook = parse_webhook_spec(params);
    if (!webhook)
      return webhook.error();
    config.webhook = std::make_shared<const webhook_spec>(github_ingress(std::move(*webhook), *github));
    config.github = std::make_shared<const github_spec>(std::move(*github));
    config.params = normalize_int_params(std::move(params), numeric_params(feed));
    return config;
  }
  if (feed == poll_feed) {
    auto poll = parse_poll_spec(params);
    if (!poll)
      return poll.error();
    if (auto refused = check_url_egress(egress, poll->target, "url"))
      return *refused;
    config.poll = std::make_shared<const poll_spec>(std::move(*poll));
    config.params = normalize_int_params(std::move(params), numeric_params(feed));
    return config;
  }
  if (feed == changes_feed) {
    auto changes = parse_changes_spec(params);
    if (!changes)
      return changes.error();
    if (auto refused = check_url_egress(egress, changes->server, changes->server_field))
      return *refused;
    if (changes->iam_url)
      if (auto refused = check_url_egress(egress, *changes->iam_url, "iamUrl"))
        return *refused;
    config.changes = std::make_shared<const changes_spec>(std::move(*changes));
    config.params = normalize_int_params(std::move(params), numeric_params(feed));
    return config;
  }
  if (feed == kafka_feed) {
    auto kafka = parse_kafka_spec(params, egress);
    if (!kafka)
      return kafka.error();
    config.delivery = kafka_delivery(config.delivery, params, *kafka, config.fire_body);
    config.kafka = std::make_shared<const kafka_spec>(std::move(*kafka));
    config.params = normalize_kafka_flags(normalize_int_params(std::move(params), numeric_params(feed)));
    return config;
  }
  if (feed == mqtt_feed) {
    auto mqtt = parse_mqtt_spec(params, trigger_key);
    if (!mqtt)
      return mqtt.error();
    if (auto refused = check_url_egress(egress, mqtt->broker, "url"))
      return *refused;
    config.mqtt = std::make_shared<const mqtt_spec>(std::move(*mqtt));
    config.params = normalize_int_params(std::move(params), numeric_params(feed));
    return config;
  }
  if (feed == redis_stream_feed) {
    auto redis = parse_redis_stream_spec(params, egress);
    if (!redis)
      return redis.error();
    config.delivery = without_default_window(config.delivery, params);
    config.redis_stream = std::make_shared<const redis_stream_spec>(std::move(*redis));
    config.params = normalize_redis_stream_params(normalize_int_params(std::move(params), numeric_params(feed)));
    return config;
  }
  auto alarm = parse_alarm_spec(params, now, when, trigger_key, given);
  if (!alarm)
    return alarm.error();
  params = normalize_alarm_params(std::move(params), *alarm);
  config.alarm = std::make_shared<const alarm_spec>(std::move(*alarm));
  config.params = normalize_int_params(std::move(params), numeric_params(feed));
  return config;
}

} // namespace feedrouter
