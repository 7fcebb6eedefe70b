#include "core/changes_spec.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;
using namespace std::chrono_literals;

namespace {

changes_spec spec(std::string_view json) {
  auto parsed = parse_changes_spec(params(json));
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

using query_list = std::vector<std::pair<std::string, std::string>>;

} // namespace

// -- parse_changes_spec -------------------------------------------------------------

TEST_CASE("a changes feed needs only url and dbname", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders"})");
  CHECK(s.url_text == "http://127.0.0.1:5984");
  CHECK(s.server.scheme == "http");
  CHECK(s.server.host == "127.0.0.1");
  CHECK(s.server.port == 5984);
  CHECK(s.server.target == "/");
  CHECK(s.dbname == "orders");
  CHECK(s.username.empty());
  CHECK(s.password.empty());
  CHECK(s.filter.empty());
  CHECK(s.query_params.empty());
  CHECK(s.selector.empty());
  CHECK_FALSE(s.include_docs);
  CHECK(s.since == "now");
  CHECK(s.heartbeat == 30s);
}

TEST_CASE("a changes feed takes every parameter", "[changes]") {
  auto s = spec(R"({"url": "https://account.cloudant.com/", "dbname": "a-b_c$d(e)f+g/h9",
                    "username": "admin", "password": "p:w@d", "filter": "audit/important",
                    "query_params": {"level": "high", "min": 3, "tags": ["a", "b"]},
                    "includeDocs": true, "since": 42, "heartbeatSeconds": 300})");
  CHECK(s.url_text == "https://account.cloudant.com");
  CHECK(s.server.scheme == "https");
  CHECK(s.server.host == "account.cloudant.com");
  CHECK(s.server.port == 443);
  CHECK(s.dbname == "a-b_c$d(e)f+g/h9");
  CHECK(s.username == "admin");
  CHECK(s.password == "p:w@d");
  CHECK(s.filter == "audit/important");
  CHECK(s.query_params == query_list{{"level", "high"}, {"min", "3"}, {"tags", R"(["a","b"])"}});
  CHECK(s.include_docs);
  CHECK(s.since == "42");
  CHECK(s.heartbeat == 300s);
}

TEST_CASE("a path prefix of url is kept without its trailing slash", "[changes]") {
  auto s = spec(R"({"url": "https://host.example/couch//", "dbname": "db"})");
  CHECK(s.url_text == "https://host.example/couch");
  CHECK(s.server.target == "/couch");
}

TEST_CASE("a selector is kept as compact JSON", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders",
                    "selector": { "type" : "order", "total": {"$gt": 10} }})");
  CHECK(s.selector == R"({"type":"order","total":{"$gt":10}})");
  CHECK(s.filter.empty());
}

TEST_CASE("the wsk CLI's string forms are accepted", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "includeDocs": "true",
                    "heartbeatSeconds": "1", "since": "now",
                    "selector": "{\"type\": \"order\"}"})");
  CHECK(s.include_docs);
  CHECK(s.heartbeat == 1s);
  CHECK(s.since == "now");
  CHECK(s.selector == R"({"type":"order"})");
  auto f = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "filter": "d/f",
                    "query_params": "{\"level\": \"high\"}", "includeDocs": "false"})");
  CHECK(f.query_params == query_list{{"level", "high"}});
  CHECK_FALSE(f.include_docs);
}

TEST_CASE("since takes a number, a numeric string or an opaque string as is", "[changes]") {
  CHECK(spec(R"({"url": "http://h", "dbname": "d", "since": 0})").since == "0");
  CHECK(spec(R"({"url": "http://h", "dbname": "d", "since": 7.0})").since == "7");
  CHECK(spec(R"({"url": "http://h", "dbname": "d", "since": "0012"})").since == "0012");
  CHECK(spec(R"({"url": "http://h", "dbname": "d", "since": "23-g1AAAAE3eJzLYWBg"})").since
        == "23-g1AAAAE3eJzLYWBg");
}

TEST_CASE("a 238-character database name is accepted", "[changes]") {
  auto name = "a" + std::string(237, 'b');
  auto s = spec(R"({"url": "http://h", "dbname": ")" + name + "\"}");
  CHECK(s.dbname == name);
}

// -- requests -----------------------------------------------------------------------

TEST_CASE("a plain feed is a GET of the continuous feed", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders"})");
  auto request = changes_feed_request(s, s.since);
  CHECK(request.method == "GET");
  CHECK(request.target == "/orders/_changes?feed=continuous&heartbeat=30000&since=now");
  CHECK(request.body.empty());
}

TEST_CASE("includeDocs and a numeric since go into the query", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "includeDocs": true, "since": 17,
                    "heartbeatSeconds": 5})");
  auto request = changes_feed_request(s, s.since);
  CHECK(request.method == "GET");
  CHECK(request.target == "/orders/_changes?feed=continuous&heartbeat=5000&since=17&include_docs=true");
  CHECK(request.body.empty());
}

TEST_CASE("an opaque since is percent-encoded", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders"})");
  auto request = changes_feed_request(s, "12-g1AA/x+y=");
  CHECK(request.target == "/orders/_changes?feed=continuous&heartbeat=30000&since=12-g1AA%2Fx%2By%3D");
}

TEST_CASE("a filter and its query params go into the query, encoded", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "filter": "audit/important",
                    "query_params": {"level": "high & low", "n": 3}})");
  auto request = changes_feed_request(s, "5");
  CHECK(request.method == "GET");
  CHECK(request.target
        == "/orders/_changes?feed=continuous&heartbeat=30000&since=5&filter=audit%2Fimportant&level=high%20%26%20low&n=3");
  CHECK(request.body.empty());
}

TEST_CASE("a selector is sent in the query and in a POST body", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "selector": {"type": "order"},
                    "includeDocs": true})");
  auto request = changes_feed_request(s, "now");
  CHECK(request.method == "POST");
  CHECK(request.target
        == "/orders/_changes?feed=continuous&heartbeat=30000&since=now&include_docs=true&filter=_selector"
           "&selector=%7B%22type%22%3A%22order%22%7D");
  CHECK(request.body == R"({"selector":{"type":"order"}})");
}

