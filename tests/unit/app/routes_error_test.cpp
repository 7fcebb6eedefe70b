#include "app/routes.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "tests/unit/app/route_requests.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Routes `req`, requires an immediate answer with `status`, and checks that its JSON body names `field`.
http_response answer(const http_request& req, int status, std::string_view field) {
  INFO(req.method << " " << req.target << " " << req.body);
  auto routed = route_request(req);
  REQUIRE(std::holds_alternative<http_response>(routed));
  auto res = std::get<http_response>(routed);
  INFO("answered " << res.status << " " << res.body);
  CHECK(res.status == status);
  CHECK(res.field("Content-Type") == "application/json");
  auto body = parse_json_object(res.body, "body");
  REQUIRE(body);
  const auto* error = find_member(*body, "error");
  REQUIRE(error != nullptr);
  auto message = json_as_string(*error);
  REQUIRE(message);
  CHECK_FALSE(message->empty());
  const auto* named = find_member(*body, "field");
  REQUIRE(named != nullptr);
  CHECK(json_as_string(*named) == std::string{field});
  return res;
}

/// A request that must be answered 405 and the methods the Allow header must list.
struct wrong_method {
  http_request req;
  std::string_view allow;
};

} // namespace

// -- methods -----------------------------------------------------------------------------------

TEST_CASE("a method a route does not serve is 405 with an Allow header", "[routes]") {
  std::vector<wrong_method> cases = {
    {request("POST", "/health"), "GET"},
    {request("PUT", "/ready"), "GET"},
    {request("DELETE", "/metrics"), "GET"},
    {request("POST", "/v1/triggers/guest/t"), "GET, PUT, PATCH, DELETE"},
    {request("HEAD", "/v1/triggers/guest/t"), "GET, PUT, PATCH, DELETE"},
    {request("PUT", "/v1/triggers/guest"), "GET"},
    {request("DELETE", "/v1/triggers/guest"), "GET"},
    {request("GET", "/v1/triggers/guest/t/pause"), "POST"},
    {request("PUT", "/v1/triggers/guest/t/resume"), "POST"},
    {request("POST", "/v1/triggers/guest/t/deadletters"), "GET"},
    {request("GET", "/v1/triggers/guest/t/deadletters/replay"), "POST"},
    {request("GET", "/v1/lifecycle"), "POST"},
    {request("PUT", "/v1/lifecycle", R"({"lifecycleEvent": "CREATE"})"), "POST"},
  };
  for (const auto& c : cases) {
    auto res = answer(c.req, 405, "method");
    CHECK(res.field("Allow") == c.allow);
  }
}

// -- authorization -----------------------------------------------------------------------------

TEST_CASE("every trigger route without Basic authorization is 401 naming authorization", "[routes]") {
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
         {"PUT", "/v1/triggers/guest/t"},
         {"GET", "/v1/triggers/guest/t"},
         {"PATCH", "/v1/triggers/guest/t"},
         {"DELETE", "/v1/triggers/guest/t"},
         {"POST", "/v1/triggers/guest/t/pause"},
         {"POST", "/v1/triggers/guest/t/resume"},
         {"GET", "/v1/triggers/guest"},
         {"GET", "/v1/triggers/guest/t/deadletters"},
         {"POST", "/v1/triggers/guest/t/deadletters/replay"},
       }) {
    auto res = answer(anonymous(method, target), 401, "authorization");
    CHECK_FALSE(res.field("WWW-Authenticate").empty());
  }
}

TEST_CASE("a malformed Authorization header is 401 naming authorization", "[routes]") {
  for (const std::string& header : {
         std::string{"Bearer "} + base64_encode(owner_key),
         std::string{"Basic"},
         std::string{"Basic not-base64!"},
         "Basic " + base64_encode("no-colon"),
         "Basic " + base64_encode(":key"),
         std::string{owner_key},
       }) {
    auto req = anonymous("GET", "/v1/triggers/guest/t");
    req.fields.emplace_back("Authorization", header);
    answer(req, 401, "authorization");
  }
}

// -- content type and body ------------------------------------------------------------------------

