#include "app/routes.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "app/list_cursor.hpp"
#include "core/auth_key.hpp"
#include "core/json.hpp"
#include "core/status_json.hpp"
#include "core/url.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

http_response error_response(int status, std::string_view message, std::string_view field = {}) {
  return json_response(status, render_error(message, field));
}

http_response bad_field(const field_error& err) {
  return error_response(400, err.field + ": " + err.message, err.field);
}

http_response method_not_allowed(std::string_view allowed) {
  auto res = error_response(405, "method not allowed; use " + std::string{allowed}, "method");
  res.fields.emplace_back("Allow", std::string{allowed});
  return res;
}

http_response unauthorized() {
  auto res = error_response(401, "missing or malformed \"Authorization: Basic base64(uuid:key)\" header",
                            "authorization");
  res.fields.emplace_back("WWW-Authenticate", "Basic realm=\"feedrouter\"");
  return res;
}

/// Splits the path of `target` into percent-decoded segments; nullopt on a malformed escape. Empty segments ("//",
/// a trailing "/") are kept, so they match no route instead of shifting the others.
std::optional<std::vector<std::string>> path_segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (!target.empty() && target.front() == '/')
    target.remove_prefix(1);
  std::vector<std::string> segments;
  while (!target.empty()) {
    auto end = std::min(target.find('/'), target.size());
    auto segment = percent_decode(target.substr(0, end));
    if (!segment)
      return std::nullopt;
    segments.push_back(std::move(*segment));
    target.remove_prefix(end);
    if (!target.empty()) {
      target.remove_prefix(1);
      if (target.empty())
        segments.emplace_back();
    }
  }
  return segments;
}

/// Checks that a body, if its type is declared, is JSON.
std::optional<http_response> check_content_type(const http_request& req) {
  auto type = req.field("Content-Type");
  if (type.empty())
    return std::nullopt;
  if (iequals(trim_ows(type.substr(0, type.find(';'))), "application/json"))
    return std::nullopt;
  return error_response(415, "the body must be JSON (Content-Type: application/json)", "Content-Type");
}

outcome<json_members> read_body(const http_request& req) {
  if (req.body.empty())
    return field_error{"body", "must be a JSON object"};
  return parse_json_object(req.body, "body");
}

/// Reads a string member; nullopt member means absent.
outcome<std::optional<std::string>> string_member(const json_members& body, std::string_view name) {
  const auto* raw = find_member(body, name);
  if (raw == nullptr)
    return std::optional<std::string>{};
  auto text = json_as_string(*raw);
  if (!text)
    return field_error{std::string{name}, "must be a string"};
  return std::optional<std::string>{std::move(*text)};
}

routed_request route_lifecycle(const http_request& req) {
  if (req.method != "POST")
    return method_not_allowed("POST");
  if (auto bad_type = check_content_type(req))
    return *bad_type;
  auto body = read_body(req);
  if (!body)
    return bad_field(body.error());
  api_command cmd;
  auto event = string_member(*body, "lifecycleEvent");
  if (!event)
    return bad_field(event.error());
  static const std::pair<std::string_view, api_op> events[] = {
    {"CREATE", api_op::create}, {"READ", api_op::read},   {"UPDATE", api_op::update},
    {"DELETE", api_op::remove}, {"PAUSE", api_op::pause}, {"UNPAUSE", api_op::resume},
  };
  auto known = std::find_if(std::begin(events), std::end(events),
                            [&](const auto& x) { return *event && x.first == **event; });
  if (known == std::end(events))
    return bad_field({"lifecycleEvent", "must be one of CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE"});
  cmd.op = known->second;
  auto name = string_member(*body, "triggerName");
  if (!name)
    return bad_field(name.error());
  if (!*name)
    return bad_field({"triggerName", "is required"});
  auto trigger = parse_trigger_name(**name);
  if (!trigger)
    return bad_field(trigger.error());
  cmd.trigger = std::move(*trigger);
  auto key = string_member(*body, "authKey");
  if (!key)
    return bad_field(key.error());
  if (!*key || !is_valid_auth_key(**key))
    return error_response(401, "authKey is missing or not of the form uuid:key", "authKey");
  cmd.auth_key = std::move(**key);
  auto feed = string_member(*body, "feed");
  if (!feed)
    return bad_field(feed.error());
  if (cmd.op == api_op::create && (!*feed || (*feed)->empty()))
    return bad_field({"feed", "is required for CREATE, e.g. \"alarm\""});
  cmd.feed = feed->value_or("");
  cmd.params = std::move(*body);
  cmd.from_feed_action = true;
  return cmd;
}

/// Returns the value of the query parameter `name` in `target` (percent-decoded; the last one when repeated), nullopt
/// when it is absent, or an error naming it when it is malformed.
outcome<std::optional<std::string>> query_param(std::string_view target, std::string_view name) {
  auto question = target.find('?');
  if (question == std::string_view::npos)
    return std::optional<std::string>{};
  auto query = target.substr(question + 1);
  std::optional<std::string> found;
  while (!query.empty()) {
    auto end = std::min(query.find('&'), query.size());
    auto pair = query.substr(0, end);
    query.remove_prefix(std::min(end + 1, query.size()));
    auto equals = pair.find('=');
    if (pair.substr(0, equals) != name)
      continue;
    auto value = percent_decode(equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1));
    if (!value)
      return field_error{std::string{name}, "has a malformed percent-escape"};
    found = std::move(*value);
  }
  return found;
}

