#include "core/registration.hpp"

namespace feedrouter {

std::string_view to_string(registration_state x) {
  switch (x) {
    case registration_state::active:
      return "active";
    case registration_state::paused:
      return "paused";
    case registration_state::disabled:
      return "disabled";
  }
  return "disabled";
}

std::string_view to_string(reason_kind x) {
  switch (x) {
    case reason_kind::none:
      return "";
    case reason_kind::automatic:
      return "AUTO";
    case reason_kind::admin:
      return "ADMIN";
    case reason_kind::user:
      return "USER";
  }
  return "";
}

std::optional<registration_state> parse_registration_state(std::string_view text) {
  for (auto x : {registration_state::active, registration_state::paused, registration_state::disabled})
    if (to_string(x) == text)
      return x;
  return std::nullopt;
}

std::optional<reason_kind> parse_reason_kind(std::string_view text) {
  for (auto x : {reason_kind::none, reason_kind::automatic, reason_kind::admin, reason_kind::user})
    if (to_string(x) == text)
      return x;
  return std::nullopt;
}

} // namespace feedrouter
