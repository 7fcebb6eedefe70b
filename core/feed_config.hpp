#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/alarm_spec.hpp"
#include "core/changes_spec.hpp"
#include "core/delivery_spec.hpp"
#include "core/poll_spec.hpp"
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
  std::optional<alarm_spec> alarm;     ///< set for feed "alarm"
  std::optional<webhook_spec> webhook; ///< set for feed "webhook"
  std::optional<poll_spec> poll;       ///< set for feed "poll"
  std::optional<changes_spec> changes; ///< set for feed "changes"
};

/// Returns whether this build serves feed kind `feed`.
bool is_known_feed(std::string_view feed);

/// Validates `params` for feed kind `feed`. Failures name the parameter, or "feed" for an unknown kind.
outcome<feed_config> make_feed_config(std::string_view feed, json_members params, sys_ms now, validation_time when,
                                      std::string_view trigger_key);

} // namespace feedrouter
