#include "core/webhook_delivery.hpp"

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "core/webhook_signature.hpp"

using namespace feedrouter;

namespace {

const std::string secret = "0123456789abcdef-test-secret";

webhook_spec hmac_spec() {
  webhook_spec spec;
  spec.hook_id = "hook-1";
  spec.secret = secret;
  return spec;
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
  auto verdict = judge_webhook(hmac_spec(), signed_delivery(R"({"a":1})"), R"({"a":0,"b":2})");
  REQUIRE(verdict.what == webhook_verdict::kind::accept);
  CHECK(verdict.payload == R"({"a":1,"b":2})");
}

TEST_CASE("a delivery without its signature, or signed otherwise, is refused naming the header",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  auto unsigned_one = judge_webhook(spec, {R"({"a":1})", {}}, "{}");
  CHECK(unsigned_one.what == webhook_verdict::kind::bad_signature);
  CHECK(unsigned_one.header == "X-Hub-Signature-256");
  auto tampered = signed_delivery(R"({"a":1})");
  tampered.body = R"({"a":2})";
  CHECK(judge_webhook(spec, tampered, "{}").what == webhook_verdict::kind::bad_signature);
}

TEST_CASE("a token registration takes the shared token in its header", "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.signature = webhook_spec::signature_kind::token;
  CHECK(judge_webhook(spec, {"{}", {{"X-Feedrouter-Token", secret}}}, "{}").what == webhook_verdict::kind::accept);
  auto wrong = judge_webhook(spec, {"{}", {{"X-Feedrouter-Token", "not-the-token-at-all"}}}, "{}");
  CHECK(wrong.what == webhook_verdict::kind::bad_signature);
  CHECK(wrong.header == "X-Feedrouter-Token");
}

TEST_CASE("an event kind the registration does not list is ignored, a listed one is added to the payload",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.event_header = "X-GitHub-Event";
  spec.events = {"push"};
  CHECK(judge_webhook(spec, signed_delivery("{}", {{"X-GitHub-Event", "issues"}}), "{}").what
        == webhook_verdict::kind::ignore);
  auto taken = judge_webhook(spec, signed_delivery(R"({"ref":"main"})", {{"X-GitHub-Event", "push"}}), "{}");
  REQUIRE(taken.what == webhook_verdict::kind::accept);
  CHECK(json_as_string(*find_member(*parse_json_object(taken.payload, "p"), "event")) == "push");
}

TEST_CASE("the signature is checked before the event filter", "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.event_header = "X-GitHub-Event";
  spec.events = {"push"};
  webhook_delivery d{"{}", {{"X-GitHub-Event", "issues"}}};
  CHECK(judge_webhook(spec, d, "{}").what == webhook_verdict::kind::bad_signature);
}

TEST_CASE("a signed ping of a registration that answers pings is not fired, and a forged one is refused",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.event_header = "X-GitHub-Event";
  spec.events = {"push"};
  spec.answers_ping = true;
  CHECK(judge_webhook(spec, signed_delivery(R"({"zen":"Keep it simple"})", {{"X-GitHub-Event", "ping"}}), "{}").what
        == webhook_verdict::kind::ping);
  webhook_delivery forged{R"({"zen":"x"})", {{"X-GitHub-Event", "ping"}, {"X-Hub-Signature-256", "sha256=00"}}};
  CHECK(judge_webhook(spec, forged, "{}").what == webhook_verdict::kind::bad_signature);
  // A plain webhook registration has no notion of pings: the event filter decides.
  spec.answers_ping = false;
  CHECK(judge_webhook(spec, signed_delivery("{}", {{"X-GitHub-Event", "ping"}}), "{}").what
        == webhook_verdict::kind::ignore);
}

TEST_CASE("a registration with a delivery header hands on each delivery's id and refuses one without",
          "[webhook_delivery]") {
  auto spec = hmac_spec();
  spec.delivery_header = "X-GitHub-Delivery";
  auto verdict = judge_webhook(spec, signed_delivery("{}", {{"x-github-delivery", "72d3162e-cc78"}}), "{}");
  REQUIRE(verdict.what == webhook_verdict::kind::accept);
  CHECK(verdict.delivery_id == "72d3162e-cc78");
  auto missing = judge_webhook(spec, signed_delivery("{}"), "{}");
  CHECK(missing.what == webhook_verdict::kind::bad_delivery_id);
  CHECK(missing.header == "X-GitHub-Delivery");
  auto too_long = judge_webhook(spec, signed_delivery("{}", {{"X-GitHub-Delivery", std::string(129, 'a')}}), "{}");
  CHECK(too_long.what == webhook_verdict::kind::bad_delivery_id);
  // The signature comes first: an unsigned request learns nothing about the id it needs.
  webhook_delivery unsigned_one{"{}", {}};
  CHECK(judge_webhook(spec, unsigned_one, "{}").what == webhook_verdict::kind::bad_signature);
}
