#include "actors/sources/changes.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "changes_rows.hpp"
#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

const char not_found[] = R"({"error":"not_found","reason":"missing"})";

/// What a tenant is shown for any failure to get an HTTP response.
const std::string no_response = "no HTTP response (cannot connect, timed out or not HTTP)";

} // namespace

TEST_CASE_METHOD(source_fixture, "an idle timeout is shown and the feed reconnects from the last event",
                 "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(3);
  stream_lines({change(8, "a"), change(9, "b")});
  REQUIRE(stream().read_pending());
  stream_fail("idle timeout", transport_failure::idle);
  CHECK(log->statuses == std::vector<std::string>{"changes feed: nothing arrived within the idle timeout"});
  CHECK(client->streams()[0]->closed());
  CHECK(client->streams().size() == 1);
  // The first back-off is at most a second.
  advance(1s);
  REQUIRE(client->streams().size() == 2);
  CHECK(stream().request().destination.target == target_since("9"));
  CHECK(log->statuses.size() == 1);
  stream_head(200);
  CHECK(log->statuses == std::vector<std::string>{"changes feed: nothing arrived within the idle timeout", ""});
  // The credit left over is used on the new connection.
  CHECK(stream().read_pending());
  stream_lines({change(10, "c")});
  CHECK(log->event_checkpoints() == std::vector<std::string>{orders_at("8"), orders_at("9"), orders_at("10")});
  CHECK(log->statuses.size() == 2);
  CHECK(log->disables.empty());
}

TEST_CASE_METHOD(source_fixture,
                 "an error line is shown without its text, changes before it are handed over, those after it read "
                 "again",
                 "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(3);
  stream_lines({change(8, "a"), change(9, "b")});
  stream_lines({change(10, "c"), R"({"error":"x","reason":"y"})", change(11, "d")});
  CHECK(log->statuses == std::vector<std::string>{"the changes feed sent an error line"});
  CHECK(log->event_checkpoints() == std::vector<std::string>{orders_at("8"), orders_at("9"), orders_at("10")});
  CHECK(client->streams()[0]->closed());
  advance(1s);
  REQUIRE(client->streams().size() == 2);
  // Change 11 came after the error line: it is read again from the new connection.
  CHECK(stream().request().destination.target == target_since("10"));
  stream_head(200);
  grant(1);
  stream_lines({change(11, "d")});
  CHECK(log->event_checkpoints()
        == std::vector<std::string>{orders_at("8"), orders_at("9"), orders_at("10"), orders_at("11")});
  CHECK(log->statuses == std::vector<std::string>{"the changes feed sent an error line", ""});
}

TEST_CASE_METHOD(source_fixture, "a line that is not JSON is shown as an error of the feed", "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(1);
  stream_lines({"<html>"});
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0].rfind("changes feed: the feed sent a line that is not a JSON object", 0) == 0);
  CHECK(stream().closed());
  advance(1s);
  CHECK(client->streams().size() == 2);
}

TEST_CASE_METHOD(source_fixture, "changes waiting for credit are dropped with a failed connection",
                 "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(2);
  stream_lines({change(8, "a"), change(9, "b"), change(10, "c")});
  REQUIRE(log->events.size() == 2);
  // The scripted stream may fail without a pending read; the source must still not lose change 10.
  stream_fail("read: Connection reset by peer", transport_failure::connection_lost);
  CHECK(log->statuses == std::vector<std::string>{"changes feed: the connection was lost"});
  grant(1);
  CHECK(log->events.size() == 2);
  advance(1s);
  REQUIRE(client->streams().size() == 2);
  CHECK(stream().request().destination.target == target_since("9"));
  stream_head(200);
  stream_lines({change(10, "c")});
  CHECK(log->event_checkpoints() == std::vector<std::string>{orders_at("8"), orders_at("9"), orders_at("10")});
}

TEST_CASE_METHOD(source_fixture, "the end of the feed reconnects from the last event", "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(5);
  stream_lines({change(8, "a")});
  stream_lines({R"({"last_seq":8})"}, true);
  CHECK(log->statuses == std::vector<std::string>{"the database ended the changes feed"});
  CHECK(client->streams()[0]->closed());
  CHECK(log->events.size() == 1);
  advance(1s);
  REQUIRE(client->streams().size() == 2);
  CHECK(stream().request().destination.target == target_since("8"));
  stream_head(200);
  CHECK(log->statuses == std::vector<std::string>{"the database ended the changes feed", ""});
  CHECK(stream().read_pending());
}

