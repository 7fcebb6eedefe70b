#include "actors/sources/poll.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

const char feed_params[] = R"({"url": "http://127.0.0.1:8080/feed?page=1", "intervalSeconds": 30,
                               "itemsPointer": "/items", "idPointer": "/id",
                               "headers": {"Authorization": "Bearer t"}})";

/// Returns a newest-first document listing the items with ids `ids`.
std::string feed(const std::vector<int>& ids) {
  json_writer out;
  out.begin_object().key("items").begin_array();
  for (auto id : ids)
    out.begin_object().key("id").value(id).end_object();
  out.end_array().end_object();
  return out.take();
}

http_fields etag(std::string value) {
  return {{"ETag", std::move(value)}};
}

} // namespace

TEST_CASE_METHOD(source_fixture, "the first poll runs at once, sets the baseline and fires nothing", "[poll_source]") {
  spawn_poll(feed_params);
  REQUIRE(client->pending() == 1);
  const auto& req = client->next_request();
  CHECK(req.message.method == "GET");
  CHECK(req.destination.origin() == "http://127.0.0.1:8080");
  CHECK(req.destination.target == "/feed?page=1");
  CHECK(req.timeout == 10s);
  CHECK(req.message.field("Authorization") == "Bearer t");
  CHECK(req.message.field("If-None-Match").empty());
  CHECK(req.message.field("If-Modified-Since").empty());
  respond(200, feed({3, 2, 1}), etag("\"v1\""));
  REQUIRE(log->committed.size() == 1);
  CHECK(log->committed[0].empty());
  CHECK_FALSE(log->checkpoint().empty());
  CHECK(log->statuses.empty());
}

TEST_CASE_METHOD(source_fixture, "new items fire oldest first with trigger_payload merged in", "[poll_source]") {
  spawn_poll(feed_params, {}, R"({"team":"a"})");
  respond(200, feed({2, 1}), etag("\"v1\""));
  advance(30s);
  REQUIRE(client->pending() == 1);
  CHECK(client->next_request().message.field("If-None-Match") == "\"v1\"");
  respond(200, feed({4, 3, 2, 1}), etag("\"v2\""));
  CHECK(log->bodies() == std::vector<std::string>{R"({"id":3,"team":"a"})", R"({"id":4,"team":"a"})"});
  advance(30s);
  CHECK(client->next_request().message.field("If-None-Match") == "\"v2\"");
  respond(200, feed({4, 3, 2, 1}), etag("\"v2\""));
  CHECK(log->bodies().size() == 2);
}

TEST_CASE_METHOD(source_fixture, "a 304 fires nothing and the next poll asks again", "[poll_source]") {
  spawn_poll(feed_params);
  respond(200, feed({1}), {{"ETag", "\"v1\""}, {"Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"}});
  advance(30s);
  const auto& req = client->next_request();
  CHECK(req.message.field("If-None-Match") == "\"v1\"");
  CHECK(req.message.field("If-Modified-Since") == "Wed, 21 Oct 2015 07:28:00 GMT");
  respond(304);
  CHECK(log->committed.size() == 1);
  advance(30s);
  CHECK(client->pending() == 1);
  CHECK(client->next_request().message.field("If-None-Match") == "\"v1\"");
}

TEST_CASE_METHOD(source_fixture, "polls never overlap: the interval counts from the end of a poll", "[poll_source]") {
  spawn_poll(feed_params);
  advance(90s);
  CHECK(client->sent() == 1);
  respond(200, feed({1}));
  advance(29s);
  CHECK(client->pending() == 0);
  advance(1s);
  CHECK(client->pending() == 1);
  CHECK(client->sent() == 2);
}

TEST_CASE_METHOD(source_fixture, "a restart neither fires old items again nor misses new ones", "[poll_source]") {
  auto first = spawn_poll(feed_params);
  respond(200, feed({2, 1}), etag("\"v1\""));
  advance(30s);
  respond(200, feed({3, 2, 1}), etag("\"v2\""));
  REQUIRE(log->bodies() == std::vector<std::string>{R"({"id":3})"});
  stop(first);
  // Items 4 and 5 appear while the source is down.
  spawn_poll(feed_params, log->checkpoint());
  REQUIRE(client->pending() == 1);
  CHECK(client->next_request().message.field("If-None-Match") == "\"v2\"");
  respond(200, feed({5, 4, 3, 2, 1}), etag("\"v3\""));
  CHECK(log->bodies() == std::vector<std::string>{R"({"id":3})", R"({"id":4})", R"({"id":5})"});
}

TEST_CASE_METHOD(source_fixture, "a checkpoint of another url starts a new baseline", "[poll_source]") {
  auto first = spawn_poll(feed_params);
  respond(200, feed({1}));
  stop(first);
  spawn_poll(R"({"url": "http://127.0.0.1:8080/other", "intervalSeconds": 30, "itemsPointer": "/items",
                 "idPointer": "/id"})",
             log->checkpoint());
  respond(200, feed({9, 8}));
  REQUIRE(log->committed.size() == 2);
  CHECK(log->committed[1].empty());
}

TEST_CASE_METHOD(source_fixture, "many new items go in several commits from one fetch", "[poll_source]") {
  spawn_poll(feed_params);
  respond(200, feed({0}), etag("\"v1\""));
  std::vector<int> ids;
  const int count = 2 * static_cast<int>(items_per_commit) + 50;
  for (int id = count; id >= 0; --id)
    ids.push_back(id);
  advance(30s);
  respond(200, feed(ids), etag("\"v2\""));
  REQUIRE(log->committed.size() == 4);
  CHECK(log->committed[1].size() == items_per_commit);
  CHECK(log->committed[3].size() == 50);
  auto bodies = log->bodies();
  REQUIRE(bodies.size() == static_cast<std::size_t>(count));
  CHECK(bodies.front() == R"({"id":1})");
  CHECK(bodies.back() == "{\"id\":" + std::to_string(count) + "}");
  CHECK(client->sent() == 2);
  advance(30s);
  CHECK(client->next_request().message.field("If-None-Match") == "\"v2\"");
}

TEST_CASE_METHOD(source_fixture, "without itemsPointer a changed document fires once", "[poll_source]") {
  spawn_poll(R"({"url": "http://127.0.0.1:8080/status", "intervalSeconds": 5})");
  respond(200, R"({"build": 1})");
  advance(5s);
  respond(200, R"({"build": 1})");
  advance(5s);
  respond(200, R"({"build": 2})");
  CHECK(log->bodies() == std::vector<std::string>{R"({"build":2})"});
}
