#include "core/redis_stream_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;

namespace {

/// Checks that each of `params_json` is rejected naming `field`, and that no message repeats the password "hunter2".
void check_rejected(std::string_view field, const std::vector<std::string>& params_json,
                    const egress_policy& egress = loopback_allowed()) {
  for (const auto& json : params_json) {
    INFO("params: " << json);
    auto parsed = parse_redis_stream_spec(params(json), egress);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == field);
    CHECK_FALSE(parsed.error().message.empty());
    CHECK(parsed.error().message.find("hunter2") == std::string::npos);
  }
}

std::string with(std::string_view extra) {
  return R"({"url": "redis://r.example.com", "stream": "s", )" + std::string{extra} + "}";
}

} // namespace

TEST_CASE("a redis-stream feed without a valid url names url, and never repeats the password", "[redis_stream_spec]") {
  check_rejected("url", {
                          R"({"stream": "s"})",
                          R"({"url": 6379, "stream": "s"})",
                          R"({"url": "", "stream": "s"})",
                          R"({"url": "r.example.com:6379", "stream": "s"})",
                          R"({"url": "http://r.example.com", "stream": "s"})",
                          R"({"url": "redis://", "stream": "s"})",
                          R"({"url": "redis://:hunter2@", "stream": "s"})",
                          R"({"url": "redis://r.example.com:0", "stream": "s"})",
                          R"({"url": "redis://r.example.com:65536", "stream": "s"})",
                          R"({"url": "redis://r.example.com:63x9", "stream": "s"})",
                          R"({"url": "redis://r.example.com/65536", "stream": "s"})",
                          R"({"url": "redis://r.example.com/-1", "stream": "s"})",
                          R"({"url": "redis://r.example.com/db", "stream": "s"})",
                          R"({"url": "redis://r.example.com/0/1", "stream": "s"})",
                          R"({"url": "redis://r.example.com?db=1", "stream": "s"})",
                          R"({"url": "redis://r.example.com#x", "stream": "s"})",
                          R"({"url": "redis://r ex.com", "stream": "s"})",
                          R"({"url": "redis://[::1", "stream": "s"})",
                          R"({"url": "redis://[::1]x", "stream": "s"})",
                          R"({"url": "redis://u:hunter2%zz@r.example.com", "stream": "s"})",
                          R"({"url": "redis://u%zz:hunter2@r.example.com", "stream": "s"})",
                          R"({"url": "redis://reader@r.example.com", "stream": "s"})",
                          R"({"url": "redis://:hunter2@r.example.com:x", "stream": "s"})",
                          // Not UTF-8 once decoded: it would not read back from the store as given.
                          R"({"url": "redis://:hunter2%e1x@r.example.com", "stream": "s"})",
                          R"({"url": "redis://u%ff:hunter2@r.example.com", "stream": "s"})",
                        });
}

TEST_CASE("a redis-stream server the egress policy refuses names url", "[redis_stream_spec]") {
  check_rejected("url", {R"({"url": "redis://:hunter2@127.0.0.1:6379", "stream": "s"})",
                         R"({"url": "redis://localhost", "stream": "s"})", R"({"url": "redis://[::1]", "stream": "s"})",
                         R"({"url": "redis://169.254.169.254", "stream": "s"})"},
                 egress_policy{});
}

TEST_CASE("a redis-stream feed without a valid stream, start, create or password names it",
          "[redis_stream_spec]") {
  const std::string long_name(redis_max_name_bytes + 1, 'x');
  check_rejected("stream", {R"({"url": "redis://r.example.com"})", R"({"url": "redis://r.example.com", "stream": ""})",
                            R"({"url": "redis://r.example.com", "stream": 5})",
                            R"({"url": "redis://r.example.com", "stream": ")" + long_name + "\"}"});
  check_rejected("start", {with(R"("start": "now")"), with(R"("start": "1-0")"), with(R"("start": 1)"),
                           with(R"("start": "")")});
  check_rejected("create", {with(R"("create": "yes")"), with(R"("create": 1)")});
  check_rejected("password", {with(R"("password": "")"), with(R"("password": 5)")});
}
