#include "core/github_spec.hpp"

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "tests/unit/core/params.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

outcome<github_spec> parse(std::string_view json, const egress_policy& egress = egress_policy{}) {
  return parse_github_spec(params(json), egress);
}

} // namespace

TEST_CASE("a github registration names its repository as owner/repo or as repo of username", "[github_spec]") {
  auto full = parse(R"({"repository":"octocat/Hello-World","accessToken":"ghp_abc"})");
  REQUIRE(full);
  CHECK(full->owner == "octocat");
  CHECK(full->repository == "Hello-World");
  CHECK(full->full_name() == "octocat/Hello-World");
  auto short_form = parse(R"({"username":"octocat","repository":"Hello-World","accessToken":"ghp_abc"})");
  REQUIRE(short_form);
  CHECK(short_form->owner == "octocat");
  // owner/repo wins over username, as in OpenWhisk's catalog feed.
  auto both = parse(R"({"username":"someone","repository":"octocat/x.y_z-1","accessToken":"ghp_abc"})");
  REQUIRE(both);
  CHECK(both->owner == "octocat");
  CHECK(both->repository == "x.y_z-1");
}

TEST_CASE("github events default to push and are read from a list or a comma-separated string", "[github_spec]") {
  auto plain = parse(R"({"repository":"o/r","accessToken":"t"})");
  REQUIRE(plain);
  CHECK(plain->events == std::vector<std::string>{"push"});
  // OpenWhisk's sample "push, delete, pull_request": blanks around names are dropped, not sent to GitHub.
  auto text = parse(R"({"repository":"o/r","accessToken":"t","events":"push, delete,pull_request ,push"})");
  REQUIRE(text);
  CHECK(text->events == std::vector<std::string>{"delete", "pull_request", "push"});
  auto list = parse(R"({"repository":"o/r","accessToken":"t","events":["issues","*"]})");
  REQUIRE(list);
  CHECK(list->events == std::vector<std::string>{"*", "issues"});
}

TEST_CASE("the GitHub API is api.github.com unless apiUrl or OpenWhisk's baseUrl names another", "[github_spec]") {
  auto plain = parse(R"({"repository":"o/r","accessToken":"t"})");
  REQUIRE(plain);
  CHECK(plain->api.origin() == "https://api.github.com:443");
  CHECK(plain->api.target.empty());
  auto enterprise = parse(R"({"repository":"o/r","accessToken":"t","apiUrl":"https://github.example.com/api/v3/"})");
  REQUIRE(enterprise);
  CHECK(enterprise->api.host == "github.example.com");
  CHECK(enterprise->api.target == "/api/v3");
  auto alias = parse(R"({"repository":"o/r","accessToken":"t","baseUrl":"https://github.example.com/api/v3"})");
  REQUIRE(alias);
  CHECK(alias->api.target == "/api/v3");
  auto local = parse(R"({"repository":"o/r","accessToken":"t","apiUrl":"http://127.0.0.1:9000"})", loopback_allowed());
  REQUIRE(local);
  CHECK(local->api.port == 9000);
}

TEST_CASE("a github config receives events as a webhook signed by GitHub, taking each delivery once", "[github_spec]") {
  auto config = make_feed_config("github",
                                 params(R"({"repository":"o/r","accessToken":"ghp_t","events":"push,issues",)"
                                        R"("hookId":"abc","secret":"0123456789abcdef0123","githubHookId":"42"})"),
                                 sys_ms{}, validation_time::request, "ns/t", egress_policy{});
  REQUIRE(config);
  REQUIRE(config->github);
  REQUIRE(config->webhook);
  CHECK(config->github->hook_id == 42);
  CHECK(config->webhook->hook_id == "abc");
  CHECK(config->webhook->signature == webhook_spec::signature_kind::hmac_sha256);
  CHECK(config->webhook->event_header == github_event_header);
  CHECK(config->webhook->delivery_header == github_delivery_header);
  CHECK(config->webhook->answers_ping);
  CHECK(config->webhook->events == std::vector<std::string>{"issues", "push"});
  // Stored normalized, like every integer parameter.
  CHECK(*find_member(config->params, github_hook_id_param) == "42");
  CHECK(is_hook_feed("github"));
  CHECK(is_hook_feed("webhook"));
  CHECK_FALSE(is_hook_feed("poll"));
}

TEST_CASE("a github registration with every event filters none", "[github_spec]") {
  auto config = make_feed_config(
    "github", params(R"({"repository":"o/r","accessToken":"t","events":"*","hookId":"a","secret":"0123456789abcdef"})"),
    sys_ms{}, validation_time::request, "ns/t", egress_policy{});
  REQUIRE(config);
  CHECK(config->webhook->events.empty());
}
