#include "core/webhook_delivery.hpp"

#include <catch2/catch.hpp>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/webhook_signature.hpp"

using namespace feedrouter;

namespace {

const std::string secret = "0123456789abcdef-test-secret";

/// The provider's clock in these tests.
const sys_ms test_now{std::chrono::milliseconds{1'767'225'600'000}}; // 2026-01-01T00:00:00Z

webhook_spec hmac_spec() {
  webhook_spec spec;
  spec.hook_id = "hook-1";
  spec.secret = secret;
  return spec;
}

/// A Standard Webhooks registration, with the secret its sender signs with.
const std::string standard_secret = "whsec_" + base64_encode(std::string(32, 'k'));

webhook_spec standard_spec() {
  webhook_spec spec;
  spec.hook_id = "hook-2";
  spec.secret = standard_secret;
  spec.signature = webhook_spec::signature_kind::standard;
  spec.delivery_header = std::string{standard_id_header};
  return spec;
}

/// Returns a Standard Webhooks delivery of `body` with id `id`, sent at `sent`, signed with the registration's key.
webhook_delivery standard_delivery(std::string body, const std::string& id, sys_ms sent) {
  auto timestamp = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(sent.time_since_epoch()).count());
  auto signature = sign_standard(*standard_secret_key(standard_secret), id, timestamp, body);
  return {std::move(body), {{"webhook-id", id}, {"webhook-timestamp", timestamp}, {"webhook-signature", signature}}};
}

webhook_delivery signed_delivery(std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  headers.emplace_back("x-hub-signature-256", sign_hmac_sha256(secret, body));
  return {std::move(body), std::move(headers)};
}

} // namespace

TEST_CASE("a delivery's headers are found without regard to case", "[webhook_delivery]") {
  webhook_delivery d{"{}", {{"X-GitHub-Event", "push"}, {"Content-Type", "application/json"}}};
  CHECK(find_header(d, "x-github-event") == "push");
  CHECK(find_header(d, "CONTENT-TYPE") == "application/json");
  CHECK(find_header(d, "X-Missing").empty());
}

TEST_CASE("a correctly signed delivery is accepted with trigger_payload merged in", "[webhook_delivery]") {
  auto verdict = judge_webhook(hmac_spec(), signed_delivery(R"({"a":1})"), R"({"a":0,"b":2})", test_now);
  REQUIRE(verdict.what == webhook_verdict::kind::accept);
  CHECK(verdict.payload == R"({"a":1,"b":2})");
}

TEST_CASE("a delivery without its signature, or signed otherwise, is refused naming the header",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  auto unsigned_one = judge_webhook(spec, {R"({"a":1})", {}}, "{}", test_now);
  CHECK(unsigned_one.what == webhook_verdict::kind::bad_signature);
  CHECK(unsigned_one.header == "X-Hub-Signature-256");
  auto tampered = signed_delivery(R"({"a":1})");
  tampered.body = R"({"a":2})";
  CHECK(judge_webhook(spec, tampered, "{}", test_now).what == webhook_verdict::kind::bad_signature);
}

TEST_CASE("a token registration takes the shared token in its header", "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.signature = webhook_spec::signature_kind::token;
  CHECK(judge_webhook(spec, {"{}", {{"X-Feedrouter-Token", secret}}}, "{}", test_now).what
        == webhook_verdict::kind::accept);
  auto wrong = judge_webhook(spec, {"{}", {{"X-Feedrouter-Token", "not-the-token-at-all"}}}, "{}", test_now);
  CHECK(wrong.what == webhook_verdict::kind::bad_signature);
  CHECK(wrong.header == "X-Feedrouter-Token");
}

TEST_CASE("an event kind the registration does not list is ignored, a listed one is added to the payload",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.event_header = "X-GitHub-Event";
  spec.events = {"push"};
  CHECK(judge_webhook(spec, signed_delivery("{}", {{"X-GitHub-Event", "issues"}}), "{}", test_now).what
        == webhook_verdict::kind::ignore);
  auto taken = judge_webhook(spec, signed_delivery(R"({"ref":"main"})", {{"X-GitHub-Event", "push"}}), "{}", test_now);
  REQUIRE(taken.what == webhook_verdict::kind::accept);
  CHECK(json_as_string(*find_member(*parse_json_object(taken.payload, "p"), "event")) == "push");
}

TEST_CASE("the signature is checked before the event filter", "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.event_header = "X-GitHub-Event";
  spec.events = {"push"};
  webhook_delivery d{"{}", {{"X-GitHub-Event", "issues"}}};
  CHECK(judge_webhook(spec, d, "{}", test_now).what == webhook_verdict::kind::bad_signature);
}

