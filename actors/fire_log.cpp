#include "actors/fire_log.hpp"

#include "core/json.hpp"
#include "core/log.hpp"

namespace feedrouter {

std::string activation_id_of(std::string_view body) {
  auto members = parse_json_object(body, "body");
  if (!members)
    return {};
  const auto* raw = find_member(*members, "activationId");
  if (raw == nullptr)
    return {};
  return json_as_string(*raw).value_or(std::string{});
}

void log_fire_attempt(const trigger_ref& trigger, std::string_view feed, int attempt, const client_result& result,
                      std::chrono::microseconds took) {
  if (!log_enabled(log_level::debug))
    return;
  auto duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  auto status = result.ok() ? result.response.status : 0;
  if (status >= 200 && status < 300) {
    log_fields(log_level::debug, "fired",
               {{"namespace", trigger.ns}, {"trigger", trigger.name}, {"feed", feed}, {"statusCode", status},
                {"activationId", activation_id_of(result.response.body)}, {"attempt", attempt},
                {"durationMs", duration_ms}});
    return;
  }
  log_fields(log_level::debug, "fire failed",
             {{"namespace", trigger.ns}, {"trigger", trigger.name}, {"feed", feed}, {"statusCode", status},
              {"attempt", attempt}, {"durationMs", duration_ms}, {"error", result.error}});
}

} // namespace feedrouter
