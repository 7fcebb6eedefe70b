#include "core/github_spec.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/core/params.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Returns the field the github parameters `json` are refused for; fails the test when they are accepted.
std::string refused_field(std::string_view json) {
  auto spec = parse_github_spec(params(json), egress_policy{});
  INFO(json);
  REQUIRE_FALSE(spec);
  INFO(spec.error().message);
  CHECK_FALSE(spec.error().message.empty());
  return spec.error().field;
}

} // namespace

TEST_CASE("github parameters that cannot name a repository are refused naming the field", "[github_spec]") {
  CHECK(refused_field(R"({"accessToken":"t"})") == "repository");
  CHECK(refused_field(R"({"repository":"","accessToken":"t"})") == "repository");
  CHECK(refused_field(R"({"repository":"Hello-World","accessToken":"t"})") == "username");
  CHECK(refused_field(R"({"repository":"o/r/x","accessToken":"t"})") == "repository");
  CHECK(refused_field(R"({"repository":"o/../r","accessToken":"t"})") == "repository");
  CHECK(refused_field(R"({"repository":"o/..","accessToken":"t"})") == "repository");
  CHECK(refused_field(R"({"repository":"o%2f/r","accessToken":"t"})") == "repository");
  CHECK(refused_field(R"({"repository":"/r","accessToken":"t"})") == "repository");
  CHECK(refused_field(R"({"username":"a b","repository":"r","accessToken":"t"})") == "username");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","username":5})") == "username");
  CHECK(refused_field(R"({"repository":["o/r"],"accessToken":"t"})") == "repository");
  std::string long_owner(40, 'a');
  CHECK(refused_field(R"({"repository":")" + long_owner + R"(/r","accessToken":"t"})") == "repository");
}

TEST_CASE("a github token that is missing or could not be a header value is refused", "[github_spec]") {
  CHECK(refused_field(R"({"repository":"o/r"})") == "accessToken");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":""})") == "accessToken");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"a b"})") == "accessToken");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"abc\r\nX-Evil: 1"})") == "accessToken");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":")" + std::string(256, 't') + R"("})") == "accessToken");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":42})") == "accessToken");
}

TEST_CASE("github events that are not event names are refused", "[github_spec]") {
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","events":""})") == "events");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","events":[]})") == "events");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","events":"Push"})") == "events");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","events":"pull-request"})") == "events");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","events":{"a":1}})") == "events");
  std::string many = R"({"repository":"o/r","accessToken":"t","events":[)";
  for (int i = 0; i < 101; ++i)
    many += (i ? ",\"e" : "\"e") + std::to_string(i) + "\"";
  CHECK(refused_field(many + "]}") == "events");
}

TEST_CASE("a github API endpoint must be an http(s) URL the egress policy allows", "[github_spec]") {
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","apiUrl":"ftp://x"})") == "apiUrl");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","apiUrl":"https://a/b?c=d"})") == "apiUrl");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","apiUrl":"http://127.0.0.1:8080"})") == "apiUrl");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","apiUrl":"http://169.254.169.254"})") == "apiUrl");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","baseUrl":"http://localhost"})") == "baseUrl");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","apiUrl":"https://a","baseUrl":"https://b"})")
        == "apiUrl");
  auto refused = parse_github_spec(params(R"({"repository":"o/r","accessToken":"t","apiUrl":"http://10.0.0.1"})"),
                                   egress_policy{});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("not allowed by the egress policy") != std::string::npos);
}

TEST_CASE("a stored github hook id must be a positive integer", "[github_spec]") {
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","githubHookId":0})") == "githubHookId");
  CHECK(refused_field(R"({"repository":"o/r","accessToken":"t","githubHookId":"x"})") == "githubHookId");
}
