#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "net/io_runtime.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/support/fake_github.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for something that should happen at once; reached only when something is broken.
constexpr auto prompt = 5s;

/// How long a test waits for a retried hook removal: the back-off's first two delays are at most 1 s and 2 s.
constexpr auto retried = 15s;

constexpr char token[] = "ghp_alicesTokenForTheFakeGitHub0123456789";
constexpr char repository[] = "octocat/hello-world";

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The CREATE members of a github registration of `repository` at `github` with `access_token`.
std::string github_params(const fake_github& github, std::string_view access_token = token,
                          std::string_view repo = repository, std::string_view events = "push, issues") {
  return R"("feed":"github","repository":")" + std::string{repo} + R"(","accessToken":")" + std::string{access_token}
         + R"(","events":")" + std::string{events} + R"(","apiUrl":")" + github.url() + '"';
}

/// A fake GitHub that knows alice's token and her repository.
struct github_world {
  io_runtime io;
  fake_github github{io};

  github_world() {
    github.add_token(token);
    github.add_repository(repository);
  }
};

} // namespace

TEST_CASE("a github CREATE installs one hook, its ping is answered, a delivery fires once and a redelivery not again",
          "[e2e][github]") {
  e2e_fixture fx;
  github_world world;
  auto& github = world.github;
  const trigger_ref trigger{"alice", "on-push"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();

  auto created = fr->call(lifecycle_request("CREATE", trigger, alice_key, github_params(github)));
  INFO("CREATE: " << created.body);
  REQUIRE(created.status == 201);
  auto hooks = github.hooks(repository);
  REQUIRE(hooks.size() == 1);
  const auto& hook = hooks.front();
  CHECK(json_string_at(created.body, "/status/hookUrl") == hook.url);
  CHECK(hook.url.find("/v1/hooks/") != std::string::npos);
  CHECK(hook.events == std::vector<std::string>{"issues", "push"});
  CHECK(hook.content_type == "json");
  CHECK(hook.insecure_ssl == "0");
  CHECK(hook.active);
  CHECK(hook.secret.size() == 64);
  CHECK(json_int_at(created.body, "/config/githubHookId") == hook.id);
  // Neither the token nor the secret is ever shown; the hook URL carries no authKey.
  CHECK(created.body.find(token) == std::string::npos);
  CHECK(created.body.find(hook.secret) == std::string::npos);
  CHECK(hook.url.find("alice-secret") == std::string::npos);

  // GitHub pinged the hook before it answered the CREATE: answered 2xx, not fired.
  auto sent = github.deliveries();
  REQUIRE(sent.size() == 1);
  CHECK(sent.front().event == "ping");
  CHECK(sent.front().status == 202);
  CHECK(sent.front().answer.find("ping") != std::string::npos);

  auto push = github.deliver(repository, "push", R"({"ref":"refs/heads/main","after":"c0ffee"})");
  REQUIRE(push.size() == 1);
  CHECK(push.front().status == 202);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, prompt));
  auto again = github.redeliver(push.front().id);
  CHECK(again.status == 202);
  CHECK(again.answer.find("duplicate") != std::string::npos);
  auto issue = github.deliver(repository, "issues", R"({"action":"opened"})");
  REQUIRE(issue.size() == 1);
  REQUIRE(fx.wait_for_fires_of(trigger, 2, prompt));
  // Fires keep their events' order: with the issue fired, the redelivery would have fired before it.
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 2);
  CHECK(json_string_at(fires[0].body, "/after") == "c0ffee");
  CHECK(json_string_at(fires[0].body, "/event") == "push");
  CHECK(json_string_at(fires[1].body, "/event") == "issues");

  auto read = fr->call(lifecycle_request("READ", trigger, alice_key));
  INFO("READ: " << read.body);
  CHECK(read.status == 200);
  CHECK_FALSE(json_at(read.body, "/config/accessToken"));
  CHECK_FALSE(json_at(read.body, "/config/secret"));
  CHECK(json_string_at(read.body, "/config/repository") == repository);
  // Sealed at rest: neither the token nor the secret is readable in the store.
  auto stored = read_file(fx.store_path()) + read_file(fx.store_path() + "-wal");
  CHECK(stored.find(token) == std::string::npos);
  CHECK(stored.find(hook.secret) == std::string::npos);

  auto paused = fr->call(lifecycle_request("PAUSE", trigger, alice_key));
  INFO("PAUSE: " << paused.body);
  CHECK(paused.status == 200);
  CHECK_FALSE(github.hooks(repository).front().active);
  auto resumed = fr->call(lifecycle_request("UNPAUSE", trigger, alice_key));
  INFO("UNPAUSE: " << resumed.body);
  CHECK(resumed.status == 200);
  CHECK(github.hooks(repository).front().active);
  auto updated = fr->call(lifecycle_request("UPDATE", trigger, alice_key, R"("events":["push"])"));
  INFO("UPDATE: " << updated.body);
  CHECK(updated.status == 200);
  REQUIRE(github.hooks(repository).size() == 1);
  CHECK(github.hooks(repository).front().events == std::vector<std::string>{"push"});
  // A PATCH that left the secret out would have removed it at GitHub.
  CHECK(github.hooks(repository).front().secret == hook.secret);

  auto removed = fr->call(lifecycle_request("DELETE", trigger, alice_key));
  INFO("DELETE: " << removed.body);
  CHECK(removed.status == 204);
  CHECK(github.hooks(repository).empty());
  CHECK(fr->call(lifecycle_request("READ", trigger, alice_key)).status == 404);
  CHECK(fr->process().stderr_text().find(token) == std::string::npos);
  CHECK(fr->process().stderr_text().find(hook.secret) == std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("a github CREATE with a refused token or an unknown repository fails naming the field and leaves nothing",
          "[e2e][github]") {
  e2e_fixture fx;
  github_world world;
  auto& github = world.github;
  const trigger_ref trigger{"alice", "on-push"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();

  auto bad_token = fr->call(lifecycle_request("CREATE", trigger, alice_key, github_params(github, "ghp_revoked")));
  INFO("bad token: " << bad_token.body);
  CHECK(bad_token.status == 400);
  CHECK(json_string_at(bad_token.body, "/field") == "accessToken");
  CHECK(fr->call(lifecycle_request("READ", trigger, alice_key)).status == 404);

  auto no_repo =
    fr->call(lifecycle_request("CREATE", trigger, alice_key, github_params(github, token, "octocat/nothing")));
  INFO("unknown repository: " << no_repo.body);
  CHECK(no_repo.status == 400);
  CHECK(json_string_at(no_repo.body, "/field") == "repository");
  CHECK(fr->call(lifecycle_request("READ", trigger, alice_key)).status == 404);

  github.set_down(true);
  auto down = fr->call(lifecycle_request("CREATE", trigger, alice_key, github_params(github)));
  INFO("GitHub down: " << down.body);
  CHECK(down.status == 503);
  CHECK(fr->call(lifecycle_request("READ", trigger, alice_key)).status == 404);
  github.set_down(false);

  CHECK(github.hooks(repository).empty());
  CHECK(fr->call(api_request("GET", "/v1/triggers/alice", alice_key)).body == R"({"triggers":[]})");
  fr->stop_cleanly();
}

TEST_CASE("a github DELETE while GitHub is down leaves the registration paused, showing the removal, and retries it",
          "[e2e][github]") {
  e2e_fixture fx;
  github_world world;
  auto& github = world.github;
  const trigger_ref trigger{"alice", "on-push"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(lifecycle_request("CREATE", trigger, alice_key, github_params(github))).status == 201);
  REQUIRE(github.hooks(repository).size() == 1);

  github.set_down(true);
  auto removing = fr->call(lifecycle_request("DELETE", trigger, alice_key));
  INFO("DELETE: " << removing.body);
  CHECK(removing.status == 202);
  CHECK(json_string_at(removing.body, "/status/state") == "paused");
  CHECK(json_int_at(removing.body, "/status/hookRemoval/attempts") == 1);
  CHECK(json_string_at(removing.body, "/status/hookRemoval/lastError").value_or("").find("503") != std::string::npos);
  CHECK(json_at(removing.body, "/status/hookRemoval/nextAttempt"));
  // Paused: a delivery GitHub still makes is refused for GitHub to show, not fired.
  auto late = github.deliver(repository, "push", R"({"after":"late"})");
  REQUIRE(late.size() == 1);
  CHECK(late.front().status == 503);
  auto deletes_while_down = github.requests("DELETE");
  CHECK(deletes_while_down == 1);
  // Changes other than DELETE wait for the removal.
  CHECK(fr->call(lifecycle_request("UNPAUSE", trigger, alice_key)).status == 409);

  github.set_down(false);
  REQUIRE(github.wait_for_requests("DELETE", deletes_while_down + 1, retried));
  CHECK(github.hooks(repository).empty());
  auto deadline = std::chrono::steady_clock::now() + prompt;
  int status = 0;
  while ((status = fr->call(lifecycle_request("READ", trigger, alice_key)).status) != 404
         && std::chrono::steady_clock::now() < deadline)
    continue;
  CHECK(status == 404);
  CHECK(fx.fires_of(trigger).empty());
  fr->stop_cleanly();
}
