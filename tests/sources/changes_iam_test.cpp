// A changes source with `iamApiKey`: the key is exchanged for a bearer token before the first request, the token is
// renewed before it expires, a 401 gets one more try with a new token, and a refused key disables the registration.

#include "actors/sources/changes.hpp"

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "changes_rows.hpp"
#include "core/iam_token.hpp"
#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr char iam_params[] = R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "heartbeatSeconds": 10,
  "since": 0, "iamApiKey": "key/with:chars", "iamUrl": "http://127.0.0.1:9999/token"})";

/// Returns the token service's answer for `token` living `seconds`.
std::string token_answer(const std::string& token, int seconds = 100) {
  return R"({"access_token":")" + token + R"(","refresh_token":"r","token_type":"Bearer","expires_in":)"
         + std::to_string(seconds) + R"(,"expiration":1,"scope":"ibm openid"})";
}

} // namespace

TEST_CASE_METHOD(source_fixture, "the IAM key is exchanged for a token that every database request then carries",
                 "[changes_source][iam]") {
  spawn_changes(iam_params);
  REQUIRE(client->pending() == 1);
  const auto& exchange = client->next_request();
  CHECK(exchange.message.method == "POST");
  CHECK(exchange.destination.origin() == "http://127.0.0.1:9999");
  CHECK(exchange.destination.target == "/token");
  CHECK(exchange.message.field("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(exchange.message.body
        == "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&response_type=cloud_iam"
           "&apikey=key%2Fwith%3Achars");
  CHECK(client->streams().empty());
  respond(200, token_answer("tok-1"));
  REQUIRE(client->streams().size() == 1);
  CHECK(stream().request().message.field("Authorization") == "Bearer tok-1");
  CHECK(stream().request().destination.target == feed_target + std::string{"0"});
}

TEST_CASE_METHOD(source_fixture, "a reconnect after 80 % of the token's life takes a new token first",
                 "[changes_source][iam]") {
  spawn_changes(iam_params);
  respond(200, token_answer("tok-1", 10));
  REQUIRE(client->streams().size() == 1);
  stream_head(200);
  // Well within the token's life: the reconnect reuses it.
  advance(5s);
  stream_fail("read: end of stream", transport_failure::connection_lost);
  advance(2s);
  REQUIRE(client->streams().size() == 2);
  CHECK(client->pending() == 0);
  CHECK(stream().request().message.field("Authorization") == "Bearer tok-1");
  stream_head(200);
  // Past 8 s of its 10: renewed before the feed opens again, so no request ever carries an expiring token.
  advance(4s);
  stream_fail("read: end of stream", transport_failure::connection_lost);
  advance(2s);
  REQUIRE(client->pending() == 1);
  CHECK(client->next_request().destination.target == "/token");
  CHECK(client->streams().size() == 2);
  respond(200, token_answer("tok-2", 10));
  REQUIRE(client->streams().size() == 3);
  CHECK(stream().request().message.field("Authorization") == "Bearer tok-2");
}

TEST_CASE_METHOD(source_fixture, "a 401 is tried once more with a new token, a second one disables",
                 "[changes_source][iam]") {
  spawn_changes(iam_params);
  respond(200, token_answer("tok-1"));
  stream_head(401, R"({"error":"unauthorized"})");
  REQUIRE(client->pending() == 1);
  CHECK(client->next_request().destination.target == "/token");
  CHECK(log->disables.empty());
  respond(200, token_answer("tok-2"));
  CHECK(stream().request().message.field("Authorization") == "Bearer tok-2");
  stream_head(401, R"({"error":"unauthorized"})");
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].first == 401);
}

TEST_CASE_METHOD(source_fixture, "a key the token service refuses disables the registration without quoting it",
                 "[changes_source][iam]") {
  spawn_changes(iam_params);
  respond(400, R"({"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found: key/with:chars"})");
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].first == 400);
  CHECK(log->disables[0].second.find("key/with") == std::string::npos);
  CHECK(log->disables[0].second.find("iamApiKey") != std::string::npos);
  CHECK(client->streams().empty());
}

TEST_CASE_METHOD(source_fixture, "a token service that is down is retried with back-off and shown",
                 "[changes_source][iam]") {
  spawn_changes(iam_params);
  respond(503, "overloaded");
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0] == "the IAM token service answered 503");
  advance(1s);
  REQUIRE(client->pending() == 1);
  CHECK(client->next_request().destination.target == "/token");
  respond(200, "{}");
  CHECK(log->statuses.back().find("access_token") != std::string::npos);
}
