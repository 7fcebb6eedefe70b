#include "app/admin_routes.hpp"

#include <string>
#include <variant>

#include <catch2/catch.hpp>

#include "app/list_cursor.hpp"
#include "tests/unit/app/route_requests.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

constexpr std::string_view admin_key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A request carrying `authorization` (none when empty); a body is declared as JSON.
http_request admin_request(std::string method, std::string target, std::string body = {},
                           std::string authorization = "Bearer " + std::string{admin_key}) {
  auto req = anonymous(std::move(method), std::move(target));
  if (!authorization.empty())
    req.fields.emplace_back("Authorization", std::move(authorization));
  if (!body.empty())
    req.fields.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  return req;
}

admin_command admin(const http_request& req) {
  auto routed = route_admin_request(req, admin_key);
  INFO(req.method << " " << req.target << " " << req.body);
  if (const auto* res = std::get_if<http_response>(&routed))
    INFO("answered: " << res->status << " " << res->body);
  REQUIRE(std::holds_alternative<admin_command>(routed));
  return std::get<admin_command>(routed);
}

http_response answer(const http_request& req) {
  auto routed = route_admin_request(req, admin_key);
  INFO(req.method << " " << req.target << " " << req.body);
  REQUIRE(std::holds_alternative<http_response>(routed));
  return std::get<http_response>(routed);
}

} // namespace

TEST_CASE("admin targets are those under /v1/admin", "[admin_routes]") {
  CHECK(is_admin_target("/v1/admin/triggers"));
  CHECK(is_admin_target("/v1/admin"));
  CHECK(is_admin_target("/v1/adm%69n/namespaces?limit=1"));
  CHECK_FALSE(is_admin_target("/v1/triggers/admin"));
  CHECK_FALSE(is_admin_target("/v1/administrator"));
  CHECK_FALSE(is_admin_target("/v1/%zz"));
}

TEST_CASE("every admin route answers 401 before anything else without the admin key", "[admin_routes]") {
  auto wrong_key = std::string{admin_key};
  wrong_key.back() = '1';
  for (const auto& authorization :
       {std::string{}, "Bearer " + wrong_key, "Bearer " + std::string{admin_key} + "x", std::string{admin_key},
        "Basic " + std::string{admin_key}, std::string{"Bearer"}, "Bearer" + std::string{admin_key}}) {
    for (const auto& target : {"/v1/admin/triggers", "/v1/admin/nothing/here", "/v1/admin/%zz"}) {
      auto res = answer(admin_request("GET", target, {}, authorization));
      CHECK(res.status == 401);
      CHECK(res.field("WWW-Authenticate") == R"(Bearer realm="feedrouter-admin")");
      CHECK(res.body.find(admin_key) == std::string::npos);
    }
  }
}

TEST_CASE("the scheme of the admin key is matched case-insensitively, with any white space before the key",
          "[admin_routes]") {
  CHECK(admin(admin_request("GET", "/v1/admin/triggers", {}, "bearer \t" + std::string{admin_key})).op
        == admin_op::list);
}

TEST_CASE("the admin lists take namespace, limit and cursor", "[admin_routes]") {
  auto all = admin(admin_request("GET", "/v1/admin/triggers"));
  CHECK(all.op == admin_op::list);
  CHECK(all.ns.empty());
  CHECK(all.limit == default_list_limit);
  CHECK_FALSE(all.after);
  auto cursor = encode_list_cursor({"guest", "t9"});
  auto page = admin(admin_request("GET", "/v1/admin/triggers?namespace=guest&limit=5&cursor=" + cursor));
  CHECK(page.ns == "guest");
  CHECK(page.limit == 5);
  REQUIRE(page.after);
  CHECK(page.after->key() == "guest/t9");
  auto counts = admin(admin_request("GET", "/v1/admin/namespaces?limit=2&cursor=" + encode_namespace_cursor("g")));
  CHECK(counts.op == admin_op::namespaces);
  CHECK(counts.limit == 2);
  CHECK(counts.after_ns == "g");
}

TEST_CASE("bad admin list parameters get 400 naming them", "[admin_routes]") {
  auto field_of = [](const std::string& target) {
    auto res = answer(admin_request("GET", target));
    CHECK(res.status == 400);
    return res.body;
  };
  CHECK_THAT(field_of("/v1/admin/triggers?limit=0"), Catch::Contains(R"("field":"limit")"));
  CHECK_THAT(field_of("/v1/admin/namespaces?limit=1001"), Catch::Contains(R"("field":"limit")"));
  CHECK_THAT(field_of("/v1/admin/triggers?cursor=nope!"), Catch::Contains(R"("field":"cursor")"));
  // A registration's cursor is no namespace's, and the other way round.
  CHECK_THAT(field_of("/v1/admin/namespaces?cursor=" + encode_list_cursor({"a", "b"})),
             Catch::Contains(R"("field":"cursor")"));
  CHECK_THAT(field_of("/v1/admin/triggers?cursor=" + encode_namespace_cursor("guest")),
             Catch::Contains(R"("field":"cursor")"));
  CHECK_THAT(field_of("/v1/admin/triggers?namespace=a%2Fb"), Catch::Contains(R"("field":"namespace")"));
  CHECK(answer(admin_request("POST", "/v1/admin/triggers")).status == 405);
}

TEST_CASE("an operator reads, disables and enables one registration", "[admin_routes]") {
  auto read = admin(admin_request("GET", "/v1/admin/triggers/guest/t1"));
  CHECK(read.op == admin_op::read);
  CHECK(read.trigger.key() == "guest/t1");
  auto disable = admin(admin_request("POST", "/v1/admin/triggers/guest/t1/disable"));
  CHECK(disable.op == admin_op::disable);
  CHECK(disable.message.empty());
  auto explained = admin(admin_request("POST", "/v1/admin/triggers/guest/t1/disable", R"({"message":"abuse"})"));
  CHECK(explained.message == "abuse");
  CHECK(admin(admin_request("POST", "/v1/admin/triggers/guest/t1/enable")).op == admin_op::enable);
}

TEST_CASE("a bad disable gets 400 naming the field, a wrong method 405, an unknown route 404", "[admin_routes]") {
  auto disable = [](std::string body) {
    return answer(admin_request("POST", "/v1/admin/triggers/guest/t1/disable", std::move(body)));
  };
  CHECK_THAT(disable(R"({"message":5})").body, Catch::Contains(R"("field":"message")"));
  CHECK_THAT(disable(R"({"reason":"x"})").body, Catch::Contains(R"("field":"reason")"));
  CHECK_THAT(disable("[1]").body, Catch::Contains(R"("field":"body")"));
  auto long_message = R"({"message":")" + std::string(max_admin_message + 1, 'm') + R"("})";
  CHECK(disable(long_message).status == 400);
  CHECK(answer(admin_request("GET", "/v1/admin/triggers/guest/a%2Fb")).status == 400);
  CHECK(answer(admin_request("GET", "/v1/admin/triggers/guest/t1/disable")).status == 405);
  CHECK(answer(admin_request("DELETE", "/v1/admin/triggers/guest/t1")).status == 405);
  CHECK(answer(admin_request("POST", "/v1/admin/triggers/guest/t1/pause")).status == 404);
  CHECK(answer(admin_request("GET", "/v1/admin/other")).status == 404);
  CHECK(answer(admin_request("GET", "/v1/admin")).status == 404);
}