TEST_CASE("a signed ping of a registration that answers pings is not fired, and a forged one is refused",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.event_header = "X-GitHub-Event";
  spec.events = {"push"};
  spec.answers_ping = true;
  auto ping = signed_delivery(R"({"zen":"Keep it simple"})", {{"X-GitHub-Event", "ping"}});
  CHECK(judge_webhook(spec, ping, "{}", test_now).what == webhook_verdict::kind::ping);
  webhook_delivery forged{R"({"zen":"x"})", {{"X-GitHub-Event", "ping"}, {"X-Hub-Signature-256", "sha256=00"}}};
  CHECK(judge_webhook(spec, forged, "{}", test_now).what == webhook_verdict::kind::bad_signature);
  // A plain webhook registration has no notion of pings: the event filter decides.
  spec.answers_ping = false;
  CHECK(judge_webhook(spec, signed_delivery("{}", {{"X-GitHub-Event", "ping"}}), "{}", test_now).what
        == webhook_verdict::kind::ignore);
}

TEST_CASE("a registration with a delivery header hands on each delivery's id and refuses one without",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.delivery_header = "X-GitHub-Delivery";
  auto verdict = judge_webhook(spec, signed_delivery("{}", {{"x-github-delivery", "72d3162e-cc78"}}), "{}", test_now);
  REQUIRE(verdict.what == webhook_verdict::kind::accept);
  CHECK(verdict.delivery_id == "72d3162e-cc78");
  auto missing = judge_webhook(spec, signed_delivery("{}"), "{}", test_now);
  CHECK(missing.what == webhook_verdict::kind::bad_delivery_id);
  CHECK(missing.header == "X-GitHub-Delivery");
  auto too_long =
    judge_webhook(spec, signed_delivery("{}", {{"X-GitHub-Delivery", std::string(129, 'a')}}), "{}", test_now);
  CHECK(too_long.what == webhook_verdict::kind::bad_delivery_id);
  // The signature comes first: an unsigned request learns nothing about the id it needs.
  webhook_delivery unsigned_one{"{}", {}};
  CHECK(judge_webhook(spec, unsigned_one, "{}", test_now).what == webhook_verdict::kind::bad_signature);
}

TEST_CASE("a Standard Webhooks delivery signed over its id, timestamp and body is accepted with its id",
          "[webhook_delivery]") {
  auto verdict = judge_webhook(standard_spec(), standard_delivery(R"({"type":"user.created"})", "msg_1", test_now),
                               "{}", test_now);
  REQUIRE(verdict.what == webhook_verdict::kind::accept);
  CHECK(verdict.delivery_id == "msg_1");
  CHECK(verdict.payload == R"({"type":"user.created"})");
}

TEST_CASE("a Standard Webhooks delivery with a wrong signature, or another id or timestamp than it signed, is "
          "refused naming webhook-signature", "[webhook_delivery]") {
  auto spec = standard_spec();
  auto unsigned_one = standard_delivery("{}", "msg_1", test_now);
  unsigned_one.headers.pop_back();
  auto other_id = standard_delivery("{}", "msg_1", test_now);
  other_id.headers[0].second = "msg_2";
  auto other_time = standard_delivery("{}", "msg_1", test_now);
  other_time.headers[1].second = std::to_string(std::stoll(other_time.headers[1].second) + 1);
  for (const auto& delivery : {unsigned_one, other_id, other_time}) {
    auto verdict = judge_webhook(spec, delivery, "{}", test_now);
    CHECK(verdict.what == webhook_verdict::kind::bad_signature);
    CHECK(verdict.header == "webhook-signature");
  }
}

TEST_CASE("a signed Standard Webhooks delivery more than five minutes from the clock is refused naming "
          "webhook-timestamp", "[webhook_delivery]") {
  auto spec = standard_spec();
  using std::chrono::seconds;
  for (auto sent : {test_now - seconds{301}, test_now + seconds{301}}) {
    auto verdict = judge_webhook(spec, standard_delivery("{}", "msg_1", sent), "{}", test_now);
    CHECK(verdict.what == webhook_verdict::kind::bad_timestamp);
    CHECK(verdict.header == "webhook-timestamp");
  }
  for (auto sent : {test_now - seconds{300}, test_now + seconds{300}})
    CHECK(judge_webhook(spec, standard_delivery("{}", "msg_1", sent), "{}", test_now).what
          == webhook_verdict::kind::accept);
}

TEST_CASE("a Standard Webhooks delivery signed without an id is refused naming webhook-id", "[webhook_delivery]") {
  auto verdict = judge_webhook(standard_spec(), standard_delivery("{}", "", test_now), "{}", test_now);
  CHECK(verdict.what == webhook_verdict::kind::bad_delivery_id);
  CHECK(verdict.header == "webhook-id");
}
