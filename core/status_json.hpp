#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/registration.hpp"

namespace feedrouter {

/// What a READ shows beside the stored record: facts only the running registration knows.
struct live_status {
  std::optional<sys_ms> next_fire; ///< alarms: when the next occurrence fires
};

/// Renders the API view of a registration: {"config": {...}, "status": {...}}. Never includes the authKey.
std::string render_registration(const registration_record& record, const live_status& live);

/// Renders an error answer: {"error": message, "field": field}; `field` is left out when empty.
std::string render_error(std::string_view message, std::string_view field = {});

} // namespace feedrouter
