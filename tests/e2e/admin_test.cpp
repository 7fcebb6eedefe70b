// Issue 11, the admin key: operators are trusted (docs/architecture.md section 9). With --admin-key-file they list
// and count every namespace's registrations, and disable (ADMIN) and enable any of them; only they lift an ADMIN
// disable, and it survives a restart. Start-up refusals of a bad key file are in startup_error_test.cpp.

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view admin_key = "6d1f0c3b9a8e7d6c5b4a39281706f5e4d3c2b1a0";

/// How long a test waits for fires that an every-second alarm makes.
constexpr auto fire_timeout = 10s;

/// Writes the admin key into a file of the fixture's directory with mode 0600 and returns its path.
std::string write_admin_key(e2e_fixture& fx) {
  auto path = fx.file("admin.key");
  std::ofstream{path} << admin_key << '\n';
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  return path;
}

http_request admin_request(std::string method, std::string target, std::string body = {},
                           std::string_view key = admin_key) {
  auto req = api_request(std::move(method), std::move(target), {}, std::move(body));
  req.fields.emplace_back("Authorization", "Bearer " + std::string{key});
  return req;
}

std::string admin_path(const trigger_ref& trigger, std::string_view action = {}) {
  auto path = "/v1/admin/triggers/" + trigger.ns + '/' + trigger.name;
  return action.empty() ? path : path + '/' + std::string{action};
}

/// Returns the trigger names a list answer shows, in order.
std::vector<std::string> listed_names(const std::string& body) {
  std::vector<std::string> names;
  for (int i = 0;; ++i) {
    auto name = json_string_at(body, "/triggers/" + std::to_string(i) + "/config/triggerName");
    if (!name)
      return names;
    names.push_back(*name);
  }
}

/// Waits until `clock` fired `more` times beyond what it has now: the other registration's fires are the test's
/// clock, so that "no fire of this one meanwhile" is seen without sleeping a guessed time.
void wait_for_more_fires(e2e_fixture& fx, const trigger_ref& clock, std::size_t more) {
  auto target = fx.fires_of(clock).size() + more;
  REQUIRE(fx.wait_for_fires_of(clock, target, fire_timeout));
}

/// Checks that the owner's requests that would lift an ADMIN disable are refused with 409 naming the reason.
void check_owner_cannot_lift(feedrouter_process& fr, const trigger_ref& trigger, std::string_view key) {
  auto path = trigger_path(trigger);
  for (auto req : {api_request("POST", path + "/resume", key), api_request("POST", path + "/pause", key),
                   api_request("PATCH", path, key, R"({"cron":"0 0 2 1 *"})"),
                   api_request("PUT", path, key, alarm_body(every_second, "{}")),
                   lifecycle_request("UNPAUSE", trigger, key)}) {
    INFO(req.method << " " << req.target << " " << req.body);
    auto res = fr.call(req);
    CHECK(res.status == 409);
    CHECK_THAT(json_string_at(res.body, "/error").value_or(""),
               Catch::Contains("ADMIN") && Catch::Contains("spam reported") && Catch::Contains("administrator"));
  }
  auto read = fr.call(api_request("GET", path, key));
  CHECK(json_string_at(read.body, "/status/state") == "disabled");
  CHECK(json_string_at(read.body, "/status/reason/kind") == "ADMIN");
  CHECK(json_string_at(read.body, "/status/reason/message") == "spam reported");
}

} // namespace

