#include "core/alarm_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;

namespace {

const sys_ms now = parse_iso8601("2026-01-15T10:00:00Z").value();

/// Malformed alarm parameters and the field the error must name.
struct bad_params {
  std::string_view json;
  std::string_view field;
};

void check_rejected(const std::vector<bad_params>& cases) {
  for (const auto& c : cases) {
    INFO("params: " << c.json);
    auto parsed = parse_alarm_spec(params(c.json), now, validation_time::request, "guest/alarm");
    REQUIRE_FALSE(parsed);
    INFO("error: " << parsed.error().field << ": " << parsed.error().message);
    CHECK(parsed.error().field == c.field);
    CHECK_FALSE(parsed.error().message.empty());
    // The feed config reports the same error for the same parameters.
    auto cfg =
      make_feed_config("alarm", params(c.json), now, validation_time::request, "guest/alarm", egress_policy{});
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().field == c.field);
  }
}

} // namespace

TEST_CASE("an alarm without a schedule names cron", "[alarm_spec]") {
  check_rejected({
    {R"({})", "cron"},
    {R"({"maxTriggers": 3, "strict": true})", "cron"},
    {R"({"timezone": "Europe/Berlin"})", "cron"},
    {R"({"trigger_payload": {"a": 1}})", "cron"},
  });
}

TEST_CASE("combined schedules name the second one given", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "* * * * *", "minutes": 5})", "minutes"},
    {R"({"cron": "* * * * *", "seconds": 5})", "seconds"},
    {R"({"cron": "* * * * *", "date": "2026-06-01T00:00:00Z"})", "date"},
    {R"({"minutes": 5, "seconds": 5})", "seconds"},
    {R"({"minutes": 5, "date": "2026-06-01T00:00:00Z"})", "date"},
    {R"({"seconds": 5, "date": "2026-06-01T00:00:00Z"})", "date"},
  });
}

TEST_CASE("a malformed cron names cron", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": 5})", "cron"},
    {R"({"cron": null})", "cron"},
    {R"({"cron": ["*", "*"]})", "cron"},
    {R"({"cron": ""})", "cron"},
    {R"({"cron": "every minute"})", "cron"},
    {R"({"cron": "61 * * * *"})", "cron"},
    {R"({"cron": "* * * *"})", "cron"},
    {R"({"cron": "0 0 31 2 *"})", "cron"},
  });
}

TEST_CASE("a malformed or misplaced timezone names timezone", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "* * * * *", "timezone": "Mars/Olympus_Mons"})", "timezone"},
    {R"({"cron": "* * * * *", "timezone": 1})", "timezone"},
    {R"({"minutes": 5, "timezone": "Europe/Berlin"})", "timezone"},
    {R"({"date": "2026-06-01T00:00:00Z", "timezone": "UTC"})", "timezone"},
  });
}

TEST_CASE("a malformed interval names minutes or seconds", "[alarm_spec]") {
  check_rejected({
    {R"({"minutes": 0})", "minutes"},
    {R"({"minutes": -5})", "minutes"},
    {R"({"minutes": 1.5})", "minutes"},
    {R"({"minutes": "five"})", "minutes"},
    {R"({"minutes": "5x"})", "minutes"},
    {R"({"minutes": ""})", "minutes"},
    {R"({"minutes": "0"})", "minutes"},
    {R"({"minutes": true})", "minutes"},
    {R"({"minutes": null})", "minutes"},
    {R"({"minutes": "99999999999999999999"})", "minutes"},
    {R"({"seconds": 0})", "seconds"},
    {R"({"seconds": -1})", "seconds"},
    {R"({"seconds": "30s"})", "seconds"},
    {R"({"seconds": {}})", "seconds"},
  });
}

TEST_CASE("an interval too long to count in milliseconds names its field", "[alarm_spec]") {
  // minutes * 60000 and seconds * 1000 overflow int64 milliseconds; 2^59 minutes and 2^61 seconds even wrap to an
  // interval of zero, on which next_occurrence divides by zero.
  check_rejected({
    {R"({"minutes": 576460752303423488})", "minutes"},
    {R"({"seconds": 2305843009213693952})", "seconds"},
    {R"({"minutes": 9223372036854775807})", "minutes"},
  });
}

TEST_CASE("a malformed or past date names date", "[alarm_spec]") {
  check_rejected({
    {R"({"date": "tomorrow"})", "date"},
    {R"({"date": "2026-13-01T00:00:00Z"})", "date"},
    {R"({"date": "2026-02-30T00:00:00Z"})", "date"},
    {R"({"date": ""})", "date"},
    {R"({"date": true})", "date"},
    {R"({"date": {}})", "date"},
    {R"({"date": null})", "date"},
    {R"({"date": "2026-01-01T00:00:00Z"})", "date"},
    {R"({"date": "2026-01-15T10:00:00Z"})", "date"},
    {R"({"date": 0})", "date"},
  });
}

