#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/github_hooks.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

constexpr auto request_timeout = 4s;
const std::string hook_url = test_public_url + "/v1/hooks/0123456789abcdef0123456789abcdef";

github_spec spec(std::int64_t hook_id = 0) {
  auto parsed = parse_github_spec(params(R"({"repository":"octocat/hello","accessToken":"ghp_token",)"
                                         R"("events":"push,issues","apiUrl":"https://api.github.test/api/v3"})"),
                                  egress_policy{});
  REQUIRE(parsed);
  parsed->hook_id = hook_id;
  return *parsed;
}

github_hook_task task(github_hook_task::kind what, std::int64_t hook_id = 0, bool active = true) {
  return {what, spec(hook_id), {hook_url, test_secret, {"issues", "push"}, active}};
}

std::string hook_list(std::int64_t id, const std::string& url) {
  return R"([{"id":1,"config":{"url":"https://elsewhere.test/x"}},{"id":)" + std::to_string(id)
         + R"(,"config":{"url":")" + url + R"("}}])";
}

struct keeper_fixture : actor_fixture {
  github_hooks_actor keeper = spawn_github_hooks(sys, client, request_timeout);

  keeper_fixture() {
    stop_at_teardown(caf::actor_cast<caf::actor>(keeper));
    client->answer_none();
  }

  reply_slot_ptr<github_hook_result> start(github_hook_task t) {
    auto slot = ask<github_hook_result>(keeper, github_atom::value, std::move(t));
    run();
    return slot;
  }

  /// Returns "METHOD target" of request `index`.
  std::string request_line(std::size_t index) const {
    const auto& req = client->calls().at(index).request;
    return req.message.method + " " + req.destination.target;
  }
};

} // namespace

TEST_CASE_METHOD(keeper_fixture, "installing a hook POSTs it with the token, GitHub's headers, within the timeout",
                 "[github]") {
  auto result = start(task(github_hook_task::kind::install));
  REQUIRE(client->calls().size() == 1);
  const auto& req = client->calls()[0].request;
  CHECK(request_line(0) == "POST /api/v3/repos/octocat/hello/hooks");
  CHECK(req.destination.host == "api.github.test");
  CHECK(req.owner == destination_owner::tenant);
  CHECK(req.timeout == request_timeout);
  CHECK(req.message.field("Authorization") == "Bearer ghp_token");
  CHECK(req.message.field("Accept") == "application/vnd.github+json");
  CHECK(req.message.field("X-GitHub-Api-Version") == "2022-11-28");
  CHECK_FALSE(req.message.field("User-Agent").empty());
  CHECK(req.message.field("Content-Type") == "application/json");
  CHECK(json_string_at(req.message.body, "config.url") == hook_url);
  CHECK(json_string_at(req.message.body, "config.secret") == test_secret);
  client->answer(0, 201, R"({"id":4242,"name":"web","active":true})");
  run();
  REQUIRE(result->value);
  CHECK(result->value->answer.what == github_answer::kind::done);
  CHECK(result->value->hook_id == 4242);
}

TEST_CASE_METHOD(keeper_fixture, "a hook GitHub has already for the URL is adopted, with our secret and events",
                 "[github]") {
  auto result = start(task(github_hook_task::kind::install));
  client->answer(0, 422, R"({"message":"Validation Failed","errors":[{"message":"Hook already exists"}]})");
  run();
  REQUIRE(client->calls().size() == 2);
  CHECK(request_line(1) == "GET /api/v3/repos/octocat/hello/hooks?per_page=100&page=1");
  client->answer(1, 200, hook_list(77, hook_url));
  run();
  REQUIRE(client->calls().size() == 3);
  CHECK(request_line(2) == "PATCH /api/v3/repos/octocat/hello/hooks/77");
  const auto& patch = client->calls()[2].request.message.body;
  CHECK(json_string_at(patch, "config.secret") == test_secret);
  CHECK(json_at(patch, "events") == R"(["issues","push"])");
  client->answer(2, 200, R"({"id":77})");
  run();
  REQUIRE(result->value);
  CHECK(result->value->answer.what == github_answer::kind::done);
  CHECK(result->value->hook_id == 77);
}

