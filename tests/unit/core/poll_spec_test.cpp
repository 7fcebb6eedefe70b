#include "core/poll_spec.hpp"

#include <chrono>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;
using namespace std::chrono_literals;

namespace {

poll_spec spec(std::string_view json) {
  auto parsed = parse_poll_spec(params(json));
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

} // namespace

TEST_CASE("a poll needs only url and intervalSeconds", "[poll_spec]") {
  auto s = spec(R"({"url": "http://127.0.0.1:8080/items?x=1", "intervalSeconds": 30})");
  CHECK(s.url_text == "http://127.0.0.1:8080/items?x=1");
  CHECK(s.target.host == "127.0.0.1");
  CHECK(s.target.port == 8080);
  CHECK(s.target.target == "/items?x=1");
  CHECK(s.interval == 30s);
  CHECK(s.timeout == 10s);
  CHECK(s.headers.empty());
  CHECK_FALSE(s.items_pointer);
  CHECK_FALSE(s.id_pointer);
  CHECK(s.failures_before_disable == 3);
}

TEST_CASE("a poll takes pointers, headers, timeout and failuresBeforeDisable", "[poll_spec]") {
  auto s = spec(R"({"url": "https://example.com/feed", "intervalSeconds": 1, "timeoutSeconds": 300,
                    "itemsPointer": "/data/items", "idPointer": "/id",
                    "headers": {"Authorization": "Bearer abc", "Accept": "application/json"},
                    "failuresBeforeDisable": 7})");
  CHECK(s.target.scheme == "https");
  CHECK(s.interval == 1s);
  CHECK(s.timeout == 300s);
  REQUIRE(s.items_pointer);
  CHECK(s.items_pointer->tokens == std::vector<std::string>{"data", "items"});
  REQUIRE(s.id_pointer);
  CHECK(s.id_pointer->tokens == std::vector<std::string>{"id"});
  REQUIRE(s.headers.size() == 2);
  CHECK(s.headers[0] == std::pair<std::string, std::string>{"Authorization", "Bearer abc"});
  CHECK(s.headers[1] == std::pair<std::string, std::string>{"Accept", "application/json"});
  CHECK(s.failures_before_disable == 7);
}

TEST_CASE("an empty itemsPointer means the document itself is the array", "[poll_spec]") {
  auto s = spec(R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "itemsPointer": ""})");
  REQUIRE(s.items_pointer);
  CHECK(s.items_pointer->tokens.empty());
}

TEST_CASE("the wsk CLI's string forms of numbers and headers are accepted", "[poll_spec]") {
  auto s = spec(R"({"url": "http://127.0.0.1/", "intervalSeconds": "86400", "timeoutSeconds": "1",
                    "headers": "{\"X-Token\": \"t\"}"})");
  CHECK(s.interval == 86400s);
  CHECK(s.timeout == 1s);
  REQUIRE(s.headers.size() == 1);
  CHECK(s.headers[0].first == "X-Token");
}

TEST_CASE("a timeout longer than the interval is accepted", "[poll_spec]") {
  auto s = spec(R"({"url": "http://127.0.0.1/", "intervalSeconds": 1, "timeoutSeconds": 60})");
  CHECK(s.timeout > s.interval);
}

TEST_CASE("make_feed_config serves poll and merges trigger_payload into its fire body", "[poll_spec]") {
  auto config = make_feed_config("poll", params(R"({"url": "http://127.0.0.1/", "intervalSeconds": 5,
                                                     "trigger_payload": {"team": "a"}})"),
                                 sys_ms{}, validation_time::request, "guest/poll", loopback_allowed());
  REQUIRE(config);
  CHECK(is_known_feed("poll"));
  REQUIRE(config->poll);
  CHECK_FALSE(config->alarm);
  CHECK_FALSE(config->webhook);
  CHECK(config->fire_body == R"({"team":"a"})");
  CHECK(config->poll->interval == 5s);
}
