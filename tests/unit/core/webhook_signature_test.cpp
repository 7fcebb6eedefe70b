#include "core/webhook_signature.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

/// RFC 4231 test case 2: HMAC-SHA256 with a key shorter than the block.
constexpr std::string_view rfc4231_key = "Jefe";
constexpr std::string_view rfc4231_data = "what do ya want for nothing?";
constexpr std::string_view rfc4231_mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

/// A GitHub-like delivery.
constexpr std::string_view secret = "It's a Secret to Everybody";
constexpr std::string_view body = "Hello, World!";

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

} // namespace

// -- sign_hmac_sha256 -----------------------------------------------------------------------

TEST_CASE("sign_hmac_sha256 matches RFC 4231 test case 2", "[webhook_signature]") {
  CHECK(sign_hmac_sha256(rfc4231_key, rfc4231_data) == "sha256=" + std::string{rfc4231_mac});
}

TEST_CASE("sign_hmac_sha256 matches RFC 4231 test case 1", "[webhook_signature]") {
  const std::string key(20, '\x0b');
  CHECK(sign_hmac_sha256(key, "Hi There")
        == "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST_CASE("sign_hmac_sha256 matches GitHub's documented example", "[webhook_signature]") {
  CHECK(sign_hmac_sha256(secret, body)
        == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST_CASE("sign_hmac_sha256 covers every byte of the body", "[webhook_signature]") {
  CHECK(sign_hmac_sha256(secret, std::string_view{"a\0b", 3}) != sign_hmac_sha256(secret, "a"));
  CHECK(sign_hmac_sha256(secret, "") != sign_hmac_sha256(secret, " "));
}

// -- verify_hmac_sha256 ---------------------------------------------------------------------

TEST_CASE("verify_hmac_sha256 accepts the signature sign_hmac_sha256 made", "[webhook_signature]") {
  CHECK(verify_hmac_sha256(rfc4231_key, rfc4231_data, "sha256=" + std::string{rfc4231_mac}));
  CHECK(verify_hmac_sha256(secret, body, sign_hmac_sha256(secret, body)));
  CHECK(verify_hmac_sha256(secret, "", sign_hmac_sha256(secret, "")));
}

TEST_CASE("verify_hmac_sha256 accepts upper-case hex and prefix", "[webhook_signature]") {
  const std::string mac{rfc4231_mac};
  CHECK(verify_hmac_sha256(rfc4231_key, rfc4231_data, "sha256=" + upper(mac)));
  CHECK(verify_hmac_sha256(rfc4231_key, rfc4231_data, "SHA256=" + mac));
  CHECK(verify_hmac_sha256(rfc4231_key, rfc4231_data, upper("sha256=" + mac)));
  // Mixed case.
  auto mixed = mac;
  for (std::size_t i = 0; i < mixed.size(); i += 2)
    mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
  CHECK(verify_hmac_sha256(rfc4231_key, rfc4231_data, "sha256=" + mixed));
}

TEST_CASE("verify_hmac_sha256 ignores spaces around the header value", "[webhook_signature]") {
  CHECK(verify_hmac_sha256(secret, body, " " + sign_hmac_sha256(secret, body) + "\t"));
}

TEST_CASE("verify_hmac_sha256 rejects a changed body or another secret", "[webhook_signature]") {
  const auto signature = sign_hmac_sha256(secret, body);
  CHECK_FALSE(verify_hmac_sha256(secret, "Hello, World?", signature));
  CHECK_FALSE(verify_hmac_sha256(secret, "", signature));
  CHECK_FALSE(verify_hmac_sha256("It's a secret to everybody", body, signature));
}

// -- verify_token -------------------------------------------------------------------------------

TEST_CASE("verify_token accepts exactly the secret", "[webhook_signature]") {
  CHECK(verify_token(secret, secret));
  CHECK(verify_token(secret, " " + std::string{secret} + " "));
  CHECK_FALSE(verify_token(secret, "It's a secret to everybody"));
  CHECK_FALSE(verify_token(secret, "It's a Secret to Everybody!"));
  CHECK_FALSE(verify_token(secret, "It's a Secret"));
  CHECK_FALSE(verify_token(secret, ""));
}

// -- generate_secret ----------------------------------------------------------------------------

TEST_CASE("generate_secret returns 32 random bytes as lower-case hex", "[webhook_signature]") {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    auto s = generate_secret();
    CHECK(s.size() == 2 * webhook_secret_bytes);
    CHECK(s.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(s);
  }
  CHECK(seen.size() == 16);
}

TEST_CASE("a generated secret signs and verifies", "[webhook_signature]") {
  const auto s = generate_secret();
  CHECK(verify_hmac_sha256(s, body, sign_hmac_sha256(s, body)));
  CHECK(verify_token(s, s));
}
