#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/trigger_ref.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// Returns the `activationId` of a controller's 2xx answer to a fire (`{"activationId": "..."}`), or an empty string
/// when the body has none (204 for a trigger without an active rule, or a body that is not such an object).
std::string activation_id_of(std::string_view body);

/// Writes the debug line of one fire attempt of `trigger` (a registration of feed kind `feed`): "fired" with the
/// controller's activationId for a 2xx answer, so that an operator can follow an event into OpenWhisk's activation
/// log, or "fire failed" with the status code (0 when no answer came) and the transport error. The line's fields are
/// namespace, trigger, feed, statusCode, activationId, attempt and durationMs; nothing of the request is logged.
void log_fire_attempt(const trigger_ref& trigger, std::string_view feed, int attempt, const client_result& result,
                      std::chrono::microseconds took);

} // namespace feedrouter
