#include "core/changes_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "core/json.hpp"

using namespace feedrouter;

namespace {

/// Checks that each of `params_json` is rejected with an error naming `field`.
void check_rejected(std::string_view field, const std::vector<std::string>& params_json) {
  for (const auto& json : params_json) {
    INFO("params: " << json);
    auto members = parse_json_object(json, "params");
    REQUIRE(members);
    auto parsed = parse_changes_spec(*members);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == field);
    CHECK_FALSE(parsed.error().message.empty());
  }
}

/// Returns params of a valid feed on db "d" with `extra` (members, without braces) added.
std::string with(std::string_view extra) {
  return R"({"url": "http://127.0.0.1:5984", "dbname": "d", )" + std::string{extra} + "}";
}

std::string message_of(std::string_view json) {
  auto members = parse_json_object(json, "params");
  REQUIRE(members);
  auto parsed = parse_changes_spec(*members);
  REQUIRE_FALSE(parsed);
  return parsed.error().message;
}

} // namespace

// -- parse_changes_spec -------------------------------------------------------------

TEST_CASE("a changes feed without a valid http server url names url", "[changes]") {
  check_rejected("url", {
                          R"({"dbname": "d"})",
                          R"({"url": 5, "dbname": "d"})",
                          R"({"url": "", "dbname": "d"})",
                          R"({"url": "ftp://127.0.0.1/", "dbname": "d"})",
                          R"({"url": "127.0.0.1:5984", "dbname": "d"})",
                          R"({"url": "http://127.0.0.1:5984/?x=1", "dbname": "d"})",
                          R"({"url": "http://127.0.0.1:5984/#top", "dbname": "d"})",
                          R"({"url": "http://admin:secret@127.0.0.1:5984", "dbname": "d"})",
                        });
}

