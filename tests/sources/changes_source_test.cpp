#include "actors/sources/changes.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "changes_rows.hpp"
#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

TEST_CASE_METHOD(source_fixture, "since=now reads the end of the database and has it stored before the feed opens",
                 "[changes_source]") {
  log->hold_items = true;
  spawn_changes(db_params);
  REQUIRE(client->pending() == 1);
  const auto& req = client->next_request();
  CHECK(req.message.method == "GET");
  CHECK(req.destination.origin() == "http://127.0.0.1:5984");
  CHECK(req.destination.target == "/orders/_changes?since=now&limit=1");
  CHECK(req.message.field("Authorization").empty());
  CHECK(req.timeout == 15s);
  CHECK(client->streams().empty());
  respond(200, R"({"results":[],"last_seq":7})");
  CHECK(log->held == 1);
  CHECK(log->committed.empty());
  CHECK(client->streams().empty());
  release_items();
  REQUIRE(log->committed.size() == 1);
  CHECK(log->committed[0].empty());
  CHECK(log->checkpoints == std::vector<std::string>{orders_at("7")});
  REQUIRE(client->streams().size() == 1);
  CHECK(stream().request().destination.target == feed_target + std::string{"7"});
  CHECK(log->statuses.empty());
  CHECK(log->events.empty());
  CHECK(client->sent() == 1);
}

TEST_CASE_METHOD(source_fixture, "an opaque last_seq of CouchDB 2 becomes the baseline as a string",
                 "[changes_source]") {
  spawn_changes(db_params);
  respond(200, R"({"results":[{"seq":"12-g1AAAAB","id":"a","changes":[]}],"last_seq":"12-g1AAAAB"})");
  CHECK(log->checkpoints == std::vector<std::string>{orders_at("12-g1AAAAB")});
  REQUIRE(client->streams().size() == 1);
  CHECK(stream().request().destination.target == feed_target + std::string{"12-g1AAAAB"});
}

TEST_CASE_METHOD(source_fixture, "a refused baseline is read and offered again a second later, without an error",
                 "[changes_source]") {
  log->refuse_items = true;
  spawn_changes(db_params);
  respond(200, R"({"results":[],"last_seq":7})");
  CHECK(log->refused == 1);
  CHECK(log->statuses.empty());
  CHECK(client->streams().empty());
  CHECK(client->pending() == 0);
  log->refuse_items = false;
  advance(999ms);
  CHECK(client->pending() == 0);
  advance(1ms);
  REQUIRE(client->pending() == 1);
  CHECK(client->next_request().destination.target == "/orders/_changes?since=now&limit=1");
  respond(200, R"({"results":[],"last_seq":9})");
  CHECK(log->checkpoints == std::vector<std::string>{orders_at("9")});
  REQUIRE(client->streams().size() == 1);
  CHECK(stream().request().destination.target == feed_target + std::string{"9"});
  CHECK(log->statuses.empty());
  CHECK(log->refused == 1);
}

TEST_CASE_METHOD(source_fixture, "a checkpoint of the same database resumes from its seq without a baseline",
                 "[changes_source]") {
  spawn_changes(db_params, orders_at("42-g1AAAA"));
  CHECK(client->sent() == 0);
  REQUIRE(client->streams().size() == 1);
  CHECK(stream().request().destination.target == feed_target + std::string{"42-g1AAAA"});
  CHECK(log->committed.empty());
}

TEST_CASE_METHOD(source_fixture, "a checkpoint of another database starts from since", "[changes_source]") {
  const std::string invoices = R"({"source":"http://127.0.0.1:5984/invoices","seq":"42"})";
  SECTION("an explicit since") {
    spawn_changes(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "heartbeatSeconds": 10, "since": 5})",
                  invoices);
    CHECK(client->sent() == 0);
    REQUIRE(client->streams().size() == 1);
    CHECK(stream().request().destination.target == feed_target + std::string{"5"});
  }
  SECTION("since=now reads a new baseline") {
    spawn_changes(db_params, invoices);
    CHECK(client->streams().empty());
    REQUIRE(client->pending() == 1);
    CHECK(client->next_request().destination.target == "/orders/_changes?since=now&limit=1");
  }
  SECTION("another server with the same dbname") {
    spawn_changes(R"({"url": "http://127.0.0.1:5985", "dbname": "orders", "heartbeatSeconds": 10, "since": 5})",
                  orders_at("42"));
    REQUIRE(client->streams().size() == 1);
    CHECK(stream().request().destination.target == feed_target + std::string{"5"});
  }
}

