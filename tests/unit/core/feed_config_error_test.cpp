#include "core/feed_config.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "feed_int_params.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::documented_int_params;
using feedrouter::test::params;
using feedrouter::test::with_value;

namespace {

const sys_ms now = parse_iso8601("2026-01-15T10:00:00Z").value();

void check_refused(std::string_view feed, const std::string& json, std::string_view field) {
  INFO(feed << ": " << json);
  auto cfg = make_feed_config(feed, params(json), now, validation_time::request, "guest/numbers", egress_policy{});
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().field == field);
  CHECK_FALSE(cfg.error().message.empty());
}

} // namespace

TEST_CASE("every integer parameter just outside its documented range is refused, naming it", "[feed_config]") {
  for (const auto& param : documented_int_params()) {
    check_refused(param.feed, with_value(param, std::to_string(param.min - 1)), param.name);
    check_refused(param.feed, with_value(param, std::to_string(param.max + 1)), param.name);
    check_refused(param.feed, with_value(param, "\"" + std::to_string(param.max + 1) + "\""), param.name);
  }
}

TEST_CASE("every integer parameter in a form OpenWhisk does not take is refused, naming it", "[feed_config]") {
  for (const auto& param : documented_int_params()) {
    for (auto value : {R"("0x5")", R"("1e3")", R"("")", R"("-")", R"("five")", "5.5", "1e300", "-1e300",
                       "18446744073709551615", "true", "null", "[5]", R"({"n": 5})"}) {
      check_refused(param.feed, with_value(param, value), param.name);
    }
    if (param.openwhisk_strings)
      continue;
    for (auto value : {R"(" 5")", R"("5 ")", R"("\t5")", R"("+5")", R"("5.0")"})
      check_refused(param.feed, with_value(param, value), param.name);
  }
}
