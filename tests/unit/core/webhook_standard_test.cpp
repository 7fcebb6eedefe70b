// Standard Webhooks (https://www.standardwebhooks.com/) in core/webhook_signature: whsec_ secrets, the signature over
// id, timestamp and body, the timestamp and its tolerance.

#include "core/webhook_signature.hpp"

#include <chrono>
#include <set>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

/// A known answer, checked against an independent HMAC-SHA256 and base64 (Python's hmac and base64 modules).
constexpr std::string_view known_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view known_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::string_view known_timestamp = "1614265330";
constexpr std::string_view known_body = R"({"test": 2432232314})";
constexpr std::string_view known_signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::string known_key() {
  auto key = standard_secret_key(known_secret);
  REQUIRE(key);
  return *key;
}

sys_ms at_seconds(std::int64_t seconds) {
  return sys_ms{std::chrono::seconds{seconds}};
}

} // namespace

TEST_CASE("a whsec_ secret's key is the base64 after the prefix, 24 to 64 bytes", "[webhook_standard]") {
  CHECK(known_key().size() == 24);
  CHECK(standard_secret_key("whsec_" + base64_encode(std::string(64, 'k'))) == std::string(64, 'k'));
  CHECK_FALSE(standard_secret_key("whsec_" + base64_encode(std::string(23, 'k'))));
  CHECK_FALSE(standard_secret_key("whsec_" + base64_encode(std::string(65, 'k'))));
  CHECK_FALSE(standard_secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); // without the prefix
  CHECK_FALSE(standard_secret_key("whsec_not base64!"));
  CHECK_FALSE(standard_secret_key(""));
}

TEST_CASE("sign_standard signs id, timestamp and body with HMAC-SHA256 as base64 after v1,", "[webhook_standard]") {
  CHECK(sign_standard(known_key(), known_id, known_timestamp, known_body) == known_signature);
}

TEST_CASE("verify_standard_signature takes any v1 entry of the header and skips other versions",
          "[webhook_standard]") {
  auto key = known_key();
  CHECK(verify_standard_signature(key, known_id, known_timestamp, known_body, known_signature));
  // A sender rotating its secret signs twice; another scheme's entry is skipped.
  auto several = "v1,bm90LXRoZS1zaWduYXR1cmU= v1a,c29tZXRoaW5nLWVsc2U= " + std::string{known_signature};
  CHECK(verify_standard_signature(key, known_id, known_timestamp, known_body, several));
}

TEST_CASE("verify_standard_signature refuses a changed id, timestamp, body, signature or key", "[webhook_standard]") {
  auto key = known_key();
  CHECK_FALSE(verify_standard_signature(key, "msg_other", known_timestamp, known_body, known_signature));
  CHECK_FALSE(verify_standard_signature(key, known_id, "1614265331", known_body, known_signature));
  CHECK_FALSE(verify_standard_signature(key, known_id, known_timestamp, R"({"test": 2432232315})", known_signature));
  auto altered = std::string{known_signature};
  altered[5] = altered[5] == 'A' ? 'B' : 'A';
  CHECK_FALSE(verify_standard_signature(key, known_id, known_timestamp, known_body, altered));
  CHECK_FALSE(verify_standard_signature(std::string(24, 'x'), known_id, known_timestamp, known_body, known_signature));
  // The signature without its version, or under another one, is no v1 entry.
  CHECK_FALSE(verify_standard_signature(key, known_id, known_timestamp, known_body, known_signature.substr(3)));
  CHECK_FALSE(verify_standard_signature(key, known_id, known_timestamp, known_body,
                                        "v2," + std::string{known_signature.substr(3)}));
  CHECK_FALSE(verify_standard_signature(key, known_id, known_timestamp, known_body, ""));
  auto unkeyed = sign_standard("", known_id, known_timestamp, known_body);
  CHECK_FALSE(verify_standard_signature("", known_id, known_timestamp, known_body, unkeyed));
}

TEST_CASE("a webhook-timestamp is decimal seconds, spaces around it ignored", "[webhook_standard]") {
  CHECK(parse_standard_timestamp("1614265330") == 1614265330);
  CHECK(parse_standard_timestamp(" 0\t") == 0);
  CHECK(parse_standard_timestamp("999999999999999999") == 999'999'999'999'999'999);
  CHECK_FALSE(parse_standard_timestamp("9999999999999999999")); // 19 digits
  CHECK_FALSE(parse_standard_timestamp(""));
  CHECK_FALSE(parse_standard_timestamp("-5"));
  CHECK_FALSE(parse_standard_timestamp("1614265330.5"));
  CHECK_FALSE(parse_standard_timestamp("2021-02-25T15:02:10Z"));
}

TEST_CASE("a webhook-timestamp is fresh within five minutes of the clock, either way", "[webhook_standard]") {
  const std::int64_t now = 1'767'225'600;
  CHECK(standard_timestamp_tolerance == 300s);
  CHECK(standard_timestamp_fresh(now, at_seconds(now)));
  CHECK(standard_timestamp_fresh(now - 300, at_seconds(now)));
  CHECK(standard_timestamp_fresh(now + 300, at_seconds(now)));
  CHECK_FALSE(standard_timestamp_fresh(now - 301, at_seconds(now)));
  CHECK_FALSE(standard_timestamp_fresh(now + 301, at_seconds(now)));
  CHECK_FALSE(standard_timestamp_fresh(0, at_seconds(now)));
  CHECK_FALSE(standard_timestamp_fresh(999'999'999'999'999'999, at_seconds(now)));
}

TEST_CASE("generate_standard_secret returns whsec_ and 32 random bytes in base64", "[webhook_standard]") {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    auto secret = generate_standard_secret();
    CHECK(secret.rfind("whsec_", 0) == 0);
    auto key = standard_secret_key(secret);
    REQUIRE(key);
    CHECK(key->size() == webhook_secret_bytes);
    seen.insert(secret);
  }
  CHECK(seen.size() == 16);
}
