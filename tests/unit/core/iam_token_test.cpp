#include "core/iam_token.hpp"

#include <catch2/catch.hpp>

using namespace feedrouter;
using namespace std::chrono_literals;

TEST_CASE("the exchange is the form IBM's token service takes", "[iam]") {
  CHECK(iam_token_request_body("a b&c") == "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey"
                                           "&response_type=cloud_iam&apikey=a%20b%26c");
}

TEST_CASE("a token is renewed after 80 % of its life", "[iam]") {
  auto token = read_iam_token(R"({"access_token":"t","expires_in":3600,"expiration":1700000000})");
  REQUIRE(token);
  CHECK(token->access_token == "t");
  CHECK(token->renew_after == 2880s);
  auto unknown = read_iam_token(R"({"access_token":"t"})");
  REQUIRE(unknown);
  CHECK(unknown->renew_after == 2880s);
  auto long_lived = read_iam_token(R"({"access_token":"t","expires_in":99999999})");
  REQUIRE(long_lived);
  CHECK(long_lived->renew_after == std::chrono::duration_cast<std::chrono::milliseconds>(iam_max_lifetime * 0.8));
  CHECK(bearer_authorization("t") == "Bearer t");
}

TEST_CASE("an answer without a usable token names iamApiKey and quotes nothing", "[iam]") {
  for (auto body : {"", "[]", R"({"token":"x"})", R"({"access_token":""})", R"({"access_token":5})"}) {
    auto token = read_iam_token(body);
    INFO(body);
    REQUIRE_FALSE(token);
    CHECK(token.error().field == "iamApiKey");
  }
  auto secret = read_iam_token(R"({"apikey":"secret-key"})");
  REQUIRE_FALSE(secret);
  CHECK(secret.error().message.find("secret-key") == std::string::npos);
}