TEST_CASE("a body that is declared as something other than JSON is 415", "[routes]") {
  for (auto type : {"text/plain", "application/x-www-form-urlencoded", "application/jsonp", "application/json-seq",
                    "json", "text/json"}) {
    INFO(type);
    for (auto method : {"PUT", "PATCH"}) {
      auto req = request(method, "/v1/triggers/guest/t", R"({"feed": "alarm", "minutes": 1})");
      req.fields.back().second = type;
      answer(req, 415, "Content-Type");
    }
    auto req = lifecycle(R"({"lifecycleEvent": "DELETE", "triggerName": "/guest/t", "authKey": "u:k"})");
    req.fields.back().second = type;
    answer(req, 415, "Content-Type");
  }
}

TEST_CASE("a missing, malformed or non-object body is 400 naming body", "[routes]") {
  for (auto body : {"", "{", "{\"feed\": }", "not json", "[1, 2]", "\"alarm\"", "null"}) {
    INFO("'" << body << "'");
    auto put = request("PUT", "/v1/triggers/guest/t");
    put.body = body;
    answer(put, 400, "body");
    auto patch = request("PATCH", "/v1/triggers/guest/t");
    patch.body = body;
    answer(patch, 400, "body");
    answer(lifecycle(body), 400, "body");
  }
}

TEST_CASE("a duplicate parameter is 400 naming it", "[routes]") {
  answer(request("PUT", "/v1/triggers/guest/t", R"({"feed": "alarm", "minutes": 1, "minutes": 2})"), 400,
         "minutes");
}

TEST_CASE("a PUT without a feed, or with one that is not a string, is 400 naming feed", "[routes]") {
  for (auto body : {R"({"minutes": 1})", R"({"feed": "", "minutes": 1})", R"({"feed": 5})", R"({"feed": null})",
                    R"({"feed": ["alarm"]})"}) {
    answer(request("PUT", "/v1/triggers/guest/t", body), 400, "feed");
  }
  answer(request("PATCH", "/v1/triggers/guest/t", R"({"feed": true})"), 400, "feed");
}

// -- names ----------------------------------------------------------------------------------------

TEST_CASE("an invalid namespace or trigger in the path is 400 naming it", "[routes]") {
  answer(request("GET", "/v1/triggers/-guest/t"), 400, "namespace");
  answer(request("PUT", "/v1/triggers/guest%2Fx/t", R"({"feed": "alarm"})"), 400, "namespace");
  answer(request("GET", "/v1/triggers/guest%20"), 400, "namespace");
  answer(request("GET", "/v1/triggers/%2Fguest"), 400, "namespace");
  answer(request("GET", "/v1/triggers/guest/.t"), 400, "trigger");
  answer(request("DELETE", "/v1/triggers/guest/t%2Fx"), 400, "trigger");
  answer(request("POST", "/v1/triggers/guest/t%21/pause"), 400, "trigger");
  answer(request("GET", "/v1/triggers/guest/" + std::string(257, 'a')), 400, "trigger");
}

TEST_CASE("a malformed percent-escape in the path is 400 naming path", "[routes]") {
  for (auto target : {"/v1/triggers/guest/t%2", "/v1/triggers/guest/t%zz", "/v1/triggers/gu%st", "/health%"}) {
    answer(request("GET", target), 400, "path");
  }
}

// -- lifecycle ------------------------------------------------------------------------------------

TEST_CASE("a missing or unknown lifecycleEvent is 400 naming lifecycleEvent", "[routes]") {
  for (auto body : {R"({"triggerName": "/guest/t", "authKey": "u:k"})",
                    R"({"lifecycleEvent": "create", "triggerName": "/guest/t", "authKey": "u:k"})",
                    R"({"lifecycleEvent": "RESUME", "triggerName": "/guest/t", "authKey": "u:k"})",
                    R"({"lifecycleEvent": "", "triggerName": "/guest/t", "authKey": "u:k"})",
                    R"({"lifecycleEvent": 1, "triggerName": "/guest/t", "authKey": "u:k"})",
                    R"({"lifecycleEvent": null, "triggerName": "/guest/t", "authKey": "u:k"})"}) {
    answer(lifecycle(body), 400, "lifecycleEvent");
  }
}