TEST_CASE("a malformed or misplaced startDate names startDate", "[alarm_spec]") {
  check_rejected({
    {R"({"minutes": 5, "startDate": "soon"})", "startDate"},
    {R"({"minutes": 5, "startDate": false})", "startDate"},
    {R"({"cron": "* * * * *", "startDate": "2026-02-30"})", "startDate"},
    {R"({"date": "2026-06-01T00:00:00Z", "startDate": "2026-02-01T00:00:00Z"})", "startDate"},
  });
}

TEST_CASE("a malformed, past, early or misplaced stopDate names stopDate", "[alarm_spec]") {
  check_rejected({
    {R"({"minutes": 5, "stopDate": "later"})", "stopDate"},
    {R"({"minutes": 5, "stopDate": []})", "stopDate"},
    {R"({"minutes": 5, "stopDate": "2026-01-01T00:00:00Z"})", "stopDate"},
    {R"({"minutes": 5, "startDate": "2026-03-01T00:00:00Z", "stopDate": "2026-02-01T00:00:00Z"})", "stopDate"},
    {R"({"minutes": 5, "startDate": "2026-03-01T00:00:00Z", "stopDate": "2026-03-01T00:00:00Z"})", "stopDate"},
    {R"({"date": "2026-06-01T00:00:00Z", "stopDate": "2026-07-01T00:00:00Z"})", "stopDate"},
  });
}

TEST_CASE("a malformed maxTriggers names maxTriggers", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "* * * * *", "maxTriggers": -2})", "maxTriggers"},
    {R"({"cron": "* * * * *", "maxTriggers": 2.5})", "maxTriggers"},
    {R"({"cron": "* * * * *", "maxTriggers": "many"})", "maxTriggers"},
    {R"({"cron": "* * * * *", "maxTriggers": true})", "maxTriggers"},
    {R"({"cron": "* * * * *", "maxTriggers": null})", "maxTriggers"},
  });
}

TEST_CASE("dates outside 1970 to 9999 are refused in both forms, naming the field", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "0 0 1 1 *", "startDate": 9223372036854775807})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": 8640000000000000})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": 253402300800000})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": -1})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": -9223372036854775808})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": 1e300})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": "1969-12-31T23:59:59Z"})", "startDate"},
    {R"({"date": 9223372036854775807})", "date"},
    {R"({"date": 253402300800000})", "date"},
    {R"({"date": "10000-01-01T00:00:00Z"})", "date"},
    {R"({"date": "9999-12-31T23:59:59.999-00:01"})", "date"},
    {R"({"date": 1780000000000.5})", "date"},
    {R"({"date": "1780000000000"})", "date"},
    {R"({"minutes": 5, "stopDate": 253402300800000})", "stopDate"},
    {R"({"minutes": 5, "stopDate": "+10000-01-01T00:00:00Z"})", "stopDate"},
  });
}

TEST_CASE("a schedule without an occurrence before the end of the range is refused", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "0 0 1 1 *", "startDate": "9999-12-31T23:59:59Z"})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": "9999-01-01T00:01:00Z", "strict": true})", "startDate"},
    // 9996 is the last leap year of the range.
    {R"({"cron": "0 0 29 2 *", "startDate": "9996-03-01T00:00:00Z"})", "startDate"},
    // New Year's Eve at 23:00 in New York is the year 10000 in UTC.
    {R"({"cron": "0 23 31 12 *", "timezone": "America/New_York", "startDate": "9999-06-01"})", "startDate"},
  });
}

TEST_CASE("a schedule whose first occurrence is after stopDate is refused, naming stopDate", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "0 0 1 1 *", "stopDate": "2026-06-01T00:00:00Z"})", "stopDate"},
    {R"({"cron": "0 0 29 2 *", "startDate": "2026-03-01", "stopDate": "2028-02-28T23:59:59Z"})", "stopDate"},
    {R"({"minutes": 60, "stopDate": "2026-01-15T10:30:00Z"})", "stopDate"},
  });
}

TEST_CASE("intervals and maxTriggers just outside their ranges are refused", "[alarm_spec]") {
  check_rejected({
    {R"({"minutes": 5270401})", "minutes"},
    {R"({"seconds": 316224001})", "seconds"},
    {R"({"cron": "* * * * *", "maxTriggers": 1000000001})", "maxTriggers"},
    {R"({"cron": "* * * * *", "maxTriggers": 9223372036854775807})", "maxTriggers"},
    {R"({"cron": "* * * * *", "maxTriggers": -2})", "maxTriggers"},
  });
}

