#pragma once

#include <string_view>
#include <variant>

#include "actors/messages.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

/// What one request under /v1/admin/ amounts to: a command for the registry, or an answer right away (401, an error
/// that names the field, 404, 405).
using routed_admin = std::variant<admin_command, http_response>;

/// Returns the 401 of a request that needs the admin key and lacks it; it says nothing about the routes behind it.
http_response admin_unauthorized();

/// Returns whether `target` is under /v1/admin (docs/api.md, "Admin routes").
bool is_admin_target(std::string_view target);

/// Authenticates a request under /v1/admin/ with `admin_key` ("Authorization: Bearer KEY"; 401 before anything else
/// is looked at) and turns it into what it asks for; checks form only, never state.
routed_admin route_admin_request(const http_request& req, std::string_view admin_key);

} // namespace feedrouter
