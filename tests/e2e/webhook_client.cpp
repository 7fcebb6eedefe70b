#include "tests/e2e/webhook_client.hpp"

#include <thread>

#include <catch2/catch.hpp>

#include "core/webhook_signature.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"

namespace feedrouter::test {

namespace {

/// Pause between two asks of poll_until: short against the waits it bounds (hundreds of milliseconds), long enough
/// not to load the provider.
constexpr std::chrono::milliseconds poll_interval{20};

constexpr std::string_view hook_path_prefix = "/v1/hooks/";

/// The CREATE of create_webhook and replace_webhook, requiring `expected` (201 new, 200 replaced).
webhook_registration put_webhook(feedrouter_process& fr, const trigger_ref& trigger, std::string_view signature,
                                 std::string_view more_members, int expected) {
  std::string body = R"({"feed":"webhook","signature":")" + std::string{signature} + '"';
  if (!more_members.empty())
    body += ',' + std::string{more_members};
  body += '}';
  auto created = fr.call(api_request("PUT", trigger_path(trigger), alice_key, std::move(body)));
  INFO("CREATE answer: " << created.body);
  REQUIRE(created.status == expected);
  auto hook_url = json_string_at(created.body, "/hookUrl");
  auto secret = json_string_at(created.body, "/secret");
  REQUIRE(hook_url);
  REQUIRE(secret);
  REQUIRE_FALSE(secret->empty());
  // The hook URL is on this process: the default public URL is where it listens.
  REQUIRE(hook_url->rfind(fr.base_url() + std::string{hook_path_prefix}, 0) == 0);
  CHECK(json_string_at(created.body, "/status/hookUrl") == hook_url);
  return {hook_url->substr(fr.base_url().size()), *secret};
}

} // namespace

webhook_registration create_webhook(feedrouter_process& fr, const trigger_ref& trigger, std::string_view signature,
                                    std::string_view more_members) {
  constexpr int created = 201;
  return put_webhook(fr, trigger, signature, more_members, created);
}

webhook_registration replace_webhook(feedrouter_process& fr, const trigger_ref& trigger) {
  constexpr int replaced = 200;
  return put_webhook(fr, trigger, "hmac-sha256", {}, replaced);
}

http_request signed_hook(const std::string& hook_target, std::string_view secret, std::string body,
                         std::string_view content_type) {
  http_request req;
  req.method = "POST";
  req.target = hook_target;
  req.fields.emplace_back("X-Hub-Signature-256", sign_hmac_sha256(secret, body));
  req.fields.emplace_back("Content-Type", std::string{content_type});
  req.body = std::move(body);
  return req;
}

http_request unsigned_hook(const std::string& hook_target, std::string body) {
  http_request req;
  req.method = "POST";
  req.target = hook_target;
  req.fields.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  return req;
}

std::int64_t post_event(feedrouter_process& fr, const webhook_registration& hook, std::string body) {
  auto answer = fr.call(signed_hook(hook.hook_target, hook.secret, body));
  INFO("hook POST of " << body << ": " << answer.status << ' ' << answer.body);
  REQUIRE(answer.status == 202);
  CHECK(json_at(answer.body, "/accepted") == "true");
  auto seq = json_int_at(answer.body, "/seq");
  REQUIRE(seq);
  return *seq;
}

std::string read_registration(feedrouter_process& fr, const trigger_ref& trigger) {
  auto read = fr.call(api_request("GET", trigger_path(trigger), alice_key));
  INFO("READ " << trigger.qualified() << ": " << read.body);
  REQUIRE(read.status == 200);
  return std::move(read.body);
}

std::string read_dead_letters(feedrouter_process& fr, const trigger_ref& trigger) {
  auto read = fr.call(api_request("GET", trigger_path(trigger) + "/deadletters", alice_key));
  INFO("GET deadletters of " << trigger.qualified() << ": " << read.body);
  REQUIRE(read.status == 200);
  return std::move(read.body);
}

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

} // namespace feedrouter::test
