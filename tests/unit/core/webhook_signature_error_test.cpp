#include "core/webhook_signature.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

constexpr std::string_view key = "Jefe";
constexpr std::string_view data = "what do ya want for nothing?";
constexpr std::string_view mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

void check_rejected(const std::vector<std::string>& headers) {
  for (const auto& header : headers) {
    INFO("X-Hub-Signature-256: \"" << header << '"');
    CHECK_FALSE(verify_hmac_sha256(key, data, header));
  }
}

} // namespace

TEST_CASE("a signature without the sha256= prefix is rejected", "[webhook_signature]") {
  const std::string hex{mac};
  check_rejected({hex, "=" + hex, "sha256" + hex, "sha256:" + hex, "sha256 =" + hex, "sha256= " + hex});
}

TEST_CASE("a signature with another algorithm's prefix is rejected", "[webhook_signature]") {
  const std::string hex{mac};
  check_rejected({"sha1=" + hex, "sha512=" + hex, "md5=" + hex, "hmac-sha256=" + hex});
}

TEST_CASE("a signature of the wrong length or with non-hex digits is rejected", "[webhook_signature]") {
  const std::string hex{mac};
  check_rejected({
    "",
    "sha256=",
    "sha256=" + hex.substr(1),
    "sha256=" + hex + "0",
    "sha256=" + hex + hex,
    "sha256=" + hex.substr(0, 63) + "g",
    "sha256=" + hex.substr(0, 63) + std::string(1, '\0'),
    "sha256=" + std::string(64, '0'),
  });
}

TEST_CASE("a signature differing in one digit is rejected", "[webhook_signature]") {
  const std::string hex{mac};
  for (std::size_t i = 0; i < hex.size(); ++i) {
    auto changed = hex;
    changed[i] = changed[i] == '0' ? '1' : '0';
    INFO("digit " << i);
    CHECK_FALSE(verify_hmac_sha256(key, data, "sha256=" + changed));
  }
}

TEST_CASE("an empty secret verifies nothing", "[webhook_signature]") {
  CHECK_FALSE(verify_hmac_sha256("", data, sign_hmac_sha256("", data)));
  CHECK_FALSE(verify_hmac_sha256("", "", sign_hmac_sha256("", "")));
  CHECK_FALSE(verify_token("", ""));
  CHECK_FALSE(verify_token("", " "));
}