TEST_CASE_METHOD(source_fixture, "since 0 opens the feed at once with a plain GET", "[changes_source]") {
  spawn_changes(from_zero);
  CHECK(client->sent() == 0);
  REQUIRE(client->streams().size() == 1);
  const auto& req = stream().request();
  CHECK(req.message.method == "GET");
  CHECK(req.destination.origin() == "http://127.0.0.1:5984");
  CHECK(req.destination.target == feed_target + std::string{"0"});
  CHECK(req.message.body.empty());
  CHECK(req.message.field("Content-Type").empty());
  CHECK(req.message.field("Authorization").empty());
  CHECK(req.message.field("Accept") == "application/json");
  CHECK(req.connect_timeout == 15s);
  CHECK(req.idle_timeout == 20s);
}

TEST_CASE_METHOD(source_fixture, "the idle limit is two heartbeats", "[changes_source]") {
  spawn_changes(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "since": 0})");
  CHECK(stream().request().idle_timeout == 60s);
  CHECK(stream().request().destination.target == "/orders/_changes?feed=continuous&heartbeat=30000&since=0");
}

TEST_CASE_METHOD(source_fixture, "a selector is POSTed in the body, with Basic credentials", "[changes_source]") {
  spawn_changes(R"({"url": "https://db.example.com/couch/", "dbname": "orders", "username": "alice",
                    "password": "secret", "selector": {"type": "order"}, "heartbeatSeconds": 5, "since": 0})");
  REQUIRE(client->streams().size() == 1);
  const auto& req = stream().request();
  CHECK(req.message.method == "POST");
  CHECK(req.destination.origin() == "https://db.example.com:443");
  CHECK(req.destination.target
        == "/couch/orders/_changes?feed=continuous&heartbeat=5000&since=0&filter=_selector"
           "&selector=%7B%22type%22%3A%22order%22%7D");
  CHECK(req.message.body == R"({"selector":{"type":"order"}})");
  CHECK(req.message.field("Content-Type") == "application/json");
  CHECK(req.message.field("Authorization") == "Basic YWxpY2U6c2VjcmV0");
  CHECK(req.idle_timeout == 10s);
}

TEST_CASE_METHOD(source_fixture, "the baseline GET carries the credentials too", "[changes_source]") {
  spawn_changes(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "username": "alice",
                    "password": "secret"})");
  REQUIRE(client->pending() == 1);
  CHECK(client->next_request().message.method == "GET");
  CHECK(client->next_request().message.field("Authorization") == "Basic YWxpY2U6c2VjcmV0");
  CHECK(client->next_request().message.body.empty());
}

TEST_CASE_METHOD(source_fixture, "no line is read before the parent grants credit", "[changes_source]") {
  spawn_changes(from_zero);
  grant(0);
  stream_head(200);
  CHECK(stream().reads() == 0);
  CHECK_FALSE(stream().read_pending());
  grant(2);
  CHECK(stream().reads() == 1);
  CHECK(stream().read_pending());
  // A further grant while a read is out asks nothing more.
  grant(1);
  CHECK(stream().reads() == 1);
  CHECK(log->statuses.empty());
}

TEST_CASE_METHOD(source_fixture, "credit granted before the head is used once the feed is open", "[changes_source]") {
  spawn_changes(from_zero);
  grant(1);
  CHECK(stream().reads() == 0);
  stream_head(200);
  CHECK(stream().reads() == 1);
}

TEST_CASE_METHOD(source_fixture, "credit bounds the events handed over, which come in seq order", "[changes_source]") {
  spawn_changes(from_zero, {}, R"({"team":"a"})");
  stream_head(200);
  grant(2);
  stream_lines({change(8, "a"), change(9, "b"), change(10, "c")});
  CHECK(log->event_bodies()
        == std::vector<std::string>{
          R"({"seq":8,"id":"a","changes":[{"rev":"1-a"}],"dbname":"orders","team":"a"})",
          R"({"seq":9,"id":"b","changes":[{"rev":"1-b"}],"dbname":"orders","team":"a"})"});
  CHECK(log->event_checkpoints() == std::vector<std::string>{orders_at("8"), orders_at("9")});
  // Change 10 waits for credit: nothing more is read.
  CHECK(stream().reads() == 1);
  CHECK_FALSE(stream().read_pending());
  grant(1);
  REQUIRE(log->events.size() == 3);
  CHECK(log->events[2].first == R"({"seq":10,"id":"c","changes":[{"rev":"1-c"}],"dbname":"orders","team":"a"})");
  CHECK(log->events[2].second == orders_at("10"));
  // That used the credit up.
  CHECK(stream().reads() == 1);
  CHECK_FALSE(stream().read_pending());
  grant(1);
  CHECK(stream().reads() == 2);
  CHECK(stream().read_pending());
  CHECK(log->committed.empty());
  CHECK(log->statuses.empty());
}