TEST_CASE_METHOD(source_fixture, "changes that come with the end are handed over before the reconnect",
                 "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(200);
  grant(2);
  stream_lines({change(8, "a")});
  // Credit covers one of the two: it is handed over, the other is read again from the next connection.
  stream_lines({change(9, "b"), change(10, "c")}, true);
  CHECK(client->streams()[0]->closed());
  CHECK(log->event_checkpoints() == std::vector<std::string>{orders_at("8"), orders_at("9")});
  advance(1s);
  REQUIRE(client->streams().size() == 2);
  CHECK(stream().request().destination.target == target_since("9"));
  stream_head(200);
  grant(1);
  stream_lines({change(10, "c")});
  CHECK(log->event_checkpoints() == std::vector<std::string>{orders_at("8"), orders_at("9"), orders_at("10")});
}

TEST_CASE_METHOD(source_fixture, "a 5xx head is shown by its status, never its body, and the feed reconnects",
                 "[changes_source]") {
  spawn_changes(from_zero);
  grant(1);
  stream_head(503, R"({"error":"service_unavailable","reason":"overloaded"})");
  CHECK(log->statuses == std::vector<std::string>{"the database answered 503"});
  CHECK(log->disables.empty());
  CHECK(stream().closed());
  advance(1s);
  REQUIRE(client->streams().size() == 2);
  CHECK(stream().request().destination.target == target_since("0"));
  stream_head(200);
  CHECK(log->statuses == std::vector<std::string>{"the database answered 503", ""});
  CHECK(stream().read_pending());
}

TEST_CASE_METHOD(source_fixture, "a 5xx head without a JSON body is shown by its status", "[changes_source]") {
  spawn_changes(from_zero);
  stream_head(502, "<html>Bad Gateway</html>");
  CHECK(log->statuses == std::vector<std::string>{"the database answered 502"});
  CHECK(stream().closed());
  advance(1s);
  CHECK(client->streams().size() == 2);
}

TEST_CASE_METHOD(source_fixture, "a refusing head disables the registration and is not retried", "[changes_source]") {
  auto [status, body, message] = GENERATE(table<int, std::string, std::string>({
    {404, not_found, "the database answered 404"},
    {401, R"({"error":"unauthorized","reason":"Name or password is incorrect."})", "the database answered 401"},
    {403, R"({"error":"forbidden","reason":"You are not allowed to access this db."})", "the database answered 403"},
  }));
  spawn_changes(from_zero);
  grant(3);
  stream_head(status, body);
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].first == status);
  CHECK(log->disables[0].second == message);
  CHECK(log->statuses.empty());
  CHECK(stream().closed());
  advance(1h);
  grant(3);
  CHECK(client->streams().size() == 1);
  CHECK(client->sent() == 0);
  CHECK(log->disables.size() == 1);
  CHECK(log->events.empty());
}

TEST_CASE_METHOD(source_fixture, "a refused baseline GET disables the registration", "[changes_source]") {
  spawn_changes(db_params);
  respond(401, R"({"error":"unauthorized","reason":"Name or password is incorrect."})");
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0] == std::pair<int, std::string>{401, "the database answered 401"});
  CHECK(log->statuses.empty());
  CHECK(log->committed.empty());
  advance(1h);
  CHECK(client->sent() == 1);
  CHECK(client->streams().empty());
}

TEST_CASE_METHOD(source_fixture, "a 404 on the baseline GET disables the registration", "[changes_source]") {
  spawn_changes(db_params);
  respond(404, not_found);
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].first == 404);
  CHECK(log->disables[0].second == "the database answered 404");
  advance(1h);
  CHECK(client->sent() == 1);
  CHECK(client->streams().empty());
}

TEST_CASE_METHOD(source_fixture, "a failing baseline GET is shown and read again after a back-off",
                 "[changes_source]") {
  spawn_changes(db_params);
  client->fail("connect: Connection refused");
  run();
  CHECK(log->statuses == std::vector<std::string>{"reading where the database ends: " + no_response});
  advance(1s);
  REQUIRE(client->pending() == 1);
  respond(500, R"({"error":"internal_server_error","reason":"boom"})");
  CHECK(log->statuses.size() == 2);
  CHECK(log->statuses[1] == "reading where the database ends: the database answered 500");
  // The second back-off is at most two seconds.
  advance(2s);
  REQUIRE(client->pending() == 1);
  respond(200, R"({"results":[],"last_seq":7})");
  CHECK(log->checkpoints == std::vector<std::string>{orders_at("7")});
  // Recovery is reported once the feed itself is open.
  CHECK(log->statuses.size() == 2);
  REQUIRE(client->streams().size() == 1);
  stream_head(200);
  REQUIRE(log->statuses.size() == 3);
  CHECK(log->statuses[2].empty());
  CHECK(log->disables.empty());
}

