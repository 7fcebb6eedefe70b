#include <algorithm>

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/github_hooks.hpp"
#include "metrics_sample.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref repo_trigger{"guest", "on-push"};
const std::string github_params = R"({"repository":"octocat/hello","accessToken":"ghp_token","events":"push",)"
                                  R"("apiUrl":"https://api.github.test"})";
const std::string hook_prefix = test_public_url + "/v1/hooks/";

bool to_github(const client_request& req) {
  return req.destination.host == "api.github.test";
}

/// A registry whose github hooks go through the fixture's fake client, as the fires do.
struct github_fixture : actor_fixture {
  registry_actor registry;

  github_fixture() {
    registry_config reg_cfg;
    reg_cfg.env = env;
    reg_cfg.github_hooks = spawn_github_hooks(sys, client, 4s);
    stop_at_teardown(caf::actor_cast<caf::actor>(*reg_cfg.github_hooks));
    registry = feedrouter::spawn_registry(sys, std::move(reg_cfg), {});
    stop_at_teardown(caf::actor_cast<caf::actor>(registry));
    run();
  }

  api_reply lifecycle(api_op op, std::string_view params_json = "{}") {
    return api(registry, command(op, repo_trigger, owner_key, params_json, op == api_op::create ? "github" : ""));
  }

  /// Returns the indexes of the requests to GitHub with method `method`.
  std::vector<std::size_t> github_calls(std::string_view method) const {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < client->calls().size(); ++i) {
      const auto& req = client->calls()[i].request;
      if (to_github(req) && req.message.method == method)
        found.push_back(i);
    }
    return found;
  }

  /// The hook id and secret the registration asked GitHub to deliver with, from its POST.
  std::pair<std::string, std::string> hook_of_post() const {
    auto posts = github_calls("POST");
    REQUIRE(posts.size() == 1);
    const auto& body = client->calls()[posts[0]].request.message.body;
    auto url = json_string_at(body, "config.url").value_or("");
    REQUIRE(url.rfind(hook_prefix, 0) == 0);
    return {url.substr(hook_prefix.size()), json_string_at(body, "config.secret").value_or("")};
  }
};

} // namespace

TEST_CASE_METHOD(github_fixture, "GitHub's ping during CREATE is answered, and CREATE answers once the hook id is kept",
                 "[registry][github]") {
  client->answer_none();
  auto created = ask_api(registry, command(api_op::create, repo_trigger, owner_key, github_params, "github"));
  run();
  REQUIRE_FALSE(created->arrived());
  auto [hook_id, secret] = hook_of_post();
  CHECK(secret.size() == 64);
  // GitHub pings the new hook before its 201 reaches the provider.
  auto ping = api(registry, hook_command(hook_id, R"({"zen":"Speak like a human."})", secret,
                                         {{"X-GitHub-Event", "ping"}, {"X-GitHub-Delivery", "d-ping"}}));
  CHECK(ping.status == 202);
  CHECK(ping.body == R"({"ignored":true,"reason":"ping"})");
  REQUIRE_FALSE(created->arrived());
  client->answer(github_calls("POST")[0], 201, R"({"id":55,"name":"web"})");
  run();
  REQUIRE(created->value);
  auto reply = reply_of(*created->value);
  INFO(reply.body);
  CHECK(reply.status == 201);
  CHECK(json_int_at(reply.body, "config.githubHookId") == 55);
  CHECK_FALSE(json_at(reply.body, "config.accessToken"));
  CHECK_FALSE(json_at(reply.body, "secret"));
  CHECK(json_string_at(reply.body, "status.hookUrl") == hook_prefix + hook_id);
  CHECK(json_int_at(lifecycle(api_op::read).body, "config.githubHookId") == 55);

  // One delivery, sent twice, fires once.
  client->answer_all(202, R"({"activationId":"a"})");
  http_fields push{{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "d-1"}};
  CHECK(api(registry, hook_command(hook_id, R"({"n":1})", secret, push)).status == 202);
  auto again = api(registry, hook_command(hook_id, R"({"n":1})", secret, push));
  CHECK(again.status == 202);
  CHECK(again.body == R"({"ignored":true,"reason":"duplicate"})");
  auto bodies = client->bodies();
  CHECK(bodies.back() == R"({"n":1,"event":"push"})");
  CHECK(std::count(bodies.begin(), bodies.end(), R"({"n":1,"event":"push"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_events_dropped_total{feed="github",reason="duplicate"})") == 1);
  // A delivery without its id is refused: the replay window could not judge it.
  auto anonymous = api(registry, hook_command(hook_id, R"({"n":2})", secret, {{"X-GitHub-Event", "push"}}));
  CHECK(anonymous.status == 400);
  CHECK(json_string_at(anonymous.body, "field") == "X-GitHub-Delivery");
}

TEST_CASE_METHOD(github_fixture, "a CREATE GitHub refuses names the field and leaves neither registration nor hook URL",
                 "[registry][github]") {
  client->answer_none();
  auto created = ask_api(registry, command(api_op::create, repo_trigger, owner_key, github_params, "github"));
  run();
  auto [hook_id, secret] = hook_of_post();
  client->answer(0, 401, R"({"message":"Bad credentials"})");
  run();
  REQUIRE(created->value);
  auto reply = reply_of(*created->value);
  CHECK(reply.status == 400);
  CHECK(json_string_at(reply.body, "field") == "accessToken");
  CHECK(lifecycle(api_op::read).status == 404);
  auto ping = api(registry, hook_command(hook_id, "{}", secret, {{"X-GitHub-Event", "ping"}}));
  CHECK(ping.status == 404);
  // The hook comes first: nothing was stored, so nothing had to be erased.
  CHECK(journal->count(store_op::kind::put_registration) == 0);
  CHECK(journal->count(store_op::kind::erase) == 0);
}