TEST_CASE("credentials inside url are refused with a pointer to username and password", "[changes]") {
  auto message = message_of(R"({"url": "https://admin:secret@host.example/couch", "dbname": "d"})");
  CHECK(message.find("username and password") != std::string::npos);
  // The refused URL is not echoed: the message may end up in logs.
  CHECK(message.find("secret") == std::string::npos);
}

TEST_CASE("dbname is required and follows CouchDB's naming rule", "[changes]") {
  check_rejected("dbname", {
                             R"({"url": "http://h"})",
                             R"({"url": "http://h", "dbname": ""})",
                             R"({"url": "http://h", "dbname": 3})",
                             R"({"url": "http://h", "dbname": "Orders"})",
                             R"({"url": "http://h", "dbname": "1orders"})",
                             R"({"url": "http://h", "dbname": "_users"})",
                             R"({"url": "http://h", "dbname": "a b"})",
                             R"({"url": "http://h", "dbname": "a.b"})",
                             R"({"url": "http://h", "dbname": ")" + std::string(239, 'a') + "\"}",
                           });
}

TEST_CASE("username and password come together", "[changes]") {
  check_rejected("password", {
                               with(R"("username": "u")"),
                               with(R"("username": "u", "password": "")"),
                               with(R"("username": "u", "password": 5)"),
                             });
  check_rejected("username", {
                               with(R"("password": "p")"),
                               with(R"("username": "", "password": "p")"),
                               with(R"("username": "a:b", "password": "p")"),
                               with(R"("username": true, "password": "p")"),
                             });
}

TEST_CASE("filter must be designdoc/filtername and excludes selector", "[changes]") {
  check_rejected("filter", {
                             with(R"("filter": "important")"),
                             with(R"("filter": "/important")"),
                             with(R"("filter": "audit/")"),
                             with(R"("filter": "a/b/c")"),
                             with(R"("filter": "")"),
                             with(R"("filter": ["a/b"])"),
                             with(R"("filter": "a/b", "selector": {"type": "x"})"),
                           });
}

TEST_CASE("query_params must be an object and go only with a filter", "[changes]") {
  check_rejected("query_params", {
                                   with(R"("query_params": {"level": "high"})"),
                                   with(R"("selector": {"a": 1}, "query_params": {"level": "high"})"),
                                   with(R"("filter": "d/f", "query_params": ["level"])"),
                                   with(R"("filter": "d/f", "query_params": "level=high")"),
                                   with(R"("filter": "d/f", "query_params": 3)"),
                                   with(R"("filter": "d/f", "query_params": {"a": 1, "a": 2})"),
                                   with(R"("filter": "d/f", "query_params": {"": 1})"),
                                   with(R"("filter": "d/f", "query_params": {"since": 0})"),
                                   with(R"("filter": "d/f", "query_params": {"feed": "normal"})"),
                                   with(R"("filter": "d/f", "query_params": {"limit": 1})"),
                                 });
}

TEST_CASE("a query param given twice is named in the message", "[changes]") {
  CHECK(message_of(with(R"("filter": "d/f", "query_params": {"level": 1, "level": 2})")) == "\"level\" appears twice");
}

TEST_CASE("selector must be a JSON object", "[changes]") {
  check_rejected("selector", {
                               with(R"("selector": ["a"])"),
                               with(R"("selector": "type=order")"),
                               with(R"("selector": "[1]")"),
                               with(R"("selector": 5)"),
                               with(R"("selector": null)"),
                             });
}

TEST_CASE("includeDocs must be a boolean", "[changes]") {
  check_rejected("includeDocs", {
                                  with(R"("includeDocs": "yes")"),
                                  with(R"("includeDocs": 1)"),
                                });
}

TEST_CASE("since must be now, a non-negative integer or a non-empty string", "[changes]") {
  check_rejected("since", {
                            with(R"("since": -1)"),
                            with(R"("since": "-5")"),
                            with(R"("since": "")"),
                            with(R"("since": 1.5)"),
                            with(R"("since": true)"),
                            with(R"("since": null)"),
                            with(R"("since": [1, "x"])"),
                          });
}

TEST_CASE("heartbeatSeconds lies in 1..300", "[changes]") {
  check_rejected("heartbeatSeconds", {
                                       with(R"("heartbeatSeconds": 0)"),
                                       with(R"("heartbeatSeconds": 301)"),
                                       with(R"("heartbeatSeconds": -30)"),
                                       with(R"("heartbeatSeconds": "often")"),
                                       with(R"("heartbeatSeconds": 2.5)"),
                                     });
}

// -- answers and lines ----------------------------------------------------------------

TEST_CASE("read_last_seq names last_seq when it is missing or not a seq", "[changes]") {
  for (std::string_view answer : {
         R"({"results": []})",
         R"({"last_seq": null})",
         R"({"last_seq": ""})",
         R"({"last_seq": -1})",
         R"({"last_seq": [1, "x"]})",
         R"([1])",
         "<html>Bad gateway</html>",
         "",
       }) {
    INFO("answer: " << answer);
    auto seq = read_last_seq(answer);
    REQUIRE_FALSE(seq);
    CHECK(seq.error().field == "last_seq");
    CHECK_FALSE(seq.error().message.empty());
  }
}

TEST_CASE("an error line carries error and reason", "[changes]") {
  auto line = classify_change_line(R"({"error":"unauthorized","reason":"You are not authorized to access this db."})");
  CHECK(line.what == change_line::kind::error);
  CHECK(line.seq.empty());
  CHECK(line.message == "unauthorized: You are not authorized to access this db.");
  auto bare = classify_change_line(R"({"error":"not_found"})");
  CHECK(bare.what == change_line::kind::error);
  CHECK(bare.message == "not_found");
}

TEST_CASE("lines that are not rows, last_seq or errors are malformed, with a reason", "[changes]") {
  for (std::string_view text : {
         "garbage",
         R"({"seq":"1-a","id":)",
         R"([{"seq":1}])",
         R"({"id":"doc","changes":[]})",
         R"({"seq":null,"id":"doc"})",
         R"({"seq":-3,"id":"doc"})",
         R"({"last_seq":{}})",
         "",
       }) {
    INFO("line: " << text);
    auto line = classify_change_line(text);
    CHECK(line.what == change_line::kind::malformed);
    CHECK(line.seq.empty());
    CHECK_FALSE(line.message.empty());
  }
}

TEST_CASE("a row that is not an object still fires dbname and trigger_payload", "[changes]") {
  CHECK(change_event_body("not json", "orders", R"({"team":"a"})") == R"({"dbname":"orders","team":"a"})");
  CHECK(change_event_body(R"({"seq":1})", "orders", "not json") == R"({"seq":1,"dbname":"orders"})");
}

// -- checkpoints ------------------------------------------------------------------------

TEST_CASE("a checkpoint of another server or database is not resumed from", "[changes]") {
  auto members = parse_json_object(R"({"url": "http://h:5984", "dbname": "orders"})", "params");
  REQUIRE(members);
  auto s = parse_changes_spec(*members);
  REQUIRE(s);
  auto other_db = *s;
  other_db.dbname = "invoices";
  auto other_server = *s;
  other_server.url_text = "http://other:5984";
  CHECK_FALSE(restore_changes_seq(to_changes_checkpoint(other_db, "5"), *s));
  CHECK_FALSE(restore_changes_seq(to_changes_checkpoint(other_server, "5"), *s));
  REQUIRE(restore_changes_seq(to_changes_checkpoint(*s, "5"), *s));
}

TEST_CASE("an empty or unreadable checkpoint gives no seq", "[changes]") {
  auto members = parse_json_object(R"({"url": "http://h:5984", "dbname": "orders"})", "params");
  REQUIRE(members);
  auto s = parse_changes_spec(*members);
  REQUIRE(s);
  for (std::string_view text : {
         "",
         "garbage",
         R"({"source":"http://h:5984/orders"})",
         R"({"source":"http://h:5984/orders","seq":""})",
         R"({"source":"http://h:5984/orders","seq":5})",
         R"({"seq":"5"})",
         R"({"v":1,"source":"abc","baseline":true,"etag":"","lastModified":"","seen":""})",
       }) {
    INFO("checkpoint: " << text);
    CHECK_FALSE(restore_changes_seq(text, *s));
  }
}

TEST_CASE("a changes feed of a loopback or private server is refused by the default egress policy",
          "[changes][egress]") {
  for (std::string_view url : {"http://127.0.0.1:5984", "http://[::1]:5984", "http://localhost:5984",
                               "http://0x7f.1:5984", "https://192.168.1.10/couch", "http://[fd00::1]:5984"}) {
    INFO(url);
    auto members = parse_json_object(R"({"url": ")" + std::string{url} + R"(", "dbname": "d"})", "params");
    REQUIRE(members);
    auto config =
      make_feed_config("changes", *members, sys_ms{}, validation_time::request, "guest/db", egress_policy{});
    REQUIRE_FALSE(config);
    CHECK(config.error().field == "url");
    CHECK(config.error().message.find("not allowed by the egress policy") == 0);
  }
  auto members = parse_json_object(R"({"url": "https://account.cloudant.com", "dbname": "d"})", "params");
  REQUIRE(members);
  CHECK(make_feed_config("changes", *members, sys_ms{}, validation_time::request, "guest/db", egress_policy{}));
}