TEST_CASE_METHOD(source_fixture, "a baseline answer without last_seq is shown as an error", "[changes_source]") {
  spawn_changes(db_params);
  respond(200, R"({"results":[]})");
  CHECK(log->statuses == std::vector<std::string>{
                           "reading where the database ends: the database's answer has no readable last_seq: is "
                           "missing from the answer"});
  CHECK(log->committed.empty());
  CHECK(client->streams().empty());
  advance(1s);
  REQUIRE(client->pending() == 1);
  respond(200, R"({"results":[],"last_seq":3})");
  CHECK(log->checkpoints == std::vector<std::string>{orders_at("3")});
  REQUIRE(client->streams().size() == 1);
  CHECK(stream().request().destination.target == target_since("3"));
}

TEST_CASE_METHOD(source_fixture, "reconnects back off up to 1 s, 2 s, 4 s and start over after a change",
                 "[changes_source]") {
  spawn_changes(from_zero);
  grant(10);
  stream_head(503, R"({"error":"service_unavailable","reason":"overloaded"})");
  advance(1s);
  REQUIRE(client->streams().size() == 2);
  stream_fail("connect: Connection refused");
  advance(2s);
  REQUIRE(client->streams().size() == 3);
  stream_fail("connect: Connection refused");
  advance(4s);
  REQUIRE(client->streams().size() == 4);
  CHECK(log->statuses.size() == 3);
  stream_head(200);
  stream_lines({change(1, "a")});
  stream_fail("idle timeout", transport_failure::idle);
  advance(1s);
  CHECK(client->streams().size() == 5);
  CHECK(stream().request().destination.target == target_since("1"));
  stream_head(200);
  CHECK(log->statuses
        == std::vector<std::string>{"the database answered 503", "changes feed: " + no_response,
                                    "changes feed: " + no_response, "",
                                    "changes feed: nothing arrived within the idle timeout", ""});
}

TEST_CASE_METHOD(source_fixture, "without an HTTP client every attempt fails visibly", "[changes_source]") {
  spawn_changes_without_client(from_zero);
  CHECK(log->statuses
        == std::vector<std::string>{"this provider was started without an HTTP client for changes sources"});
  advance(2s);
  CHECK(log->statuses.size() == 2);
  CHECK(log->disables.empty());
}

TEST_CASE_METHOD(source_fixture, "a database's error body never reaches the parent, whatever the status",
                 "[changes_source][egress]") {
  const std::string secret = R"({"error":"internal","reason":"internal stacktrace: SECRET_TOKEN=abc123"})";
  spawn_changes(db_params);
  respond(500, secret);
  advance(1s);
  respond(200, R"({"results":[],"last_seq":7})");
  stream_head(502, secret);
  advance(2s);
  stream_head(200);
  grant(1);
  stream_lines({secret});
  advance(4s);
  stream_head(401, secret);
  std::vector<std::string> shown = log->statuses;
  for (const auto& [status, message] : log->disables)
    shown.push_back(message);
  REQUIRE(shown.size() == 5);
  for (const auto& text : shown) {
    INFO(text);
    CHECK(text.find("SECRET") == std::string::npos);
    CHECK(text.find("stacktrace") == std::string::npos);
    CHECK(text.find("internal") == std::string::npos);
  }
}

TEST_CASE_METHOD(source_fixture, "a stream the egress policy refuses says so, apart from connection failures",
                 "[changes_source][egress]") {
  spawn_changes(from_zero);
  stream_fail("not allowed by the egress policy", transport_failure::not_allowed);
  advance(1s);
  stream_fail("connect: Connection refused");
  advance(2s);
  stream_fail("timeout");
  CHECK(log->statuses
        == std::vector<std::string>{"changes feed: not allowed by the egress policy", "changes feed: " + no_response,
                                    "changes feed: " + no_response});
}
