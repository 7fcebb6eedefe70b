#pragma once

#include "actors/messages.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

/// Returns the HTTP status the control API answers for `outcome`.
int http_status(api_outcome outcome);

/// Returns the HTTP response for the answer to a lifecycle request or webhook event: its status, a JSON body made with
/// the one JSON writer ({"error", "field"} for failures), and Retry-After where the answer asks the caller to wait.
http_response to_http(const api_result& result);

} // namespace feedrouter
