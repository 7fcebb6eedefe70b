#include "core/github_api.hpp"

#include <catch2/catch.hpp>

#include "core/json_pointer.hpp"
#include "tests/unit/core/params.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

github_spec spec_of(std::string_view json) {
  auto spec = parse_github_spec(params(json), egress_policy{});
  REQUIRE(spec);
  return *spec;
}

std::optional<std::string> at(std::string_view json, std::string_view pointer) {
  auto ptr = parse_json_pointer(pointer, "pointer");
  REQUIRE(ptr);
  return resolve(*ptr, json);
}

const github_hook_config hook{"https://feeds.example.com/v1/hooks/abc", "s3cret-s3cret-s3cret", {"issues", "push"}, true};

} // namespace

TEST_CASE("a hook is created as GitHub asks: name web, JSON deliveries, the secret, TLS verified", "[github_api]") {
  auto call = create_hook_call(spec_of(R"({"repository":"octocat/Hello.World","accessToken":"t"})"), hook);
  CHECK(call.method == "POST");
  CHECK(call.target == "/repos/octocat/Hello.World/hooks");
  CHECK(at(call.body, "/name") == R"("web")");
  CHECK(at(call.body, "/active") == "true");
  CHECK(at(call.body, "/events") == R"(["issues","push"])");
  CHECK(at(call.body, "/config/url") == R"("https://feeds.example.com/v1/hooks/abc")");
  CHECK(at(call.body, "/config/content_type") == R"("json")");
  CHECK(at(call.body, "/config/secret") == R"("s3cret-s3cret-s3cret")");
  CHECK(at(call.body, "/config/insecure_ssl") == R"("0")");
}

TEST_CASE("hook calls below a GitHub Enterprise base keep its path", "[github_api]") {
  auto spec = spec_of(R"({"repository":"o/r","accessToken":"t","apiUrl":"https://ghe.example.com/api/v3"})");
  CHECK(list_hooks_call(spec, 2).target == "/api/v3/repos/o/r/hooks?per_page=100&page=2");
  auto update = update_hook_call(spec, 17, {hook.hook_url, hook.secret, hook.events, false});
  CHECK(update.method == "PATCH");
  CHECK(update.target == "/api/v3/repos/o/r/hooks/17");
  CHECK(at(update.body, "/active") == "false");
  // A PATCH with config must carry the secret, or GitHub removes it.
  CHECK(at(update.body, "/config/secret") == R"("s3cret-s3cret-s3cret")");
  auto remove = delete_hook_call(spec, 17);
  CHECK(remove.method == "DELETE");
  CHECK(remove.target == "/api/v3/repos/o/r/hooks/17");
  CHECK(remove.body.empty());
}

TEST_CASE("a hook is found in GitHub's list by its URL", "[github_api]") {
  const std::string list = R"([{"id":1,"config":{"url":"https://other.example.com/x"}},)"
                           R"({"id":2,"config":{"content_type":"json"}},)"
                           R"({"id":12345678,"config":{"url":"https://feeds.example.com/v1/hooks/abc"}}])";
  CHECK(find_hook(list, hook.hook_url) == 12345678);
  CHECK_FALSE(find_hook(list, "https://feeds.example.com/v1/hooks/abd"));
  CHECK_FALSE(find_hook("{\"message\":\"Not Found\"}", hook.hook_url));
  CHECK_FALSE(find_hook("not json", hook.hook_url));
  CHECK_FALSE(is_full_page(list));
  CHECK(hook_id_of(R"({"type":"Repository","id":99,"name":"web"})") == 99);
  CHECK_FALSE(hook_id_of("[]"));
}

TEST_CASE("GitHub's refusals name the parameter to fix and its outages are worth another try", "[github_api]") {
  using kind = github_answer::kind;
  auto bad_token = judge_github_answer(github_operation::create, 401,
                                       R"({"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"})",
                                       {});
  CHECK(bad_token.what == kind::refused);
  CHECK(bad_token.field == "accessToken");
  CHECK(bad_token.message.find("Bad credentials") != std::string::npos);
  auto no_repo = judge_github_answer(github_operation::create, 404, R"({"message":"Not Found"})", {});
  CHECK(no_repo.what == kind::refused);
  CHECK(no_repo.field == "repository");
  auto forbidden = judge_github_answer(github_operation::create, 403, R"({"message":"Resource not accessible"})", {});
  CHECK(forbidden.field == "accessToken");
  auto invalid = judge_github_answer(
    github_operation::create, 422,
    R"({"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"bad event"}]})", {});
  CHECK(invalid.what == kind::refused);
  CHECK(invalid.field == "events");
  CHECK(invalid.message.find("Validation Failed: bad event") != std::string::npos);
  CHECK(judge_github_answer(github_operation::remove, 404, "{}", {}).what == kind::gone);
  CHECK(judge_github_answer(github_operation::update, 404, "{}", {}).what == kind::gone);
  CHECK(judge_github_answer(github_operation::remove, 204, "", {}).what == kind::done);
  CHECK(judge_github_answer(github_operation::remove, 502, "<html>", {}).what == kind::unavailable);
  auto down = judge_github_answer(github_operation::remove, 0, "", "no HTTP response");
  CHECK(down.what == kind::unavailable);
  CHECK(down.message.find("no HTTP response") != std::string::npos);
  // A hostile endpoint's long message is cut, not echoed whole.
  auto flood = judge_github_answer(github_operation::create, 500, R"({"message":")" + std::string(5000, 'x') + R"("})",
                                   {});
  CHECK(flood.message.size() < 300);
}