/// Reads `limit` and `cursor` of a list request into `cmd`; the error names the one that is wrong.
std::optional<field_error> read_page_params(std::string_view target, api_command& cmd) {
  auto limit = query_param(target, "limit");
  if (!limit)
    return limit.error();
  if (*limit) {
    const auto& text = **limit;
    auto digits = !text.empty() && text.size() <= 7 && text.find_first_not_of("0123456789") == std::string::npos;
    auto value = digits ? std::stoul(text) : 0;
    if (value < 1 || value > max_list_limit)
      return field_error{"limit", "must be an integer from 1 to " + std::to_string(max_list_limit)};
    cmd.limit = value;
  }
  auto cursor = query_param(target, "cursor");
  if (!cursor)
    return cursor.error();
  if (*cursor) {
    auto after = decode_list_cursor(**cursor);
    if (!after)
      return field_error{"cursor", "is not a cursor this provider gave (use the \"next\" of the previous page)"};
    cmd.after = std::move(*after);
  }
  return std::nullopt;
}

/// Routes /v1/triggers/{ns}[/{trigger}[/{action}[/replay]]].
routed_request route_triggers(const http_request& req, const std::vector<std::string>& path) {
  auto key = parse_basic_authorization(req.field("Authorization"));
  if (!key)
    return unauthorized();
  api_command cmd;
  cmd.auth_key = std::move(*key);
  if (path.size() == 3) {
    if (req.method != "GET")
      return method_not_allowed("GET");
    if (!is_valid_entity_name(path[2]))
      return bad_field({"namespace", "is not a valid OpenWhisk namespace name"});
    cmd.op = api_op::list;
    cmd.trigger.ns = path[2];
    if (auto bad = read_page_params(req.target, cmd))
      return bad_field(*bad);
    return cmd;
  }
  auto trigger = make_trigger_ref(path[2], path[3]);
  if (!trigger)
    return bad_field(trigger.error());
  cmd.trigger = std::move(*trigger);
  if (path.size() == 4) {
    if (req.method == "GET") {
      cmd.op = api_op::read;
      return cmd;
    }
    if (req.method == "DELETE") {
      cmd.op = api_op::remove;
      return cmd;
    }
    if (req.method != "PUT" && req.method != "PATCH")
      return method_not_allowed("GET, PUT, PATCH, DELETE");
    if (auto bad_type = check_content_type(req))
      return *bad_type;
    auto body = read_body(req);
    if (!body)
      return bad_field(body.error());
    auto feed = string_member(*body, "feed");
    if (!feed)
      return bad_field(feed.error());
    cmd.feed = feed->value_or("");
    if (req.method == "PUT") {
      if (cmd.feed.empty())
        return bad_field({"feed", "is required, e.g. \"alarm\""});
      cmd.op = api_op::create;
    } else {
      cmd.op = api_op::update;
    }
    cmd.params = std::move(*body);
    return cmd;
  }
  auto action = std::string_view{path[4]};
  if (path.size() == 5 && (action == "pause" || action == "resume")) {
    if (req.method != "POST")
      return method_not_allowed("POST");
    cmd.op = action == "pause" ? api_op::pause : api_op::resume;
    return cmd;
  }
  if (path.size() == 5 && action == "deadletters") {
    if (req.method != "GET")
      return method_not_allowed("GET");
    cmd.op = api_op::dead_letters;
    return cmd;
  }
  if (path.size() == 6 && action == "deadletters" && path[5] == "replay") {
    if (req.method != "POST")
      return method_not_allowed("POST");
    cmd.op = api_op::replay;
    return cmd;
  }
  return error_response(404, "no such route", "path");
}

} // namespace

http_response json_response(int status, std::string body) {
  http_response res;
  res.status = status;
  if (!body.empty())
    res.fields.emplace_back("Content-Type", "application/json");
  res.body = std::move(body);
  return res;
}

routed_request route_request(const http_request& req) {
  auto path = path_segments(req.target);
  if (!path)
    return error_response(400, "the path has a malformed percent-escape", "path");
  const auto& p = *path;
  if (p.size() == 1 && (p[0] == "health" || p[0] == "ready" || p[0] == "metrics")) {
    if (req.method != "GET")
      return method_not_allowed("GET");
    return p[0] == "health" ? service_route::health : p[0] == "ready" ? service_route::ready : service_route::metrics;
  }
  if (p.size() >= 2 && p[0] == "v1") {
    if (p.size() == 2 && p[1] == "lifecycle")
      return route_lifecycle(req);
    if (p[1] == "triggers" && p.size() >= 3 && p.size() <= 6)
      return route_triggers(req, p);
    if (p[1] == "hooks" && p.size() == 3) {
      if (req.method != "POST")
        return method_not_allowed("POST");
      // No Basic auth here: the registration checks the sender's signature before anything else.
      api_command cmd;
      cmd.op = api_op::hook;
      cmd.hook_id = p[2];
      // The body and the headers are all a registration checks (signature, event kind): HTTP ends here.
      cmd.hook.body = req.body;
      cmd.hook.headers = req.fields;
      return cmd;
    }
  }
  return error_response(404, "no such route", "path");
}

} // namespace feedrouter
