#pragma once

// The parts of an HTTP request that the control API's routes read, and the error answers they give: shared by the
// lifecycle routes (app/routes.cpp) and the admin routes (app/admin_routes.cpp).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/outcome.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

/// Returns an error answer: {"error": message, "field": field} with `status`.
http_response error_response(int status, std::string_view message, std::string_view field = {});

/// Returns the 400 answer for a field that is wrong, naming it.
http_response bad_field(const field_error& err);

/// Returns the 405 answer, with the methods `allowed` in its Allow header.
http_response method_not_allowed(std::string_view allowed);

/// Splits the path of `target` into percent-decoded segments; nullopt on a malformed escape. Empty segments ("//",
/// a trailing "/") are kept, so they match no route instead of shifting the others.
std::optional<std::vector<std::string>> path_segments(std::string_view target);

/// Returns the 415 answer when the request declares a body type other than JSON; nullopt when it may go on.
std::optional<http_response> check_content_type(const http_request& req);

/// Reads the request's body as a JSON object; an empty body is an error naming "body".
outcome<json_members> read_body(const http_request& req);

/// Reads a string member of `body`; a nullopt value means the member is absent.
outcome<std::optional<std::string>> string_member(const json_members& body, std::string_view name);

/// Returns the value of the query parameter `name` in `target` (percent-decoded; the last one when repeated), nullopt
/// when it is absent, or an error naming it when it is malformed.
outcome<std::optional<std::string>> query_param(std::string_view target, std::string_view name);

/// Returns the `limit` query parameter of a list request (1 to `max`), `fallback` when it is absent, or an error
/// naming it.
outcome<std::size_t> read_limit(std::string_view target, std::size_t fallback, std::size_t max);

} // namespace feedrouter
