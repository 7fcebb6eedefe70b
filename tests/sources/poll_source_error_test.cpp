#include "actors/sources/poll.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

const char feed_params[] = R"({"url": "http://127.0.0.1:8080/feed", "intervalSeconds": 10, "itemsPointer": "/items",
                               "idPointer": "/id"})";

const char one_item[] = R"({"items": [{"id": 1}]})";
const char two_items[] = R"({"items": [{"id": 2}, {"id": 1}]})";

} // namespace

TEST_CASE_METHOD(source_fixture, "5xx and network errors are shown and retried at the next interval",
                 "[poll_source]") {
  spawn_poll(feed_params);
  respond(503, "down for maintenance");
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0].find("503") != std::string::npos);
  advance(10s);
  REQUIRE(client->pending() == 1);
  client->fail("connect: Connection refused");
  run();
  REQUIRE(log->statuses.size() == 2);
  CHECK(log->statuses[1] == "GET failed: no HTTP response (cannot connect, timed out or not HTTP)");
  advance(10s);
  respond(200, one_item);
  CHECK(log->statuses.size() == 3);
  CHECK(log->statuses[2].empty());
  CHECK(log->committed.size() == 1);
  CHECK(log->disables.empty());
  advance(10s);
  respond(200, one_item);
  CHECK(log->statuses.size() == 3);
}

TEST_CASE_METHOD(source_fixture, "three 404s in a row disable the registration and stop the polls", "[poll_source]") {
  spawn_poll(feed_params);
  for (int i = 0; i < 3; ++i) {
    CHECK(log->disables.empty());
    if (i > 0)
      advance(10s);
    respond(404, "not found");
  }
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].first == 404);
  CHECK(log->disables[0].second.find("404") != std::string::npos);
  CHECK(log->statuses.size() == 3);
  advance(10min);
  CHECK(client->pending() == 0);
  CHECK(client->sent() == 3);
}

TEST_CASE_METHOD(source_fixture, "a 5xx between refusals neither counts nor breaks the row", "[poll_source]") {
  spawn_poll(feed_params);
  respond(401);
  advance(10s);
  respond(500);
  advance(10s);
  respond(403);
  CHECK(log->disables.empty());
  advance(10s);
  respond(403);
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].first == 403);
}

TEST_CASE_METHOD(source_fixture, "a successful poll breaks the row of refusals", "[poll_source]") {
  spawn_poll(feed_params);
  for (int status : {404, 404, 200, 404, 404}) {
    respond(status, status == 200 ? one_item : "");
    advance(10s);
  }
  CHECK(log->disables.empty());
  respond(404);
  CHECK(log->disables.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "failuresBeforeDisable 1 disables at the first refusal", "[poll_source]") {
  spawn_poll(R"({"url": "http://127.0.0.1:8080/feed", "intervalSeconds": 10, "failuresBeforeDisable": 1})");
  respond(401);
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].first == 401);
}

TEST_CASE_METHOD(source_fixture, "a refused commit keeps the old state, so the items come again", "[poll_source]") {
  spawn_poll(feed_params);
  respond(200, one_item, {{"ETag", "\"v1\""}});
  log->refuse_items = true;
  advance(10s);
  respond(200, two_items, {{"ETag", "\"v2\""}});
  CHECK(log->refused == 1);
  CHECK(log->bodies().empty());
  log->refuse_items = false;
  advance(10s);
  // The refused document's validators were not taken: a 304 would have hidden item 2.
  CHECK(client->next_request().message.field("If-None-Match") == "\"v1\"");
  respond(200, two_items, {{"ETag", "\"v2\""}});
  CHECK(log->bodies() == std::vector<std::string>{R"({"id":2})"});
}

TEST_CASE_METHOD(source_fixture, "a refused baseline is taken at the next poll", "[poll_source]") {
  log->refuse_items = true;
  spawn_poll(feed_params);
  respond(200, one_item);
  log->refuse_items = false;
  advance(10s);
  respond(200, two_items);
  REQUIRE(log->committed.size() == 1);
  CHECK(log->committed[0].empty());
}

TEST_CASE_METHOD(source_fixture, "a document that does not fit the spec is shown as an error", "[poll_source]") {
  spawn_poll(feed_params);
  respond(200, R"({"entries": []})");
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0].find("itemsPointer") != std::string::npos);
  advance(10s);
  respond(200, "<html>maintenance</html>");
  REQUIRE(log->statuses.size() == 2);
  CHECK(log->statuses[1].find("not valid JSON") != std::string::npos);
  CHECK(log->committed.empty());
  advance(10s);
  respond(200, one_item);
  CHECK(log->committed.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "a redirect is not followed and counts as a failed poll", "[poll_source]") {
  spawn_poll(feed_params);
  respond(301, "", {{"Location", "http://127.0.0.1:8080/elsewhere"}});
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0].find("301") != std::string::npos);
  CHECK(log->disables.empty());
}

TEST_CASE_METHOD(source_fixture, "a parent with a small buffer gets ever smaller requests until one fits",
                 "[poll_source]") {
  log->max_bodies = 20;
  spawn_poll(feed_params);
  respond(200, one_item);
  std::string many = R"({"items": [)";
  for (int id = 60; id >= 1; --id)
    many += "{\"id\":" + std::to_string(id) + (id > 1 ? "}," : "}");
  many += "]}";
  // 100 and 50 do not fit; 25 does not either; 12 does.
  for (int attempt = 0; attempt < 3; ++attempt) {
    advance(10s);
    respond(200, many);
  }
  CHECK(log->refused == 3);
  CHECK(log->bodies().empty());
  advance(10s);
  respond(200, many);
  auto bodies = log->bodies();
  REQUIRE(bodies.size() == 59);
  CHECK(bodies.front() == R"({"id":2})");
  CHECK(bodies.back() == R"({"id":60})");
  CHECK(log->refused == 3);
}

TEST_CASE_METHOD(source_fixture, "without an HTTP client every poll fails visibly", "[poll_source]") {
  spawn_poll_without_client(feed_params);
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0].find("HTTP client") != std::string::npos);
  advance(10s);
  CHECK(log->statuses.size() == 2);
  CHECK(log->disables.empty());
}

TEST_CASE_METHOD(source_fixture, "a server's error body is never shown, only its status", "[poll_source][egress]") {
  spawn_poll(feed_params);
  respond(500, "internal stacktrace: SECRET_TOKEN=abc123");
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0] == "the polled URL answered 500");
  advance(10s);
  respond(403, R"({"error": "forbidden", "reason": "SECRET_TOKEN=abc123"})");
  REQUIRE(log->statuses.size() == 2);
  CHECK(log->statuses[1] == "the polled URL answered 403");
}

TEST_CASE_METHOD(source_fixture, "refused, timed out and not-HTTP failures read the same, the policy's refusal apart",
                 "[poll_source][egress]") {
  spawn_poll(feed_params);
  for (const auto* detail : {"connect: Connection refused", "timeout", "read: bad version", "read: end of stream"}) {
    client->fail(detail);
    run();
    advance(10s);
  }
  client->fail("not allowed by the egress policy", transport_failure::not_allowed);
  run();
  REQUIRE(log->statuses.size() == 5);
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(log->statuses[i] == "GET failed: no HTTP response (cannot connect, timed out or not HTTP)");
  CHECK(log->statuses[4] == "GET failed: not allowed by the egress policy");
}