TEST_CASE("numbers in forms OpenWhisk does not take are refused, naming the field", "[alarm_spec]") {
  for (auto field : {"minutes", "seconds", "maxTriggers"}) {
    for (auto value : {R"("0x5")", R"("1e3")", R"("")", R"("-")", "5.5", "1e300", "-1e300", "18446744073709551615",
                       R"("99999999999999999999")", R"("5.5")", "true"}) {
      // maxTriggers needs a schedule beside it; minutes and seconds are one.
      auto json = std::string{R"({"cron": "* * * * *", ")"} + field + R"(": )" + value + "}";
      if (std::string_view{field} != "maxTriggers")
        json = std::string{R"({")"} + field + R"(": )" + value + "}";
      check_rejected({{json, field}});
    }
  }
  // Only `seconds`, feedrouter's own, keeps to plain digits; OpenWhisk's `minutes` check takes these too.
  for (auto value : {R"(" 5")", R"("5 ")", R"("+5")", R"("5.0")"})
    check_rejected({{std::string{R"({"seconds": )"} + value + "}", "seconds"}});
}

TEST_CASE("time zones that are no IANA zone names are refused", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "* * * * *", "timezone": "localtime"})", "timezone"},
    {R"({"cron": "* * * * *", "timezone": "posixrules"})", "timezone"},
    {R"({"cron": "* * * * *", "timezone": "Factory"})", "timezone"},
    {R"({"cron": "* * * * *", "timezone": "right/UTC"})", "timezone"},
    {R"({"cron": "* * * * *", "timezone": "/etc/localtime"})", "timezone"},
    {R"({"cron": "* * * * *", "timezone": "../../../../etc/passwd"})", "timezone"},
    {R"({"cron": "* * * * *", "timezone": "Europe/../UTC"})", "timezone"},
  });
}

TEST_CASE("stored parameters out of range are refused at start-up too, naming the field", "[alarm_spec]") {
  // The registry then starts the registration disabled (AUTO) with this field in its reason.
  const std::vector<bad_params> stored = {
    {R"({"cron": "0 0 1 1 *", "startDate": 9223372036854775807})", "startDate"},
    {R"({"cron": "0 0 1 1 *", "startDate": 8640000000000000})", "startDate"},
    {R"({"date": 9223372036854775807})", "date"},
    {R"({"minutes": 5, "stopDate": 253402300800000})", "stopDate"},
    {R"({"cron": "* * * * *", "timezone": "localtime"})", "timezone"},
    {R"({"cron": "* * * * *", "maxTriggers": "0x5"})", "maxTriggers"},
    {R"({"cron": "* * * * *", "maxTriggers": 10000000000})", "maxTriggers"},
  };
  for (const auto& c : stored) {
    INFO("params: " << c.json);
    auto parsed = parse_alarm_spec(params(c.json), now, validation_time::restore, "guest/alarm");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == c.field);
  }
}

TEST_CASE("a malformed or misplaced deleteAfterFire names deleteAfterFire", "[alarm_spec]") {
  check_rejected({
    {R"({"date": "2026-06-01T00:00:00Z", "deleteAfterFire": "yes"})", "deleteAfterFire"},
    {R"({"date": "2026-06-01T00:00:00Z", "deleteAfterFire": 1})", "deleteAfterFire"},
    {R"({"date": "2026-06-01T00:00:00Z", "deleteAfterFire": "rule"})", "deleteAfterFire"},
    {R"({"date": "2026-06-01T00:00:00Z", "deleteAfterFire": [true]})", "deleteAfterFire"},
  });
}

TEST_CASE("a malformed strict names strict", "[alarm_spec]") {
  check_rejected({
    {R"({"cron": "* * * * *", "strict": "yes"})", "strict"},
    {R"({"cron": "* * * * *", "strict": 1})", "strict"},
    {R"({"cron": "* * * * *", "strict": {}})", "strict"},
  });
}

TEST_CASE("a trigger_payload that is neither an object nor a string names trigger_payload", "[alarm_spec]") {
  for (auto json : {R"({"minutes": 1, "trigger_payload": 5})", R"({"minutes": 1, "trigger_payload": [1, 2]})",
                    R"({"minutes": 1, "trigger_payload": true})", R"({"minutes": 1, "trigger_payload": null})"}) {
    INFO(json);
    auto cfg =
      make_feed_config("alarm", params(json), now, validation_time::request, "guest/alarm", egress_policy{});
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().field == "trigger_payload");
  }
}

TEST_CASE("an unknown feed kind names feed", "[alarm_spec]") {
  for (auto feed : {"", "alarms", "Alarm", "no-such-feed"}) {
    INFO("feed: '" << feed << "'");
    auto cfg = make_feed_config(feed, params(R"({"minutes": 1})"), now, validation_time::request, "guest/alarm",
                                egress_policy{});
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().field == "feed");
  }
}
