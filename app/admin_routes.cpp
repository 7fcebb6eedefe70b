#include "app/admin_routes.hpp"

#include <string>
#include <vector>

#include "app/admin_key.hpp"
#include "app/list_cursor.hpp"
#include "app/request_parts.hpp"
#include "core/trigger_ref.hpp"

namespace feedrouter {

namespace {

/// Where every admin route starts: /v1/admin.
constexpr std::size_t admin_prefix_segments = 2;

http_response no_route() {
  return error_response(404, "no such route", "path");
}

/// Reads `cursor`: a registration for the list of registrations, a namespace for the list of namespaces.
std::optional<field_error> read_cursor(std::string_view target, admin_command& cmd) {
  auto cursor = query_param(target, "cursor");
  if (!cursor)
    return cursor.error();
  if (!*cursor)
    return std::nullopt;
  auto bad = field_error{"cursor", "is not a cursor this provider gave (use the \"next\" of the previous page)"};
  if (cmd.op == admin_op::namespaces) {
    cmd.after_ns = decode_namespace_cursor(**cursor);
    return cmd.after_ns ? std::nullopt : std::optional<field_error>{bad};
  }
  cmd.after = decode_list_cursor(**cursor);
  return cmd.after ? std::nullopt : std::optional<field_error>{bad};
}

/// GET /v1/admin/triggers[?namespace=&limit=&cursor=] and GET /v1/admin/namespaces[?limit=&cursor=].
routed_admin route_list(const http_request& req, admin_op op) {
  if (req.method != "GET")
    return method_not_allowed("GET");
  admin_command cmd;
  cmd.op = op;
  auto limit = read_limit(req.target, default_list_limit, max_list_limit);
  if (!limit)
    return bad_field(limit.error());
  cmd.limit = *limit;
  if (auto bad = read_cursor(req.target, cmd))
    return bad_field(*bad);
  if (op == admin_op::list) {
    auto ns = query_param(req.target, "namespace");
    if (!ns)
      return bad_field(ns.error());
    if (*ns && !is_valid_entity_name(**ns))
      return bad_field({"namespace", "is not a valid OpenWhisk namespace name"});
    cmd.ns = ns->value_or("");
  }
  return cmd;
}

/// Reads the optional body of a disable: nothing, or {"message": "..."}.
std::optional<field_error> read_disable_body(const http_request& req, admin_command& cmd) {
  if (req.body.empty())
    return std::nullopt;
  auto body = read_body(req);
  if (!body)
    return body.error();
  for (const auto& member : *body)
    if (member.first != "message")
      return field_error{member.first, "is not a parameter of a disable (only \"message\" is)"};
  auto message = string_member(*body, "message");
  if (!message)
    return message.error();
  if (*message && (*message)->size() > max_admin_message)
    return field_error{"message", "must be at most " + std::to_string(max_admin_message) + " characters"};
  cmd.message = message->value_or("");
  return std::nullopt;
}

/// /v1/admin/triggers/{ns}/{trigger}[/disable|/enable].
routed_admin route_registration(const http_request& req, const std::vector<std::string>& path) {
  admin_command cmd;
  auto trigger = make_trigger_ref(path[3], path[4]);
  if (!trigger)
    return bad_field(trigger.error());
  cmd.trigger = std::move(*trigger);
  if (path.size() == 5) {
    if (req.method != "GET")
      return method_not_allowed("GET");
    cmd.op = admin_op::read;
    return cmd;
  }
  const auto& action = path[5];
  if (action != "disable" && action != "enable")
    return no_route();
  if (req.method != "POST")
    return method_not_allowed("POST");
  if (action == "enable") {
    cmd.op = admin_op::enable;
    return cmd;
  }
  cmd.op = admin_op::disable;
  if (auto bad_type = check_content_type(req))
    return *bad_type;
  if (auto bad = read_disable_body(req, cmd))
    return bad_field(*bad);
  return cmd;
}

} // namespace

http_response admin_unauthorized() {
  auto res = error_response(401, "missing or wrong admin key (\"Authorization: Bearer KEY\")", "authorization");
  res.fields.emplace_back("WWW-Authenticate", "Bearer realm=\"feedrouter-admin\"");
  return res;
}

bool is_admin_target(std::string_view target) {
  auto path = path_segments(target);
  return path && path->size() >= admin_prefix_segments && (*path)[0] == "v1" && (*path)[1] == "admin";
}

routed_admin route_admin_request(const http_request& req, std::string_view admin_key) {
  if (!carries_admin_key(req.field("Authorization"), admin_key))
    return admin_unauthorized();
  auto path = path_segments(req.target);
  if (!path)
    return error_response(400, "the path has a malformed percent-escape", "path");
  const auto& p = *path;
  if (p.size() == 3 && p[2] == "triggers")
    return route_list(req, admin_op::list);
  if (p.size() == 3 && p[2] == "namespaces")
    return route_list(req, admin_op::namespaces);
  if (p.size() >= 5 && p.size() <= 6 && p[2] == "triggers")
    return route_registration(req, p);
  return no_route();
}

} // namespace feedrouter