TEST_CASE_METHOD(source_fixture, "a read is asked again at once while credit remains", "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(5);
  stream_lines({change(1, "a")});
  CHECK(log->events.size() == 1);
  CHECK(stream().reads() == 2);
  CHECK(stream().read_pending());
  stream_lines({change(2, "b"), change(3, "c")});
  CHECK(log->events.size() == 3);
  CHECK(stream().reads() == 3);
  stream_lines({change(4, "d"), change(5, "e"), change(6, "f")});
  CHECK(log->event_checkpoints()
        == std::vector<std::string>{orders_at("1"), orders_at("2"), orders_at("3"), orders_at("4"), orders_at("5")});
  CHECK(stream().reads() == 3);
  CHECK_FALSE(stream().read_pending());
}

TEST_CASE_METHOD(source_fixture, "an opaque seq is handed over as the checkpoint's string", "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(1);
  stream_lines({R"({"seq":"13-g1AAAA","id":"x","changes":[{"rev":"2-b"}],"deleted":true})"});
  REQUIRE(log->events.size() == 1);
  CHECK(log->events[0].first == R"({"seq":"13-g1AAAA","id":"x","changes":[{"rev":"2-b"}],"deleted":true,)"
                                R"("dbname":"orders"})");
  CHECK(log->events[0].second == orders_at("13-g1AAAA"));
}

TEST_CASE_METHOD(source_fixture, "the row's own members win over trigger_payload", "[changes_source]") {
  spawn_changes(from_zero, {}, R"({"id":"not-this","dbname":"nor-this","team":"a"})");
  stream_head(200);
  grant(1);
  stream_lines({change(3, "a")});
  CHECK(log->event_bodies()
        == std::vector<std::string>{R"({"seq":3,"id":"a","changes":[{"rev":"1-a"}],"dbname":"orders","team":"a"})"});
}

TEST_CASE_METHOD(source_fixture, "a last_seq line fires nothing", "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(2);
  stream_lines({change(4, "a"), R"({"last_seq":4})"});
  CHECK(log->event_checkpoints() == std::vector<std::string>{orders_at("4")});
  CHECK(stream().reads() == 2);
  stream_lines({R"({"last_seq":"5-g1AAAA"})"});
  CHECK(log->events.size() == 1);
  CHECK(stream().reads() == 3);
  CHECK(log->statuses.empty());
  CHECK(client->streams().size() == 1);
}

TEST_CASE_METHOD(source_fixture, "stopping the parent closes the stream", "[changes_source]") {
  auto parent = spawn_changes(from_zero);
  stream_head(200);
  grant(1);
  CHECK_FALSE(stream().closed());
  stop(parent);
  CHECK(stream().closed());
  advance(1h);
  CHECK(client->streams().size() == 1);
  CHECK(client->sent() == 0);
}

TEST_CASE_METHOD(source_fixture, "stopping the parent while the feed connects closes the stream", "[changes_source]") {
  auto parent = spawn_changes(from_zero);
  stop(parent);
  CHECK(stream().closed());
}

TEST_CASE_METHOD(source_fixture, "a restart resumes after the last event handed over", "[changes_source]") {
  auto first = spawn_changes(db_params);
  respond(200, R"({"results":[],"last_seq":7})");
  stream_head(200);
  grant(2);
  stream_lines({change(8, "a"), change(9, "b"), change(10, "c")});
  REQUIRE(log->events.size() == 2);
  stop(first);
  spawn_changes(db_params, log->events.back().second);
  CHECK(client->sent() == 1);
  REQUIRE(client->streams().size() == 2);
  CHECK(stream().request().destination.target == feed_target + std::string{"9"});
}
