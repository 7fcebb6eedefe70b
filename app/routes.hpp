#pragma once

#include <variant>

#include "actors/messages.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

/// Routes answered by the process itself rather than the registry.
enum class service_route { health, ready, metrics, cluster };

/// What one HTTP request to the control API amounts to: a lifecycle command for the registry, a service route, or an
/// answer right away (an error that names the field, 404, 405, ...).
using routed_request = std::variant<api_command, service_route, http_response>;

/// Turns a request into what it asks for; checks form only (JSON, types, names, Basic auth), never state.
routed_request route_request(const http_request& req);

/// Returns the HTTP response for a JSON answer: Content-Type set when there is a body.
http_response json_response(int status, std::string body);

} // namespace feedrouter
