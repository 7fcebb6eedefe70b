#include "app/routes.hpp"

#include <string>
#include <string_view>
#include <variant>

#include <catch2/catch.hpp>

#include "app/list_cursor.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "tests/unit/app/route_requests.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

api_command command(const http_request& req) {
  auto routed = route_request(req);
  INFO(req.method << " " << req.target << " " << req.body);
  std::string answer;
  if (const auto* res = std::get_if<http_response>(&routed))
    answer = std::to_string(res->status) + " " + res->body;
  INFO("answered: " << answer);
  REQUIRE(std::holds_alternative<api_command>(routed));
  return std::get<api_command>(routed);
}

service_route service(const http_request& req) {
  auto routed = route_request(req);
  INFO(req.method << " " << req.target);
  REQUIRE(std::holds_alternative<service_route>(routed));
  return std::get<service_route>(routed);
}

json_members params(std::string_view json) {
  auto parsed = parse_json_object(json, "params");
  REQUIRE(parsed);
  return *parsed;
}

} // namespace

// -- service routes ----------------------------------------------------------------------

TEST_CASE("health, ready and metrics are service routes", "[routes]") {
  CHECK(service(request("GET", "/health")) == service_route::health);
  CHECK(service(request("GET", "/ready")) == service_route::ready);
  CHECK(service(request("GET", "/metrics")) == service_route::metrics);
}

TEST_CASE("service routes need no authorization and ignore the query", "[routes]") {
  http_request req;
  req.method = "GET";
  req.target = "/metrics?format=text";
  CHECK(service(req) == service_route::metrics);
}

// -- /v1/triggers ----------------------------------------------------------------------------

TEST_CASE("PUT on a trigger is CREATE with the feed and all parameters", "[routes]") {
  auto body = R"({"feed": "alarm", "cron": "*/5 * * * *", "trigger_payload": {"a": 1}})";
  auto cmd = command(request("PUT", "/v1/triggers/guest/every-five", body));
  CHECK(cmd.op == api_op::create);
  CHECK(cmd.trigger == trigger_ref{"guest", "every-five"});
  CHECK(cmd.auth_key == owner_key);
  CHECK(cmd.feed == "alarm");
  CHECK(cmd.params == params(body));
}

TEST_CASE("GET on a trigger is READ", "[routes]") {
  auto cmd = command(request("GET", "/v1/triggers/guest/t"));
  CHECK(cmd.op == api_op::read);
  CHECK(cmd.trigger == trigger_ref{"guest", "t"});
  CHECK(cmd.auth_key == owner_key);
}

TEST_CASE("PATCH on a trigger is UPDATE with the parameters to change", "[routes]") {
  auto cmd = command(request("PATCH", "/v1/triggers/guest/t", R"({"cron": "0 * * * *"})"));
  CHECK(cmd.op == api_op::update);
  CHECK(cmd.trigger == trigger_ref{"guest", "t"});
  CHECK(cmd.feed.empty());
  CHECK(cmd.params == params(R"({"cron": "0 * * * *"})"));
}

TEST_CASE("PATCH carries a feed when one is given", "[routes]") {
  auto cmd = command(request("PATCH", "/v1/triggers/guest/t", R"({"feed": "alarm", "minutes": 2})"));
  CHECK(cmd.op == api_op::update);
  CHECK(cmd.feed == "alarm");
}

TEST_CASE("DELETE on a trigger is DELETE", "[routes]") {
  auto cmd = command(request("DELETE", "/v1/triggers/guest/t"));
  CHECK(cmd.op == api_op::remove);
  CHECK(cmd.trigger == trigger_ref{"guest", "t"});
}

TEST_CASE("POST pause and resume are PAUSE and UNPAUSE", "[routes]") {
  auto pause = command(request("POST", "/v1/triggers/guest/t/pause"));
  CHECK(pause.op == api_op::pause);
  CHECK(pause.trigger == trigger_ref{"guest", "t"});
  auto resume = command(request("POST", "/v1/triggers/guest/t/resume"));
  CHECK(resume.op == api_op::resume);
  CHECK(resume.trigger == trigger_ref{"guest", "t"});
}

TEST_CASE("GET on a namespace lists its registrations", "[routes]") {
  auto cmd = command(request("GET", "/v1/triggers/guest"));
  CHECK(cmd.op == api_op::list);
  CHECK(cmd.trigger.ns == "guest");
  CHECK(cmd.trigger.name.empty());
  CHECK(cmd.auth_key == owner_key);
}

TEST_CASE("a list shows 100 registrations unless limit asks otherwise, and starts after its cursor", "[routes]") {
  CHECK(command(request("GET", "/v1/triggers/guest")).limit == 100);
  CHECK_FALSE(command(request("GET", "/v1/triggers/guest")).after.has_value());
  CHECK(command(request("GET", "/v1/triggers/guest?limit=1")).limit == 1);
  CHECK(command(request("GET", "/v1/triggers/guest?limit=1000")).limit == 1000);
  auto cursor = encode_list_cursor({"guest", "t 7"});
  auto next = command(request("GET", "/v1/triggers/guest?cursor=" + cursor + "&limit=20&other=x"));
  CHECK(next.limit == 20);
  CHECK(next.after == trigger_ref{"guest", "t 7"});
  // Percent-encoded as a client may send it.
  auto escaped = command(request("GET", "/v1/triggers/guest?limit=%35"));
  CHECK(escaped.limit == 5);
}

TEST_CASE("dead letters are read with GET and replayed with POST", "[routes]") {
  auto read = command(request("GET", "/v1/triggers/guest/t/deadletters"));
  CHECK(read.op == api_op::dead_letters);
  CHECK(read.trigger == trigger_ref{"guest", "t"});
  auto replay = command(request("POST", "/v1/triggers/guest/t/deadletters/replay"));
  CHECK(replay.op == api_op::replay);
  CHECK(replay.trigger == trigger_ref{"guest", "t"});
}

