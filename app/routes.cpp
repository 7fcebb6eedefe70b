#include "app/routes.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "app/list_cursor.hpp"
#include "app/request_parts.hpp"
#include "core/auth_key.hpp"
#include "core/json.hpp"
#include "core/status_json.hpp"
#include "core/url.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

http_response unauthorized() {
  auto res = error_response(401, "missing or malformed \"Authorization: Basic base64(uuid:key)\" header",
                            "authorization");
  res.fields.emplace_back("WWW-Authenticate", "Basic realm=\"feedrouter\"");
  return res;
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

/// Reads `limit` and `cursor` of a list request into `cmd`; the error names the one that is wrong.
std::optional<field_error> read_page_params(std::string_view target, api_command& cmd) {
  auto limit = read_limit(target, default_list_limit, max_list_limit);
  if (!limit)
    return limit.error();
  cmd.limit = *limit;
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
    if (p.size() == 2 && p[1] == "cluster") {
      if (req.method != "GET")
        return method_not_allowed("GET");
      return service_route::cluster;
    }
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