TEST_CASE_METHOD(keeper_fixture, "a 422 without a hook for the URL is a refusal naming events", "[github]") {
  auto result = start(task(github_hook_task::kind::install));
  client->answer(0, 422, R"({"message":"Validation Failed"})");
  run();
  client->answer(1, 200, "[]");
  run();
  REQUIRE(result->value);
  CHECK(result->value->answer.what == github_answer::kind::refused);
  CHECK(result->value->answer.field == "events");
  CHECK(client->calls().size() == 2);
}

TEST_CASE_METHOD(keeper_fixture, "an update of a hook GitHub lost installs it anew", "[github]") {
  auto result = start(task(github_hook_task::kind::update, 5, false));
  CHECK(request_line(0) == "PATCH /api/v3/repos/octocat/hello/hooks/5");
  CHECK(json_at(client->calls()[0].request.message.body, "active") == "false");
  client->answer(0, 404, R"({"message":"Not Found"})");
  run();
  REQUIRE(client->calls().size() == 2);
  CHECK(request_line(1) == "POST /api/v3/repos/octocat/hello/hooks");
  CHECK(json_at(client->calls()[1].request.message.body, "active") == "false");
  client->answer(1, 201, R"({"id":6})");
  run();
  REQUIRE(result->value);
  CHECK(result->value->answer.what == github_answer::kind::done);
  CHECK(result->value->hook_id == 6);
}

TEST_CASE_METHOD(keeper_fixture, "removing a hook deletes it by id, or by its URL, and a hook already gone is done",
                 "[github]") {
  auto by_id = start(task(github_hook_task::kind::remove, 9));
  CHECK(request_line(0) == "DELETE /api/v3/repos/octocat/hello/hooks/9");
  client->answer(0, 404, R"({"message":"Not Found"})");
  run();
  REQUIRE(by_id->value);
  CHECK(by_id->value->answer.what == github_answer::kind::done);

  auto by_url = start(task(github_hook_task::kind::remove));
  CHECK(request_line(1) == "GET /api/v3/repos/octocat/hello/hooks?per_page=100&page=1");
  client->answer(1, 200, hook_list(31, hook_url));
  run();
  CHECK(request_line(2) == "DELETE /api/v3/repos/octocat/hello/hooks/31");
  client->answer(2, 204);
  run();
  REQUIRE(by_url->value);
  CHECK(by_url->value->answer.what == github_answer::kind::done);

  auto none = start(task(github_hook_task::kind::remove));
  client->answer(3, 200, hook_list(32, "https://elsewhere.test/y"));
  run();
  REQUIRE(none->value);
  CHECK(none->value->answer.what == github_answer::kind::done);
  CHECK(client->calls().size() == 4);
}

TEST_CASE_METHOD(keeper_fixture, "GitHub unreachable or failing is unavailable, told without the connection's detail",
                 "[github]") {
  auto down = start(task(github_hook_task::kind::remove, 9));
  client->fail(0, "connect: Connection refused");
  run();
  REQUIRE(down->value);
  CHECK(down->value->answer.what == github_answer::kind::unavailable);
  CHECK(down->value->answer.message.find("Connection refused") == std::string::npos);
  auto failing = start(task(github_hook_task::kind::remove, 9));
  client->answer(1, 502, "<html>bad gateway</html>");
  run();
  REQUIRE(failing->value);
  CHECK(failing->value->answer.what == github_answer::kind::unavailable);
  CHECK(failing->value->answer.message.find("502") != std::string::npos);
  CHECK(failing->value->answer.message.find("html") == std::string::npos);
}
