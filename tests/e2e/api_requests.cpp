#include "tests/e2e/api_requests.hpp"

#include "core/auth_key.hpp"
#include "core/json.hpp"
#include "core/url.hpp"

namespace feedrouter::test {

std::string trigger_path(const trigger_ref& trigger) {
  return "/v1/triggers/" + percent_encode(trigger.ns) + '/' + percent_encode(trigger.name);
}

http_request api_request(std::string method, std::string target, std::string_view auth_key, std::string body) {
  http_request req;
  req.method = std::move(method);
  req.target = std::move(target);
  if (!auth_key.empty())
    req.fields.emplace_back("Authorization", basic_authorization(auth_key));
  if (!body.empty())
    req.fields.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  return req;
}

std::string alarm_body(std::string_view cron, std::string_view payload_json) {
  json_writer out;
  out.begin_object().key("feed").value("alarm").key("cron").value(cron).key("trigger_payload").raw(payload_json);
  return out.end_object().take();
}

http_request lifecycle_request(std::string_view event, const trigger_ref& trigger, std::string_view auth_key,
                               std::string_view more_members) {
  json_writer out;
  out.begin_object()
    .key("lifecycleEvent").value(event)
    .key("triggerName").value(trigger.qualified())
    .key("authKey").value(auth_key)
    .end_object();
  auto body = out.take();
  if (!more_members.empty()) {
    body.pop_back(); // the closing brace
    body += ',';
    body += more_members;
    body += '}';
  }
  return api_request("POST", "/v1/lifecycle", {}, std::move(body));
}

} // namespace feedrouter::test