TEST_CASE_METHOD(github_fixture, "while GitHub creates the hook its URL answers only a signed ping, and a CREATE whose "
                 "store write fails removes the hook GitHub created and leaves nothing",
                 "[registry][github]") {
  client->answer_none();
  auto created = ask_api(registry, command(api_op::create, repo_trigger, owner_key, github_params, "github"));
  run();
  auto [hook_id, secret] = hook_of_post();
  CHECK(journal->count(store_op::kind::put_registration) == 0);
  auto unsigned_ping = api(registry, hook_command(hook_id, "{}", "not-the-secret", {{"X-GitHub-Event", "ping"}}));
  CHECK(unsigned_ping.status == 401);
  auto early_push = api(registry, hook_command(hook_id, R"({"n":1})", secret,
                                               {{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "d-1"}}));
  CHECK(early_push.status == 503);
  journal->failure = "disk full";
  client->answer(github_calls("POST")[0], 201, R"({"id":77,"name":"web"})");
  client->answer_all(204, "");
  run();
  REQUIRE(created->value);
  auto reply = reply_of(*created->value);
  INFO(reply.body);
  CHECK(reply.status == 503);
  auto deletes = github_calls("DELETE");
  REQUIRE(deletes.size() == 1);
  CHECK(client->calls()[deletes[0]].request.destination.target == "/repos/octocat/hello/hooks/77");
  journal->failure.reset();
  CHECK(journal->commits.empty());
  CHECK(lifecycle(api_op::read).status == 404);
  CHECK(api(registry, hook_command(hook_id, "{}", secret, {{"X-GitHub-Event", "ping"}})).status == 404);
}

TEST_CASE_METHOD(github_fixture, "a provider set githubHookId cannot be given", "[registry][github]") {
  auto reply = lifecycle(api_op::create, R"({"repository":"o/r","accessToken":"t","githubHookId":5})");
  CHECK(reply.status == 400);
  CHECK(json_string_at(reply.body, "field") == "githubHookId");
  CHECK(client->calls().empty());
}

TEST_CASE_METHOD(github_fixture, "PAUSE and UNPAUSE set the hook inactive and active, a refused PATCH changes nothing",
                 "[registry][github]") {
  client->answer_all(201, R"({"id":8})");
  REQUIRE(lifecycle(api_op::create, github_params).status == 201);
  client->answer_all(200, R"({"id":8})");
  auto paused = lifecycle(api_op::pause);
  CHECK(paused.status == 200);
  CHECK(json_string_at(paused.body, "status.state") == "paused");
  auto patches = github_calls("PATCH");
  REQUIRE(patches.size() == 1);
  const auto& patch = client->calls()[patches[0]].request;
  CHECK(patch.destination.target == "/repos/octocat/hello/hooks/8");
  CHECK(json_at(patch.message.body, "active") == "false");
  client->answer_all(401, R"({"message":"Bad credentials"})");
  auto refused = lifecycle(api_op::resume);
  CHECK(refused.status == 400);
  CHECK(json_string_at(refused.body, "field") == "accessToken");
  CHECK(json_string_at(lifecycle(api_op::read).body, "status.state") == "paused");
  client->answer_all(200, R"({"id":8})");
  CHECK(lifecycle(api_op::resume).status == 200);
  CHECK(json_at(client->calls()[github_calls("PATCH").back()].request.message.body, "active") == "true");
  auto updated = lifecycle(api_op::update, R"({"events":["issues","push"]})");
  CHECK(updated.status == 200);
  CHECK(json_at(client->calls()[github_calls("PATCH").back()].request.message.body, "events")
        == R"(["issues","push"])");
  CHECK(lifecycle(api_op::update, R"({"repository":"octocat/other"})").status == 400);
}

TEST_CASE_METHOD(github_fixture, "a DELETE GitHub does not take pauses the registration and retries with back-off",
                 "[registry][github]") {
  client->answer_all(201, R"({"id":8})");
  REQUIRE(lifecycle(api_op::create, github_params).status == 201);
  client->respond_with([this](const client_request&, std::size_t) {
    return github_calls("DELETE").size() <= 2 ? http_answer(503, R"({"message":"Service Unavailable"})")
                                              : http_answer(204);
  });
  auto start = now();
  auto removing = lifecycle(api_op::remove);
  INFO(removing.body);
  CHECK(removing.status == 202);
  CHECK(json_string_at(removing.body, "status.state") == "paused");
  CHECK(json_int_at(removing.body, "status.hookRemoval.attempts") == 1);
  CHECK(json_string_at(removing.body, "status.hookRemoval.lastError").value_or("").find("503") != std::string::npos);
  CHECK(lifecycle(api_op::resume).status == 409);
  advance(10s);
  auto deletes = github_calls("DELETE");
  REQUIRE(deletes.size() == 3);
  // Full jitter at half its ceiling: 500 ms after the first attempt, 1 s after the second.
  CHECK(client->calls()[deletes[1]].sent - start == 500ms);
  CHECK(client->calls()[deletes[2]].sent - start == 1500ms);
  CHECK(client->calls()[deletes[2]].request.destination.target == "/repos/octocat/hello/hooks/8");
  CHECK(lifecycle(api_op::read).status == 404);
}
