// The parameters of OpenWhisk's cloudant `changes` feed that feedrouter's changes feed takes besides its own: `host`,
// `port` and `protocol`, `dbName`, `iamApiKey` and `iamUrl`, `maxTriggers`, and CouchDB's built-in filters.

#include "core/changes_spec.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/status_json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;

namespace {

changes_spec spec(std::string_view json) {
  auto parsed = parse_changes_spec(params(json));
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

field_error refusal(std::string_view json) {
  auto parsed = parse_changes_spec(params(json));
  INFO(json);
  REQUIRE_FALSE(parsed);
  return parsed.error();
}

} // namespace

TEST_CASE("host, port and protocol make the server URL, https by default", "[changes]") {
  auto s = spec(R"({"host": "account.cloudant.com", "dbname": "db", "username": "u", "password": "p"})");
  CHECK(s.url_text == "https://account.cloudant.com");
  CHECK(s.server.scheme == "https");
  CHECK(s.server.port == 443);
  CHECK(s.server_field == "host");
  auto http = spec(R"({"host": "127.0.0.1", "port": "5984", "protocol": "http", "dbname": "db"})");
  CHECK(http.url_text == "http://127.0.0.1:5984");
  CHECK(http.server.port == 5984);
  CHECK(spec(R"({"host": "couch.example.com/prefix", "protocol": "HTTPS", "dbname": "db"})").url_text
        == "https://couch.example.com/prefix");
}

TEST_CASE("the server is given exactly one way", "[changes]") {
  CHECK(refusal(R"({"url": "https://h", "host": "h", "dbname": "db"})").field == "host");
  CHECK(refusal(R"({"url": "https://h", "port": 443, "dbname": "db"})").field == "port");
  CHECK(refusal(R"({"port": 443, "dbname": "db"})").field == "host");
  auto neither = refusal(R"({"dbname": "db"})");
  CHECK(neither.field == "url");
  CHECK(neither.message.find("host") != std::string::npos);
  CHECK(refusal(R"({"host": "h", "protocol": "ftp", "dbname": "db"})").field == "protocol");
  CHECK(refusal(R"({"host": "h", "port": 70000, "dbname": "db"})").field == "port");
  CHECK(refusal(R"({"host": "user:pw@h", "dbname": "db"})").field == "host");
  CHECK(refusal(R"({"host": "https://h", "dbname": "db"})").field == "host");
}

TEST_CASE("dbName is another spelling of dbname", "[changes]") {
  CHECK(spec(R"({"url": "https://h", "dbName": "mytable"})").dbname == "mytable");
  CHECK(spec(R"({"url": "https://h", "dbName": "db", "dbname": "db"})").dbname == "db");
  CHECK(refusal(R"({"url": "https://h", "dbName": "a", "dbname": "b"})").field == "dbName");
  CHECK(refusal(R"({"url": "https://h", "dbName": "Bad"})").field == "dbName");
  CHECK(refusal(R"({"url": "https://h"})").field == "dbname");
}

TEST_CASE("iamApiKey is exchanged at iamUrl, IBM Cloud's endpoint by default", "[changes]") {
  auto s = spec(R"({"host": "h", "dbname": "db", "iamApiKey": "key-123"})");
  CHECK(s.iam_api_key == "key-123");
  REQUIRE(s.iam_url);
  CHECK(s.iam_url->host == "iam.cloud.ibm.com");
  CHECK(s.iam_url->target == "/identity/token");
  auto own = spec(R"({"host": "h", "dbname": "db", "iamApiKey": "k", "iamUrl": "https://iam.example/identity/token"})");
  CHECK(own.iam_url->host == "iam.example");
  CHECK(refusal(R"({"host": "h", "dbname": "db", "iamUrl": "https://iam.example/t"})").field == "iamUrl");
  CHECK(refusal(R"({"host": "h", "dbname": "db", "iamApiKey": ""})").field == "iamApiKey");
  CHECK(refusal(R"({"host": "h", "dbname": "db", "iamApiKey": "k", "iamUrl": "ftp://x"})").field == "iamUrl");
}

TEST_CASE("iamUrl passes the egress policy like every endpoint a tenant names", "[changes]") {
  auto cfg = make_feed_config("changes", params(R"({"host": "couch.example.com", "dbname": "db", "iamApiKey": "k",
                                                   "iamUrl": "http://169.254.169.254/token"})"),
                              sys_ms{}, validation_time::request, "guest/t", egress_policy{});
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().field == "iamUrl");
}

TEST_CASE("CouchDB's built-in filters take the query parameters CouchDB wants", "[changes]") {
  auto ids = spec(R"({"url": "https://h", "dbname": "db", "filter": "_doc_ids",
                      "query_params": {"doc_ids": ["a", "b"]}})");
  CHECK(ids.filter == "_doc_ids");
  auto request = changes_feed_request(ids, "0");
  CHECK(request.target.find("&filter=_doc_ids&doc_ids=%5B%22a%22%2C%22b%22%5D") != std::string::npos);
  CHECK(spec(R"({"url": "https://h", "dbname": "db", "filter": "_view", "query_params": {"view": "d/v"}})").filter
        == "_view");
  CHECK(spec(R"({"url": "https://h", "dbname": "db", "filter": "_design"})").filter == "_design");
  CHECK(refusal(R"({"url": "https://h", "dbname": "db", "filter": "_doc_ids"})").field == "query_params");
  CHECK(refusal(R"({"url": "https://h", "dbname": "db", "filter": "_doc_ids", "query_params": {"doc_ids": "a"}})")
          .field
        == "query_params");
  CHECK(refusal(R"({"url": "https://h", "dbname": "db", "filter": "_view", "query_params": {"view": "v"}})").field
        == "query_params");
  CHECK(refusal(R"({"url": "https://h", "dbname": "db", "filter": "_selector"})").field == "filter");
  CHECK(refusal(R"({"url": "https://h", "dbname": "db", "filter": "_all"})").field == "filter");
}

TEST_CASE("maxTriggers limits a changes feed's fires, -1 and 0 do not", "[changes]") {
  CHECK(spec(R"({"url": "https://h", "dbname": "db", "maxTriggers": "2"})").max_triggers == 2);
  CHECK_FALSE(spec(R"({"url": "https://h", "dbname": "db", "maxTriggers": 0})").max_triggers);
  CHECK_FALSE(spec(R"({"url": "https://h", "dbname": "db", "maxTriggers": -1})").max_triggers);
  CHECK(refusal(R"({"url": "https://h", "dbname": "db", "maxTriggers": -2})").field == "maxTriggers");
}

TEST_CASE("READ shows OpenWhisk's cloudant members and never the IAM key", "[changes]") {
  auto from_url = openwhisk_config_members("changes", params(R"({"url": "http://127.0.0.1:5984", "dbName": "db",
                                                                 "iamApiKey": "k"})"));
  CHECK(from_url == params(R"({"host": "127.0.0.1", "port": 5984, "protocol": "http", "dbname": "db",
                               "iamUrl": "https://iam.cloud.ibm.com/identity/token"})"));
  CHECK(openwhisk_config_members("changes", params(R"({"host": "h", "dbname": "db"})"))
        == params(R"({"protocol": "https"})"));
  CHECK(std::find(std::begin(redacted_params), std::end(redacted_params), "iamApiKey") != std::end(redacted_params));
}