TEST_CASE("a missing or malformed triggerName is 400 naming triggerName", "[routes]") {
  for (auto body : {R"({"lifecycleEvent": "READ", "authKey": "u:k"})",
                    R"({"lifecycleEvent": "READ", "triggerName": "t", "authKey": "u:k"})",
                    R"({"lifecycleEvent": "READ", "triggerName": "/ns/pkg/t", "authKey": "u:k"})",
                    R"({"lifecycleEvent": "READ", "triggerName": "", "authKey": "u:k"})",
                    R"({"lifecycleEvent": "READ", "triggerName": 5, "authKey": "u:k"})",
                    R"({"lifecycleEvent": "READ", "triggerName": ["/guest/t"], "authKey": "u:k"})"}) {
    answer(lifecycle(body), 400, "triggerName");
  }
}

TEST_CASE("a missing or malformed authKey in a lifecycle body is 401 naming authKey", "[routes]") {
  for (auto body : {R"({"lifecycleEvent": "READ", "triggerName": "/guest/t"})",
                    R"({"lifecycleEvent": "READ", "triggerName": "/guest/t", "authKey": "no-colon"})",
                    R"({"lifecycleEvent": "READ", "triggerName": "/guest/t", "authKey": ":k"})",
                    R"({"lifecycleEvent": "READ", "triggerName": "/guest/t", "authKey": ""})"}) {
    answer(lifecycle(body), 401, "authKey");
  }
}

TEST_CASE("an authKey that is not a string is 400 naming authKey", "[routes]") {
  answer(lifecycle(R"({"lifecycleEvent": "READ", "triggerName": "/guest/t", "authKey": 5})"), 400, "authKey");
}

TEST_CASE("a lifecycle CREATE without a feed, or a feed that is not a string, is 400 naming feed", "[routes]") {
  answer(lifecycle(R"({"lifecycleEvent": "CREATE", "triggerName": "/guest/t", "authKey": "u:k"})"), 400, "feed");
  answer(lifecycle(R"({"lifecycleEvent": "CREATE", "triggerName": "/guest/t", "authKey": "u:k", "feed": 1})"), 400,
         "feed");
  answer(lifecycle(R"({"lifecycleEvent": "UPDATE", "triggerName": "/guest/t", "authKey": "u:k", "feed": {}})"), 400,
         "feed");
}

// -- unknown routes -------------------------------------------------------------------------------

TEST_CASE("unknown routes are 404 naming path", "[routes]") {
  for (auto target : {"/", "", "/v1", "/v1/", "/v2/triggers/guest/t", "/v1/unknown", "/v1/triggers",
                      "/v1/lifecycle/extra", "/health/extra", "/v1/hooks", "/v1/hooks/a/b", "/V1/triggers/guest",
                      "/healthz"}) {
    INFO("'" << target << "'");
    answer(anonymous("GET", target), 404, "path");
  }
}

TEST_CASE("unknown actions under a trigger are 404 naming path", "[routes]") {
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
         {"POST", "/v1/triggers/guest/t/stop"},
         {"GET", "/v1/triggers/guest/t/status"},
         {"POST", "/v1/triggers/guest/t/pause/now"},
         {"POST", "/v1/triggers/guest/t/deadletters/purge"},
         {"POST", "/v1/triggers/guest/t/deadletters/replay/all"},
       }) {
    answer(request(method, target), 404, "path");
  }
}

TEST_CASE("webhook ingress takes only POST", "[routes]") {
  answer(anonymous("GET", "/v1/hooks/abc123"), 405, "method");
  answer(anonymous("PUT", "/v1/hooks/abc123"), 405, "method");
}

TEST_CASE("a list with a limit out of 1 to 1000, or a cursor the provider did not give, is refused naming the field",
          "[routes]") {
  for (const auto* target : {"/v1/triggers/guest?limit=0", "/v1/triggers/guest?limit=1001",
                             "/v1/triggers/guest?limit=-1", "/v1/triggers/guest?limit=ten", "/v1/triggers/guest?limit=",
                             "/v1/triggers/guest?limit=1.5", "/v1/triggers/guest?limit=99999999999999999999",
                             "/v1/triggers/guest?limit=%zz"}) {
    INFO(target);
    auto res = answer(request("GET", target), 400, "limit");
    CHECK((res.body.find("1 to 1000") != std::string::npos || res.body.find("percent") != std::string::npos));
  }
  for (const auto* target : {"/v1/triggers/guest?cursor=", "/v1/triggers/guest?cursor=garbage!",
                             "/v1/triggers/guest?cursor=Z3Vlc3Q"}) {
    INFO(target);
    answer(request("GET", target), 400, "cursor");
  }
}