TEST_CASE("a path prefix comes before the database, whose slash is encoded", "[changes]") {
  auto s = spec(R"({"url": "https://host.example/couch/", "dbname": "team/orders"})");
  CHECK(changes_feed_request(s, "now").target
        == "/couch/team%2Forders/_changes?feed=continuous&heartbeat=30000&since=now");
  CHECK(changes_now_target(s) == "/couch/team%2Forders/_changes?since=now&limit=1");
}

TEST_CASE("the now target reads one row from the end", "[changes]") {
  auto s = spec(R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "filter": "d/f", "includeDocs": true})");
  CHECK(changes_now_target(s) == "/orders/_changes?since=now&limit=1");
}

TEST_CASE("read_last_seq takes a number or a string", "[changes]") {
  auto number = read_last_seq(R"({"results": [], "last_seq": 42})");
  REQUIRE(number);
  CHECK(*number == "42");
  auto text = read_last_seq(R"({"results": [{"seq": "1-a", "id": "x", "changes": []}], "last_seq": "7-g1AAA"})");
  REQUIRE(text);
  CHECK(*text == "7-g1AAA");
}

// -- feed lines ---------------------------------------------------------------------

TEST_CASE("a change row is classified with its seq", "[changes]") {
  auto line = classify_change_line(R"({"seq":"3-g1AAA","id":"doc1","changes":[{"rev":"1-abc"}]})");
  CHECK(line.what == change_line::kind::change);
  CHECK(line.seq == "3-g1AAA");
  CHECK(line.message.empty());
  auto numeric = classify_change_line(R"({"seq":12,"id":"doc1","changes":[{"rev":"1-abc"}]})");
  CHECK(numeric.what == change_line::kind::change);
  CHECK(numeric.seq == "12");
}

TEST_CASE("a deleted row is a change", "[changes]") {
  auto line = classify_change_line(R"({"seq":13,"id":"doc1","changes":[{"rev":"2-def"}],"deleted":true})");
  CHECK(line.what == change_line::kind::change);
  CHECK(line.seq == "13");
}

TEST_CASE("the closing line gives the last seq", "[changes]") {
  auto line = classify_change_line(R"({"last_seq":"20-g1BBB","pending":0})");
  CHECK(line.what == change_line::kind::last_seq);
  CHECK(line.seq == "20-g1BBB");
  auto numeric = classify_change_line("{\"last_seq\":20}\r");
  CHECK(numeric.what == change_line::kind::last_seq);
  CHECK(numeric.seq == "20");
}

// -- event bodies ---------------------------------------------------------------------

TEST_CASE("a change's fire body is the row plus dbname and trigger_payload", "[changes]") {
  auto body = change_event_body(R"({"seq":"3-x","id":"doc1","changes":[{"rev":"1-a"}],"deleted":true})", "orders",
                                R"({"team":"a","id":"payload's"})");
  CHECK(body
        == R"({"seq":"3-x","id":"doc1","changes":[{"rev":"1-a"}],"deleted":true,"dbname":"orders","team":"a"})");
}

TEST_CASE("a row's own dbname wins over the registration's and over trigger_payload", "[changes]") {
  auto body = change_event_body(R"({"seq":1,"id":"d","dbname":"row's","doc":{"_id":"d"}})", "orders",
                                R"({"dbname":"payload's"})");
  CHECK(body == R"({"seq":1,"id":"d","dbname":"row's","doc":{"_id":"d"}})");
  auto without_row = change_event_body(R"({"seq":2,"id":"e"})", "orders", R"({"dbname":"payload's"})");
  CHECK(without_row == R"({"seq":2,"id":"e","dbname":"orders"})");
}

// -- checkpoints ------------------------------------------------------------------------

TEST_CASE("a checkpoint names url and dbname and round-trips its seq", "[changes]") {
  auto s = spec(R"({"url": "https://host.example/couch/", "dbname": "orders"})");
  auto text = to_changes_checkpoint(s, "12-g1AAA");
  CHECK(text == R"({"source":"https://host.example/couch/orders","seq":"12-g1AAA"})");
  CHECK(restore_changes_seq(text, s) == std::optional<std::string>{"12-g1AAA"});
  auto numeric = to_changes_checkpoint(s, "42");
  CHECK(numeric == R"({"source":"https://host.example/couch/orders","seq":"42"})");
  CHECK(restore_changes_seq(numeric, s) == std::optional<std::string>{"42"});
}

TEST_CASE("credentials, filter and since do not change the checkpoint's source", "[changes]") {
  auto before = spec(R"({"url": "http://h:5984", "dbname": "orders", "since": 3})");
  auto after = spec(R"({"url": "http://h:5984/", "dbname": "orders", "username": "u", "password": "p",
                        "filter": "d/f", "since": "now"})");
  CHECK(restore_changes_seq(to_changes_checkpoint(before, "9"), after) == std::optional<std::string>{"9"});
}
