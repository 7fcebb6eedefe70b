#include "core/poll_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "core/json.hpp"

using namespace feedrouter;

namespace {

/// Checks that each of `params_json` is rejected with an error naming `field`.
void check_rejected(std::string_view field, const std::vector<std::string_view>& params_json) {
  for (auto json : params_json) {
    INFO("params: " << json);
    auto members = parse_json_object(json, "params");
    REQUIRE(members);
    auto parsed = parse_poll_spec(*members);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == field);
    CHECK_FALSE(parsed.error().message.empty());
  }
}

} // namespace

TEST_CASE("a poll without a valid http url names url", "[poll_spec]") {
  check_rejected("url", {
                          R"({"intervalSeconds": 5})",
                          R"({"url": 5, "intervalSeconds": 5})",
                          R"({"url": "", "intervalSeconds": 5})",
                          R"({"url": "ftp://127.0.0.1/x", "intervalSeconds": 5})",
                          R"({"url": "/relative", "intervalSeconds": 5})",
                          R"({"url": "http://user:pw@127.0.0.1/", "intervalSeconds": 5})",
                        });
}

TEST_CASE("intervalSeconds is required and lies in 1..86400", "[poll_spec]") {
  check_rejected("intervalSeconds", {
                                      R"({"url": "http://127.0.0.1/"})",
                                      R"({"url": "http://127.0.0.1/", "intervalSeconds": 0})",
                                      R"({"url": "http://127.0.0.1/", "intervalSeconds": -5})",
                                      R"({"url": "http://127.0.0.1/", "intervalSeconds": 86401})",
                                      R"({"url": "http://127.0.0.1/", "intervalSeconds": 1.5})",
                                      R"({"url": "http://127.0.0.1/", "intervalSeconds": "often"})",
                                    });
}

TEST_CASE("timeoutSeconds lies in 1..300", "[poll_spec]") {
  check_rejected("timeoutSeconds", {
                                     R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "timeoutSeconds": 0})",
                                     R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "timeoutSeconds": 301})",
                                     R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "timeoutSeconds": true})",
                                   });
}

TEST_CASE("failuresBeforeDisable lies in 1..100", "[poll_spec]") {
  check_rejected("failuresBeforeDisable",
                 {
                   R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "failuresBeforeDisable": 0})",
                   R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "failuresBeforeDisable": 101})",
                 });
}

TEST_CASE("pointers that are not RFC 6901 pointers name their field", "[poll_spec]") {
  check_rejected("itemsPointer", {
                                   R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "itemsPointer": "items"})",
                                   R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "itemsPointer": "/a~2"})",
                                   R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "itemsPointer": ["a"]})",
                                 });
  check_rejected("idPointer", {
                                R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "idPointer": "#/id"})",
                                R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "idPointer": 3})",
                              });
}

TEST_CASE("headers must be an object of safe header names to strings", "[poll_spec]") {
  for (std::string_view headers : {
         R"(["a"])",
         R"("not json")",
         R"({"X-A": 1})",
         R"({"Bad Name": "v"})",
         R"({"": "v"})",
         R"({"X-A": "a\r\nX-B: b"})",
         R"({"X-A": "a\u0000"})",
         R"({"If-None-Match": "x"})",
         R"({"content-length": "1"})",
         R"({"X-A": "1", "X-A": "2"})",
       }) {
    auto json = R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "headers": )" + std::string{headers} + "}";
    check_rejected("headers", {json});
  }
}

TEST_CASE("a header value longer than 8192 characters is refused", "[poll_spec]") {
  auto json = R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "headers": {"X-Long": ")" + std::string(8193, 'a')
              + "\"}}";
  check_rejected("headers", {json});
}

TEST_CASE("make_feed_config passes a poll error through with its field", "[poll_spec]") {
  auto members = parse_json_object(R"({"url": "http://127.0.0.1/"})", "params");
  REQUIRE(members);
  auto config =
    make_feed_config("poll", *members, sys_ms{}, validation_time::request, "guest/poll", egress_policy{});
  REQUIRE_FALSE(config);
  CHECK(config.error().field == "intervalSeconds");
}

TEST_CASE("an unknown feed kind lists poll among the served ones", "[poll_spec]") {
  auto config = make_feed_config("rss", {}, sys_ms{}, validation_time::request, "guest/x", egress_policy{});
  REQUIRE_FALSE(config);
  CHECK(config.error().field == "feed");
  CHECK(config.error().message.find("poll") != std::string::npos);
}

TEST_CASE("Host and hop-by-hop headers cannot be set by the tenant, and the refusal names them", "[poll_spec]") {
  for (std::string_view name : {"Host", "host", "Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection",
                                "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Expect"}) {
    INFO(name);
    auto json = R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "headers": {")" + std::string{name}
                + R"(": "x"}})";
    auto members = parse_json_object(json, "params");
    REQUIRE(members);
    auto parsed = parse_poll_spec(*members);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "headers");
    CHECK(parsed.error().message.find("\"" + std::string{name} + "\"") == 0);
  }
}

TEST_CASE("a poll of a loopback, private or metadata address is refused by the default egress policy",
          "[poll_spec][egress]") {
  for (std::string_view url : {"http://127.0.0.1:8080/", "http://[::1]/", "http://0.0.0.0/", "http://localhost/",
                               "http://2130706433/", "http://127.1/", "http://169.254.169.254/latest/meta-data/",
                               "http://10.0.0.1/", "http://[::ffff:192.168.0.1]/"}) {
    INFO(url);
    auto members = parse_json_object(R"({"url": ")" + std::string{url} + R"(", "intervalSeconds": 5})", "params");
    REQUIRE(members);
    auto config =
      make_feed_config("poll", *members, sys_ms{}, validation_time::request, "guest/poll", egress_policy{});
    REQUIRE_FALSE(config);
    CHECK(config.error().field == "url");
    CHECK(config.error().message.find("not allowed by the egress policy") == 0);
  }
}