TEST_CASE("percent-encoded namespace and trigger names are decoded", "[routes]") {
  auto cmd = command(request("GET", "/v1/triggers/user%40example.com_dev/my%20trigger"));
  CHECK(cmd.trigger == trigger_ref{"user@example.com_dev", "my trigger"});
  auto list = command(request("GET", "/v1/triggers/user%40example.com_dev"));
  CHECK(list.trigger.ns == "user@example.com_dev");
  auto pause = command(request("POST", "/v1/triggers/guest/%74/pause"));
  CHECK(pause.trigger == trigger_ref{"guest", "t"});
}

TEST_CASE("the query string is not part of the trigger name", "[routes]") {
  auto cmd = command(request("GET", "/v1/triggers/guest/t?verbose=true"));
  CHECK(cmd.trigger == trigger_ref{"guest", "t"});
}

TEST_CASE("the Authorization header name and scheme are case-insensitive", "[routes]") {
  http_request req;
  req.method = "GET";
  req.target = "/v1/triggers/guest/t";
  req.fields.emplace_back("authorization", "basic " + base64_encode(owner_key));
  CHECK(command(req).auth_key == owner_key);
}

TEST_CASE("a JSON content type with parameters or in other case is accepted", "[routes]") {
  for (auto type : {"application/json", "application/json; charset=utf-8", "Application/JSON",
                    "application/json;charset=UTF-8"}) {
    INFO(type);
    auto req = request("PUT", "/v1/triggers/guest/t", R"({"feed": "alarm", "minutes": 1})");
    req.fields.back().second = type;
    CHECK(command(req).op == api_op::create);
  }
}

TEST_CASE("a body without a content type is read as JSON", "[routes]") {
  auto req = request("PUT", "/v1/triggers/guest/t");
  req.body = R"({"feed": "alarm", "minutes": 1})";
  CHECK(command(req).feed == "alarm");
}

// -- /v1/lifecycle -----------------------------------------------------------------------------

TEST_CASE("a lifecycle CREATE maps to create with the feed-action parameters", "[routes]") {
  auto body = R"({"lifecycleEvent": "CREATE", "triggerName": "/guest/t", "authKey": "u:k", "feed": "alarm",
                  "cron": "* * * * *"})";
  auto cmd = command(lifecycle(body));
  CHECK(cmd.op == api_op::create);
  CHECK(cmd.trigger == trigger_ref{"guest", "t"});
  CHECK(cmd.auth_key == "u:k");
  CHECK(cmd.feed == "alarm");
  CHECK(cmd.params == params(body));
}

TEST_CASE("each lifecycle event maps to its operation", "[routes]") {
  struct event_case {
    std::string_view event;
    api_op op;
  };
  for (auto c : {event_case{"CREATE", api_op::create}, event_case{"READ", api_op::read},
                 event_case{"UPDATE", api_op::update}, event_case{"DELETE", api_op::remove},
                 event_case{"PAUSE", api_op::pause}, event_case{"UNPAUSE", api_op::resume}}) {
    INFO(c.event);
    auto cmd = command(lifecycle(R"({"lifecycleEvent": ")" + std::string{c.event}
                                 + R"(", "triggerName": "guest/t", "authKey": "u:k", "feed": "alarm"})"));
    CHECK(cmd.op == c.op);
    CHECK(cmd.trigger == trigger_ref{"guest", "t"});
    CHECK(cmd.auth_key == "u:k");
  }
}

TEST_CASE("lifecycle events other than CREATE need no feed", "[routes]") {
  for (auto event : {"READ", "UPDATE", "DELETE", "PAUSE", "UNPAUSE"}) {
    INFO(event);
    auto cmd = command(lifecycle(R"({"lifecycleEvent": ")" + std::string{event}
                                 + R"(", "triggerName": "/_/t", "authKey": "u:k"})"));
    CHECK(cmd.feed.empty());
    CHECK(cmd.trigger == trigger_ref{"_", "t"});
  }
}

TEST_CASE("a lifecycle request needs no Authorization header and no content type", "[routes]") {
  auto req = lifecycle(R"({"lifecycleEvent": "DELETE", "triggerName": "/guest/t", "authKey": "u:k"})");
  req.fields.clear();
  CHECK(command(req).op == api_op::remove);
}

// -- json_response ----------------------------------------------------------------------------

TEST_CASE("json_response sets the content type only when there is a body", "[routes]") {
  auto with_body = json_response(201, R"({"a":1})");
  CHECK(with_body.status == 201);
  CHECK(with_body.field("Content-Type") == "application/json");
  CHECK(with_body.body == R"({"a":1})");
  auto empty = json_response(204, "");
  CHECK(empty.status == 204);
  CHECK(empty.field("Content-Type").empty());
  CHECK(empty.body.empty());
}

TEST_CASE("webhook ingress needs no Basic auth and carries the hook id headers and raw body", "[routes]") {
  http_request req;
  req.method = "POST";
  req.target = "/v1/hooks/abc%2D123";
  req.fields = {{"X-Hub-Signature-256", "sha256=00"}, {"Content-Type", "text/plain"}};
  req.body = "not json";
  auto cmd = command(req);
  CHECK(cmd.op == api_op::hook);
  CHECK(cmd.hook_id == "abc-123");
  CHECK(cmd.hook.body == "not json");
  CHECK(find_header(cmd.hook, "x-hub-signature-256") == "sha256=00");
  CHECK(cmd.auth_key.empty());
}
