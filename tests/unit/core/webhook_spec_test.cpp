// The parameters of a `webhook` registration (core/webhook_spec): the signature schemes and what each requires.

#include "core/webhook_spec.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"
#include "core/webhook_signature.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;

namespace {

const std::string standard_secret = "whsec_" + base64_encode(std::string(32, 's'));

std::string with_standard(const std::string& more = {}) {
  return R"({"hookId": "h", "signature": "standard", "secret": ")" + standard_secret + "\""
         + (more.empty() ? "" : ", " + more) + "}";
}

} // namespace

TEST_CASE("a standard webhook takes a whsec_ secret and goes by webhook-id", "[webhook_spec]") {
  auto spec = parse_webhook_spec(params(with_standard()));
  REQUIRE(spec);
  CHECK(spec->signature == webhook_spec::signature_kind::standard);
  CHECK(spec->secret == standard_secret);
  CHECK(spec->delivery_header == "webhook-id");
  auto named = parse_webhook_spec(params(with_standard(R"("deliveryHeader": "Webhook-Id")")));
  REQUIRE(named);
  CHECK(named->delivery_header == "webhook-id");
}

TEST_CASE("a standard webhook refuses a secret that is not whsec_ with 24 to 64 bytes, and another delivery header",
          "[webhook_spec]") {
  for (const std::string secret : {std::string{"0123456789abcdef0123456789abcdef"},
                                   "whsec_" + base64_encode(std::string(16, 's')), std::string{"whsec_!!!!"}}) {
    INFO(secret);
    auto spec = parse_webhook_spec(params(R"({"hookId": "h", "signature": "standard", "secret": ")" + secret + "\"}"));
    REQUIRE_FALSE(spec);
    CHECK(spec.error().field == "secret");
    CHECK_THAT(spec.error().message, Catch::Contains("whsec_"));
  }
  auto other = parse_webhook_spec(params(with_standard(R"("deliveryHeader": "X-GitHub-Delivery")")));
  REQUIRE_FALSE(other);
  CHECK(other.error().field == "deliveryHeader");
}

TEST_CASE("an unknown signature scheme is refused naming the three there are", "[webhook_spec]") {
  auto spec = parse_webhook_spec(params(R"({"hookId": "h", "signature": "ed25519", "secret": "0123456789abcdef01"})"));
  REQUIRE_FALSE(spec);
  CHECK(spec.error().field == "signature");
  CHECK_THAT(spec.error().message, Catch::Contains("\"standard\""));
}

TEST_CASE("a generated secret fits the registration's signature scheme", "[webhook_spec]") {
  auto standard = generate_webhook_secret(params(R"({"signature": "standard"})"));
  CHECK(standard_secret_key(standard));
  auto hmac = generate_webhook_secret(params("{}"));
  CHECK(hmac.size() == 2 * webhook_secret_bytes);
  CHECK(parse_webhook_spec(params(R"({"hookId": "h", "signature": "standard", "secret": ")" + standard + "\"}")));
}
