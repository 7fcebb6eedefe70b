#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using Catch::Contains;

namespace {

/// How long a test waits for the store watch to notice a file nothing writes to; it looks every second.
constexpr auto watch_timeout = 10s;

const trigger_ref before{"alice", "before"};
const trigger_ref after{"alice", "after"};

int create_alarm(feedrouter_process& fr, const trigger_ref& trigger) {
  return fr.call(api_request("PUT", trigger_path(trigger), alice_key, alarm_body(yearly, "{}"))).status;
}

/// Returns the lines of `text` that contain `part`.
std::size_t lines_with(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = std::min(text.find('\n', start), text.size());
    if (text.substr(start, end - start).find(part) != std::string::npos)
      ++count;
    start = end + 1;
  }
  return count;
}

/// Checks what a running feedrouter whose store refuses writes answers: 503 for /ready and for every change, the
/// reads it can still serve, and one error line naming the store file and `cause`.
void check_refusing(feedrouter_process& fr, const std::string& store_path, const std::string& cause) {
  auto ready = fr.call(api_request("GET", "/ready"));
  CHECK(ready.status == 503);
  CHECK(json_at(ready.body, "/ready") == "false");
  CHECK(create_alarm(fr, after) == 503);
  CHECK(fr.call(api_request("POST", trigger_path(before) + "/pause", alice_key)).status == 503);
  CHECK(fr.call(api_request("DELETE", trigger_path(before), alice_key)).status == 503);
  // What is in memory can still be read.
  CHECK(fr.call(api_request("GET", trigger_path(before), alice_key)).status == 200);
  CHECK(fr.call(api_request("GET", "/health")).status == 200);
  auto log = fr.process().stderr_text();
  INFO(log);
  CHECK(lines_with(log, " error ") == 1);
  CHECK(lines_with(log, "store '" + store_path + "' refuses every write from now on: " + cause) == 1);
}

} // namespace

TEST_CASE("a store file deleted while running: the next CREATE answers 503, never 201, and /ready turns 503",
          "[e2e][store]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  REQUIRE(create_alarm(*fr, before) == 201);
  std::filesystem::remove(fx.store_path());
  // No waiting: the commit itself looks at the file.
  auto created = fr->call(api_request("PUT", trigger_path(after), alice_key, alarm_body(yearly, "{}")));
  INFO(created.body);
  CHECK(created.status == 503);
  check_refusing(*fr, fx.store_path(), "its file is gone");
  SECTION("and after a restart nothing was answered 201 that is missing") {
    fr->stop_cleanly();
    fr = fx.start_feedrouter({"--no-verify-auth"});
    CHECK(fr->call(api_request("GET", trigger_path(after), alice_key)).status == 404);
    fr->stop_cleanly();
  }
}

TEST_CASE("a store file deleted while nothing is written: /ready turns 503 on its own", "[e2e][store]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  REQUIRE(create_alarm(*fr, before) == 201);
  std::filesystem::remove(fx.store_path());
  CHECK(poll_until([&] { return fr->call(api_request("GET", "/ready")).status == 503; },
                   std::chrono::duration_cast<std::chrono::milliseconds>(watch_timeout)));
  check_refusing(*fr, fx.store_path(), "its file is gone");
}

TEST_CASE("a store file replaced while running: writes answer 503 and /ready turns 503", "[e2e][store]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  REQUIRE(create_alarm(*fr, before) == 201);
  auto copy = fx.file("copy.db");
  std::filesystem::copy_file(fx.store_path(), copy);
  std::filesystem::rename(copy, fx.store_path());
  CHECK(create_alarm(*fr, after) == 503);
  check_refusing(*fr, fx.store_path(), "its file was replaced by another file");
}

TEST_CASE("a webhook event is not accepted once the store file is gone, unless its fire acknowledged it",
          "[e2e][store]") {
  e2e_fixture fx;
  const trigger_ref hook_trigger{"alice", "hook"};
  fx.controller().add_trigger(hook_trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  auto hook = create_webhook(*fr, hook_trigger);
  std::filesystem::remove(fx.store_path());
  // Fired beside its put, whose commit fails: the fire acknowledges it (rule 5.1), whichever comes first.
  auto fired = fr->call(signed_hook(hook.hook_target, hook.secret, R"({"n":1})"));
  INFO(fired.body);
  CHECK(fired.status == 202);
  CHECK(fx.fires_of(hook_trigger).size() == 1);
  // A change someone waits for commits at once: the store has found out by its answer.
  CHECK(create_alarm(*fr, after) == 503);
  auto refused = fr->call(signed_hook(hook.hook_target, hook.secret, R"({"n":2})"));
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(fx.fires_of(hook_trigger).size() == 1);
}
