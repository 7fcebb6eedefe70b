#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/alarm_spec.hpp"
#include "core/changes_spec.hpp"
#include "core/delivery_spec.hpp"
#include "core/egress_policy.hpp"
#include "core/github_spec.hpp"
#include "core/kafka_spec.hpp"
#include "core/mqtt_spec.hpp"
#include "core/poll_spec.hpp"
#include "core/redis_stream_spec.hpp"
#include "core/webhook_spec.hpp"
#include "core/json.hpp"
#include "core/outcome.hpp"

namespace feedrouter {

/// A validated registration: its feed kind, its parameters as the owner gave them, and what each fire carries.
struct feed_config {
  std::string feed;
  json_members params;
  /// `trigger_payload` as a JSON object ({} without one): an alarm's fire body, and merged into every event of the
  /// other feeds (the event's own members win).
  std::string fire_body;
  delivery_spec delivery;
  // The spec of the feed kind: exactly one is set. Shared and immutable, so that a config costs little to copy and a
  // registration holds only its own kind's spec (100 000 registrations keep 100 000 configs).
  std::shared_ptr<const alarm_spec> alarm;     ///< set for feed "alarm"
  std::shared_ptr<const webhook_spec> webhook; ///< set for feed "webhook", and for "github" (its ingress)
  std::shared_ptr<const github_spec> github;   ///< set for feed "github" (beside `webhook`): its hook at GitHub
  std::shared_ptr<const poll_spec> poll;       ///< set for feed "poll"
  std::shared_ptr<const changes_spec> changes; ///< set for feed "changes"
  std::shared_ptr<const mqtt_spec> mqtt;       ///< set for feed "mqtt"
  std::shared_ptr<const kafka_spec> kafka;     ///< set for feed "kafka"
  std::shared_ptr<const redis_stream_spec> redis_stream; ///< set for feed "redis-stream"

  /// Returns the registration's `maxTriggers` (alarm cron and interval kinds, changes): how many fires it may have
  /// before it is disabled; nullopt when unlimited.
  std::optional<std::int64_t> max_triggers() const;
};

/// Returns whether this build serves feed kind `feed`.
bool is_known_feed(std::string_view feed);

/// Returns whether registrations of feed kind `feed` receive events at a hook URL of their own (webhook, github): the
/// provider makes their `hookId` and, unless given, their `secret`.
bool is_hook_feed(std::string_view feed);

/// Validates `params` for feed kind `feed`. Failures name the parameter, or "feed" for an unknown kind. An endpoint
/// the registration names (`url` of poll, changes and mqtt, `iamUrl`) that `egress` refuses without resolving it (a
/// literal address, localhost) fails here; one whose name resolves to a refused address fails when its source
/// connects. Kafka brokers and Redis servers likewise.
///
/// `given` are the parameters the request itself carries when `params` merges them over stored ones (UPDATE); null
/// means all of `params`. Only dates among them must lie in the future (parse_alarm_spec).
outcome<feed_config> make_feed_config(std::string_view feed, json_members params, sys_ms now, validation_time when,
                                      std::string_view trigger_key, const egress_policy& egress,
                                      const json_members* given = nullptr);

} // namespace feedrouter