TEST_CASE("an operator with the admin key lists, counts, disables and enables any registration, only an operator "
          "lifts an ADMIN disable, also after a restart", "[e2e][admin]") {
  e2e_fixture fx;
  trigger_ref spam{"alice", "spam"};
  trigger_ref clock{"bob", "clock"};
  trigger_ref hook{"bob", "hook"};
  for (const auto& [trigger, key] : {std::pair{spam, alice_key}, std::pair{clock, bob_key}, std::pair{hook, bob_key}})
    fx.controller().add_trigger(trigger, std::string{key});
  auto key_file = write_admin_key(fx);
  auto fr = fx.start_feedrouter({"--admin-key-file", key_file});
  REQUIRE(fr->call(api_request("PUT", trigger_path(spam), alice_key, alarm_body(every_second, "{}"))).status == 201);
  REQUIRE(fr->call(api_request("PUT", trigger_path(clock), bob_key, alarm_body(every_second, "{}"))).status == 201);
  auto created_hook = fr->call(api_request("PUT", trigger_path(hook), bob_key, R"({"feed":"webhook"})"));
  REQUIRE(created_hook.status == 201);
  auto hook_secret = json_string_at(created_hook.body, "/secret");
  REQUIRE(hook_secret);

  // A wrong or missing key is 401; the tenants' keys are no admin keys.
  for (auto key : {std::string_view{"wrong"}, alice_key})
    CHECK(fr->call(admin_request("GET", "/v1/admin/triggers", {}, key)).status == 401);
  auto anonymous = fr->call(api_request("GET", "/v1/admin/triggers"));
  CHECK(anonymous.status == 401);
  CHECK(anonymous.field("WWW-Authenticate") == R"(Bearer realm="feedrouter-admin")");

  // Every namespace's registrations, in pages, without secrets; and the count per namespace.
  auto first = fr->call(admin_request("GET", "/v1/admin/triggers?limit=2"));
  CHECK(first.status == 200);
  CHECK(listed_names(first.body) == std::vector<std::string>{"/alice/spam", "/bob/clock"});
  auto next = json_string_at(first.body, "/next");
  REQUIRE(next);
  auto second = fr->call(admin_request("GET", "/v1/admin/triggers?limit=2&cursor=" + *next));
  CHECK(listed_names(second.body) == std::vector<std::string>{"/bob/hook"});
  CHECK_FALSE(json_at(second.body, "/next"));
  for (const auto& body : {first.body, second.body}) {
    CHECK(body.find(*hook_secret) == std::string::npos);
    CHECK(body.find(alice_key.substr(alice_key.find(':') + 1)) == std::string::npos);
    CHECK(body.find(bob_key.substr(bob_key.find(':') + 1)) == std::string::npos);
  }
  CHECK(listed_names(fr->call(admin_request("GET", "/v1/admin/triggers?namespace=bob")).body)
        == std::vector<std::string>{"/bob/clock", "/bob/hook"});
  auto counts = fr->call(admin_request("GET", "/v1/admin/namespaces"));
  CHECK(counts.status == 200);
  CHECK(counts.body
        == R"({"namespaces":[{"namespace":"alice","registrations":1},{"namespace":"bob","registrations":2}]})");

  // The disable stops the fires of that registration only.
  REQUIRE(fx.wait_for_fires_of(spam, 1, fire_timeout));
  auto disabled =
    fr->call(admin_request("POST", admin_path(spam, "disable"), R"({"message":"spam reported"})"));
  CHECK(disabled.status == 200);
  CHECK(json_string_at(disabled.body, "/status/state") == "disabled");
  CHECK(json_string_at(disabled.body, "/status/reason/kind") == "ADMIN");
  // A fire on the wire as the disable came may still land; none after it.
  wait_for_more_fires(fx, clock, 2);
  auto spam_fires = fx.fires_of(spam).size();
  wait_for_more_fires(fx, clock, 2);
  CHECK(fx.fires_of(spam).size() == spam_fires);
  check_owner_cannot_lift(*fr, spam, alice_key);

  // The ADMIN disable is stored: it holds after a restart.
  fr->stop_cleanly();
  fr = fx.start_feedrouter({"--admin-key-file", key_file});
  check_owner_cannot_lift(*fr, spam, alice_key);
  wait_for_more_fires(fx, clock, 2);
  CHECK(fx.fires_of(spam).size() == spam_fires);

  // The operator lifts it, and the registration fires again.
  auto enabled = fr->call(admin_request("POST", admin_path(spam, "enable")));
  CHECK(enabled.status == 200);
  CHECK(json_string_at(enabled.body, "/status/state") == "active");
  CHECK(fx.wait_for_fires_of(spam, spam_fires + 1, fire_timeout));
  CHECK(fr->call(api_request("POST", trigger_path(spam) + "/pause", alice_key)).status == 200);

  // The owner may still delete a registration an operator disabled.
  REQUIRE(fr->call(admin_request("POST", admin_path(hook, "disable"))).status == 200);
  CHECK(fr->call(api_request("DELETE", trigger_path(hook), bob_key)).status == 204);
  CHECK(fr->call(admin_request("GET", admin_path(hook))).status == 404);
  fr->stop_cleanly();
  // The key is never written to the log.
  CHECK(fr->process().stderr_text().find(admin_key) == std::string::npos);
}

TEST_CASE("without --admin-key-file the admin routes answer 404 as unknown routes do", "[e2e][admin]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  auto unknown = fr->call(api_request("GET", "/v1/nothing"));
  for (const auto& target : {"/v1/admin/triggers", "/v1/admin/namespaces"}) {
    auto res = fr->call(admin_request("GET", target));
    CHECK(res.status == 404);
    CHECK(res.body == unknown.body);
  }
  fr->stop_cleanly();
}
