#pragma once

#include <string>
#include <string_view>

#include "core/trigger_ref.hpp"
#include "net/http_message.hpp"

namespace feedrouter::test {

/// A cron with seconds that fires every second, so tests see fires quickly.
constexpr std::string_view every_second = "* * * * * *";

/// A cron that fires once a year, for registrations that must not change while a test looks at them.
constexpr std::string_view yearly = "0 0 1 1 *";

/// Returns "/v1/triggers/{ns}/{name}".
std::string trigger_path(const trigger_ref& trigger);

/// Returns a control-API request; an Authorization header when `auth_key` is given, and a JSON Content-Type when
/// there is a body.
http_request api_request(std::string method, std::string target, std::string_view auth_key = {},
                         std::string body = {});

/// Returns a CREATE body for an alarm: {"feed": "alarm", "cron": cron, "trigger_payload": payload}.
std::string alarm_body(std::string_view cron, std::string_view payload_json);

/// Returns a feed-action request: POST /v1/lifecycle with lifecycleEvent, triggerName, authKey and the members in
/// `more_members` (raw JSON members without braces, e.g. `"feed":"alarm"`; may be empty).
http_request lifecycle_request(std::string_view event, const trigger_ref& trigger, std::string_view auth_key,
                               std::string_view more_members = {});

} // namespace feedrouter::test
