#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using Catch::Contains;
using Catch::StartsWith;

namespace {

/// A webhook secret the test chooses, so that it can look for it.
constexpr std::string_view chosen_secret = "a-chosen-webhook-secret-0123456789";

const trigger_ref hook_trigger{"alice", "hook"};
const trigger_ref alarm_trigger{"alice", "alarm"};

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

unsigned mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return static_cast<unsigned>(info.st_mode & 07777);
}

/// Checks that the store file and its WAL hold neither alice's authKey (nor its key part, nor its bare SHA-256) nor
/// the webhook secret.
void check_nothing_readable(const e2e_fixture& fx) {
  auto bytes = read_file(fx.store_path()) + read_file(fx.store_path() + "-wal");
  REQUIRE_FALSE(bytes.empty());
  std::string key{alice_key};
  for (const auto& secret : {key, key.substr(key.find(':') + 1), sha256_hex(key), std::string{chosen_secret}}) {
    INFO("looking for " << secret);
    CHECK(bytes.find(secret) == std::string::npos);
  }
}

/// Creates the webhook (with the chosen secret) and the alarm of these tests; returns the webhook.
webhook_registration create_registrations(e2e_fixture& fx, feedrouter_process& fr) {
  fx.controller().add_trigger(hook_trigger, std::string{alice_key});
  fx.controller().add_trigger(alarm_trigger, std::string{alice_key});
  auto hook = create_webhook(fr, hook_trigger, "hmac-sha256", R"("secret":")" + std::string{chosen_secret} + '"');
  REQUIRE(hook.secret == chosen_secret);
  REQUIRE(fr.call(api_request("PUT", trigger_path(alarm_trigger), alice_key, alarm_body(yearly, "{}"))).status
          == 201);
  return hook;
}

} // namespace

TEST_CASE("no authKey or webhook secret is readable in the store files, which are private to their owner",
          "[e2e][secrets]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  create_registrations(fx, *fr);
  // While running: the WAL holds the latest transactions.
  check_nothing_readable(fx);
  CHECK(mode_of(fx.store_path()) == 0600u);
  CHECK(mode_of(fx.store_path() + "-wal") == 0600u);
  CHECK(mode_of(fx.store_path() + ".key") == 0600u);
  fr->stop_cleanly();
  check_nothing_readable(fx);
}

TEST_CASE("rotate-key seals the secrets under a new key, and owners and webhook senders notice nothing",
          "[e2e][secrets]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  auto hook = create_registrations(fx, *fr);
  auto key_before = read_file(fx.store_path() + ".key");

  SECTION("refused while the service runs, which holds the store") {
    child_process child{feedrouter_command({"rotate-key", "--store", fx.store_spec()}, fx.next_stderr_path())};
    auto status = child.wait(feedrouter_process::exit_timeout);
    REQUIRE(status);
    CHECK(status->code == 2);
    CHECK_THAT(child.stderr_text(), Contains("is locked by another process"));
    CHECK(read_file(fx.store_path() + ".key") == key_before);
    fr->stop_cleanly();
  }
  SECTION("done while it is stopped") {
    fr->stop_cleanly();
    fr.reset();
    child_process child{feedrouter_command({"rotate-key", "--store", fx.store_spec()}, fx.next_stderr_path())};
    std::vector<std::string> lines;
    while (auto line = child.read_line(feedrouter_process::exit_timeout))
      lines.push_back(*line);
    auto status = child.wait(feedrouter_process::exit_timeout);
    INFO("stderr: " << child.stderr_text());
    REQUIRE(status);
    CHECK(status->code == 0);
    REQUIRE(lines.size() == 3);
    CHECK_THAT(lines[0], StartsWith("store '" + fx.store_spec() + "': 2 registrations sealed with the new key "));
    CHECK_THAT(lines[1], Contains("is kept in '" + fx.store_path() + ".key."));
    CHECK_THAT(lines[2], StartsWith("copy '" + fx.store_path() + ".key' to every instance"));
    CHECK(read_file(fx.store_path() + ".key") != key_before);
    check_nothing_readable(fx);

    fr = fx.start_feedrouter();
    CHECK(fr->call(api_request("GET", trigger_path(alarm_trigger), alice_key)).status == 200);
    CHECK(fr->call(api_request("GET", trigger_path(alarm_trigger), bob_key)).status == 404);
    // The secret was sealed again, not lost: a signed event is accepted and fired with alice's key.
    post_event(*fr, hook, R"({"after":"rotation"})");
    REQUIRE(fx.wait_for_fires_of(hook_trigger, 1, 5s));
    CHECK(fx.fires_of(hook_trigger)[0].authorization == "Basic " + base64_encode(alice_key));
    fr->stop_cleanly();
  }
}
