#include "core/alarm_spec.hpp"

#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;
using namespace std::chrono_literals;

namespace {

sys_ms at(std::string_view iso) {
  auto parsed = parse_iso8601(iso);
  INFO("date: " << iso);
  REQUIRE(parsed);
  return *parsed;
}

/// The instant every test treats as "now"; the registration was created then too.
// Not at(): REQUIRE cannot run during static initialization.
const sys_ms now = parse_iso8601("2026-01-15T10:00:00Z").value();

alarm_spec spec(std::string_view json, std::string_view key = "guest/alarm",
                validation_time when = validation_time::request) {
  auto parsed = parse_alarm_spec(params(json), now, when, key);
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

std::string next(const alarm_spec& s, sys_ms after, sys_ms anchor = now) {
  auto t = next_occurrence(s, after, anchor);
  REQUIRE(t);
  return format_iso8601(*t);
}

feed_config config(std::string_view json) {
  auto made =
    make_feed_config("alarm", params(json), now, validation_time::request, "guest/alarm", egress_policy{});
  INFO(json << ": " << (made ? std::string{} : made.error().field + ": " + made.error().message));
  REQUIRE(made);
  return *made;
}

/// Returns the members of a fire body, checking that it is a JSON object.
json_members fire_members(const feed_config& cfg) {
  auto parsed = parse_json_object(cfg.fire_body, "fire_body");
  INFO("fire body: " << cfg.fire_body);
  REQUIRE(parsed);
  return *parsed;
}

} // namespace

// -- cron -----------------------------------------------------------------------

TEST_CASE("a cron alarm without timezone is evaluated in UTC", "[alarm_spec]") {
  auto s = spec(R"({"cron": "0 9 * * *", "strict": true})");
  CHECK(s.schedule == alarm_spec::kind::cron);
  REQUIRE(s.cron);
  CHECK(s.zone != nullptr);
  CHECK(next(s, now) == "2026-01-16T09:00:00.000Z");
}

TEST_CASE("a cron alarm with a timezone fires at the wall time of that zone", "[alarm_spec]") {
  auto s = spec(R"({"cron": "0 9 * * *", "timezone": "Europe/Berlin", "strict": true})");
  CHECK(s.schedule == alarm_spec::kind::cron);
  CHECK(s.zone == find_time_zone("Europe/Berlin"));
  // CET is UTC+1 in winter, CEST UTC+2 in summer.
  CHECK(next(s, now) == "2026-01-16T08:00:00.000Z");
  CHECK(next(s, at("2026-07-01T00:00:00Z")) == "2026-07-01T07:00:00.000Z");
}

TEST_CASE("a five-field cron without strict fires at a stable second derived from the trigger key", "[alarm_spec]") {
  auto first = spec(R"({"cron": "* * * * *"})", "guest/every-minute");
  auto again = spec(R"({"cron": "* * * * *"})", "guest/every-minute");
  CHECK(first.spread_offset >= 0s);
  CHECK(first.spread_offset <= 59s);
  CHECK(first.spread_offset == again.spread_offset);
  // The offset depends on the key alone, not on the schedule or the time of the request.
  auto later = parse_alarm_spec(params(R"({"cron": "*/5 * * * *"})"), now + 1h, validation_time::request,
                                "guest/every-minute");
  REQUIRE(later);
  CHECK(later->spread_offset == first.spread_offset);
}

TEST_CASE("different trigger keys spread five-field cron alarms over the minute", "[alarm_spec]") {
  std::set<std::chrono::seconds::rep> offsets;
  for (int i = 0; i < 50; ++i) {
    auto s = spec(R"({"cron": "* * * * *"})", "guest/alarm-" + std::to_string(i));
    CHECK(s.spread_offset >= 0s);
    CHECK(s.spread_offset <= 59s);
    offsets.insert(s.spread_offset.count());
  }
  // Fifty keys landing on a handful of seconds would defeat the spreading.
  CHECK(offsets.size() > 10);
}

TEST_CASE("a spread cron occurrence is the next minute boundary plus the offset, strictly after", "[alarm_spec]") {
  auto s = spec(R"({"cron": "* * * * *"})", "guest/spread");
  const auto offset = std::chrono::duration_cast<std::chrono::milliseconds>(s.spread_offset);
  for (auto after : {now, now + 1ms, now + offset, now + offset - 1ms, now + 59'999ms, now + 30s + 500ms}) {
    auto t = next_occurrence(s, after, now);
    REQUIRE(t);
    INFO("after " << format_iso8601(after) << " -> " << format_iso8601(*t));
    CHECK(*t > after);
    CHECK(*t - after <= std::chrono::milliseconds{60s});
    CHECK((t->time_since_epoch() - offset) % std::chrono::milliseconds{60s} == 0ms);
  }
}

TEST_CASE("a strict five-field cron fires at second zero", "[alarm_spec]") {
  for (auto strict : {R"(true)", R"("true")"}) {
    auto s = spec(std::string{R"({"cron": "* * * * *", "strict": )"} + strict + "}", "guest/spread");
    CHECK(s.strict);
    CHECK(s.spread_offset == 0s);
    CHECK(next(s, now) == "2026-01-15T10:01:00.000Z");
  }
}

TEST_CASE("a six-field cron is not offset", "[alarm_spec]") {
  auto s = spec(R"({"cron": "30 * * * * *"})", "guest/spread");
  CHECK_FALSE(s.strict);
  CHECK(s.spread_offset == 0s);
  CHECK(next(s, now) == "2026-01-15T10:00:30.000Z");
  CHECK(next(s, at("2026-01-15T10:00:30Z")) == "2026-01-15T10:01:30.000Z");
}

TEST_CASE("strict false keeps the spread of a five-field cron", "[alarm_spec]") {
  auto implicit = spec(R"({"cron": "* * * * *"})", "guest/spread");
  auto explicit_false = spec(R"({"cron": "* * * * *", "strict": false})", "guest/spread");
  auto string_false = spec(R"({"cron": "* * * * *", "strict": "false"})", "guest/spread");
  CHECK_FALSE(explicit_false.strict);
  CHECK_FALSE(string_false.strict);
  CHECK(explicit_false.spread_offset == implicit.spread_offset);
  CHECK(string_false.spread_offset == implicit.spread_offset);
}

TEST_CASE("a cron alarm with startDate fires first at the first occurrence from startDate", "[alarm_spec]") {
  auto s = spec(R"({"cron": "0 * * * *", "strict": true, "startDate": "2026-03-01T10:30:00Z"})");
  REQUIRE(s.start_date);
  CHECK(next(s, now) == "2026-03-01T11:00:00.000Z");
  CHECK(next(s, at("2026-03-01T11:00:00Z")) == "2026-03-01T12:00:00.000Z");
}

TEST_CASE("a cron alarm ends at stopDate", "[alarm_spec]") {
  auto s = spec(R"({"cron": "0 * * * *", "strict": true, "stopDate": "2026-01-15T12:30:00Z"})");
  REQUIRE(s.stop_date);
  CHECK(next(s, now) == "2026-01-15T11:00:00.000Z");
  CHECK(next(s, at("2026-01-15T11:00:00Z")) == "2026-01-15T12:00:00.000Z");
  CHECK_FALSE(next_occurrence(s, at("2026-01-15T12:00:00Z"), now));
}

// -- intervals ------------------------------------------------------------------

TEST_CASE("a minutes interval counts from the creation anchor", "[alarm_spec]") {
  auto s = spec(R"({"minutes": 5})");
  CHECK(s.schedule == alarm_spec::kind::interval);
  CHECK(s.interval == std::chrono::milliseconds{5min});
  CHECK(next(s, now) == "2026-01-15T10:05:00.000Z");
  CHECK(next(s, now + 4min) == "2026-01-15T10:05:00.000Z");
  CHECK(next(s, now + 5min) == "2026-01-15T10:10:00.000Z");
  CHECK(next(s, now + 7min) == "2026-01-15T10:10:00.000Z");
  CHECK(next(s, now + 1h + 1ms) == "2026-01-15T11:05:00.000Z");
}

TEST_CASE("a seconds interval counts from the creation anchor", "[alarm_spec]") {
  auto s = spec(R"({"seconds": 30})");
  CHECK(s.schedule == alarm_spec::kind::interval);
  CHECK(s.interval == std::chrono::milliseconds{30s});
  auto anchor = at("2026-01-15T09:59:50.250Z");
  CHECK(next(s, now, anchor) == "2026-01-15T10:00:20.250Z");
  CHECK(next(s, at("2026-01-15T10:00:20.250Z"), anchor) == "2026-01-15T10:00:50.250Z");
}

TEST_CASE("an interval with startDate fires first at startDate and counts from it", "[alarm_spec]") {
  auto s = spec(R"({"minutes": 10, "startDate": "2026-02-01T00:00:00Z"})");
  REQUIRE(s.start_date);
  CHECK(next(s, now) == "2026-02-01T00:00:00.000Z");
  CHECK(next(s, at("2026-02-01T00:00:00Z")) == "2026-02-01T00:10:00.000Z");
  CHECK(next(s, at("2026-02-01T00:15:00Z")) == "2026-02-01T00:20:00.000Z");
}

TEST_CASE("an interval ends at stopDate", "[alarm_spec]") {
  auto s = spec(R"({"minutes": 5, "stopDate": "2026-01-15T10:12:00Z"})");
  CHECK(next(s, now) == "2026-01-15T10:05:00.000Z");
  CHECK(next(s, now + 5min) == "2026-01-15T10:10:00.000Z");
  CHECK_FALSE(next_occurrence(s, now + 10min, now));
  CHECK_FALSE(next_occurrence(s, now + 1h, now));
}

TEST_CASE("dates may be given as milliseconds since the epoch", "[alarm_spec]") {
  auto start = at("2026-02-01T00:00:00Z");
  auto s = spec(R"({"seconds": 60, "startDate": )" + std::to_string(start.time_since_epoch().count()) + "}");
  REQUIRE(s.start_date);
  CHECK(*s.start_date == start);
}

TEST_CASE("integral numbers sent as doubles are accepted as intervals", "[alarm_spec]") {
  CHECK(spec(R"({"minutes": 5.0})").interval == std::chrono::milliseconds{5min});
  CHECK(spec(R"({"seconds": 6e1})").interval == std::chrono::milliseconds{60s});
}

// -- one-shot dates -------------------------------------------------------------

TEST_CASE("a date alarm fires once at its date", "[alarm_spec]") {
  auto s = spec(R"({"date": "2026-06-01T12:00:00Z"})");
  CHECK(s.schedule == alarm_spec::kind::once);
  REQUIRE(s.date);
  CHECK(*s.date == at("2026-06-01T12:00:00Z"));
  CHECK(s.delete_after_fire == alarm_spec::after_fire::keep);
  CHECK(next(s, now) == "2026-06-01T12:00:00.000Z");
  CHECK(next(s, at("2026-06-01T11:59:59.999Z")) == "2026-06-01T12:00:00.000Z");
  CHECK_FALSE(next_occurrence(s, at("2026-06-01T12:00:00Z"), now));
  CHECK_FALSE(next_occurrence(s, at("2027-01-01T00:00:00Z"), now));
}

TEST_CASE("a date alarm accepts a time zone offset and milliseconds since the epoch", "[alarm_spec]") {
  CHECK(*spec(R"({"date": "2026-06-01T14:00:00+02:00"})").date == at("2026-06-01T12:00:00Z"));
  auto millis = at("2026-06-01T12:00:00Z").time_since_epoch().count();
  CHECK(*spec(R"({"date": )" + std::to_string(millis) + "}").date == at("2026-06-01T12:00:00Z"));
}

TEST_CASE("deleteAfterFire takes OpenWhisk's values with date", "[alarm_spec]") {
  using after = alarm_spec::after_fire;
  auto with = [](std::string_view value) {
    return spec(std::string{R"({"date": "2026-06-01T12:00:00Z", "deleteAfterFire": )"} + std::string{value} + "}")
      .delete_after_fire;
  };
  CHECK(with("true") == after::delete_trigger);
  CHECK(with(R"("true")") == after::delete_trigger);
  CHECK(with(R"("TRUE")") == after::delete_trigger);
  CHECK(with(R"("rules")") == after::delete_trigger_and_rules);
  CHECK(with(R"(" Rules ")") == after::delete_trigger_and_rules);
  CHECK(with("false") == after::keep);
  CHECK(with(R"("false")") == after::keep);
  CHECK(with("0") == after::keep);
  CHECK(with(R"("")") == after::keep);
}

TEST_CASE("deleteAfterFire is ignored on a recurring alarm, as OpenWhisk ignores it", "[alarm_spec]") {
  CHECK(spec(R"({"cron": "* * * * *", "deleteAfterFire": true})").delete_after_fire == alarm_spec::after_fire::keep);
  CHECK(spec(R"({"minutes": 1, "deleteAfterFire": "false"})").delete_after_fire == alarm_spec::after_fire::keep);
}

// -- maxTriggers and the wsk CLI's string forms ------------------------------------

TEST_CASE("maxTriggers limits the fires and -1 or absence means unlimited", "[alarm_spec]") {
  auto limited = spec(R"({"cron": "* * * * *", "maxTriggers": 3})");
  REQUIRE(limited.max_triggers);
  CHECK(*limited.max_triggers == 3);
  CHECK_FALSE(spec(R"({"cron": "* * * * *", "maxTriggers": -1})").max_triggers);
  CHECK_FALSE(spec(R"({"cron": "* * * * *", "maxTriggers": "-1"})").max_triggers);
  CHECK_FALSE(spec(R"({"cron": "* * * * *"})").max_triggers);
}

TEST_CASE("parameters the wsk CLI sends as strings are accepted", "[alarm_spec]") {
  auto minutes = spec(R"({"minutes": "5", "maxTriggers": "5", "strict": "true"})");
  CHECK(minutes.interval == std::chrono::milliseconds{5min});
  REQUIRE(minutes.max_triggers);
  CHECK(*minutes.max_triggers == 5);
  CHECK(minutes.strict);
  CHECK(spec(R"({"seconds": "30"})").interval == std::chrono::milliseconds{30s});
  CHECK(spec(R"({"date": "2026-06-01T12:00:00Z", "deleteAfterFire": "true"})").delete_after_fire
        == alarm_spec::after_fire::delete_trigger);
}

TEST_CASE("parameters that are not alarm parameters are left alone", "[alarm_spec]") {
  auto s = spec(R"({"cron": "* * * * *", "feed": "alarm", "something": [1, 2]})");
  CHECK(s.schedule == alarm_spec::kind::cron);
}

// -- validation time ------------------------------------------------------------

TEST_CASE("restoring a registration accepts dates that have passed while a request rejects them", "[alarm_spec]") {
  const std::vector<std::string_view> past = {
    R"({"date": "2026-01-01T00:00:00Z"})",
    R"({"date": "2026-01-15T10:00:00Z"})",
    R"({"minutes": 5, "stopDate": "2026-01-01T00:00:00Z"})",
    R"({"cron": "* * * * *", "startDate": "2025-12-01T00:00:00Z", "stopDate": "2026-01-01T00:00:00Z"})",
  };
  for (auto json : past) {
    INFO(json);
    CHECK_FALSE(parse_alarm_spec(params(json), now, validation_time::request, "guest/alarm"));
    CHECK(parse_alarm_spec(params(json), now, validation_time::restore, "guest/alarm"));
  }
}

TEST_CASE("a restored one-shot alarm whose date has passed has no next occurrence", "[alarm_spec]") {
  auto s = spec(R"({"date": "2026-01-01T00:00:00Z"})", "guest/alarm", validation_time::restore);
  CHECK_FALSE(next_occurrence(s, now, now));
}

TEST_CASE("a stored startDate in the past keeps the interval's phase", "[alarm_spec]") {
  auto s = spec(R"({"minutes": 5, "startDate": "2026-01-15T09:58:00Z"})", "guest/alarm", validation_time::restore);
  CHECK(next(s, now) == "2026-01-15T10:03:00.000Z");
}

// -- the time range and bounded schedules ---------------------------------------------

TEST_CASE("a date at the end of the time range is accepted in both forms", "[alarm_spec]") {
  for (auto json : {R"({"date": "9999-12-31T23:59:59.999Z"})", R"({"date": 253402300799999})",
                    R"({"date": "9999-12-31T22:59:59.999-01:00"})"}) {
    auto s = spec(json);
    REQUIRE(s.date);
    CHECK(*s.date == latest_time);
    CHECK(next(s, now) == "9999-12-31T23:59:59.999Z");
    CHECK_FALSE(next_occurrence(s, latest_time, now));
  }
}

TEST_CASE("a cron whose startDate lies in the last year of the range fires there, then ends", "[alarm_spec]") {
  auto s = spec(R"({"cron": "0 0 1 1 *", "strict": true, "startDate": "9999-01-01T00:00:00Z"})");
  CHECK(next(s, now) == "9999-01-01T00:00:00.000Z");
  CHECK_FALSE(next_occurrence(s, at("9999-01-01T00:00:00Z"), now));
}

TEST_CASE("an interval whose startDate is the last instant of the range fires once", "[alarm_spec]") {
  auto s = spec(R"({"seconds": 1, "startDate": "9999-12-31T23:59:59.999Z"})");
  CHECK(next(s, now) == "9999-12-31T23:59:59.999Z");
  CHECK_FALSE(next_occurrence(s, latest_time, now));
}

TEST_CASE("the spread second never moves an occurrence past the range", "[alarm_spec]") {
  for (int i = 0; i < 20; ++i) {
    auto s = spec(R"({"cron": "59 23 31 12 *", "startDate": "9999-12-31T00:00:00Z"})",
                  "guest/late-" + std::to_string(i));
    auto t = next_occurrence(s, now, now);
    REQUIRE(t);
    CHECK(*t <= latest_time);
    CHECK(format_iso8601(*t).substr(0, 17) == "9999-12-31T23:59:");
  }
}

TEST_CASE("next_occurrence takes any time from the store or the clock without overflow", "[alarm_spec]") {
  auto cron = spec(R"({"cron": "0 0 1 1 *", "strict": true})");
  auto interval = spec(R"({"minutes": 5})");
  for (const auto& s : {cron, interval}) {
    CHECK_FALSE(next_occurrence(s, sys_ms::max(), now));
    CHECK_FALSE(next_occurrence(s, latest_time, now));
    auto first = next_occurrence(s, sys_ms::min(), sys_ms::min());
    REQUIRE(first);
    CHECK(in_time_range(*first));
  }
  CHECK(format_iso8601(*next_occurrence(cron, sys_ms::min(), now)) == "1970-01-01T00:00:00.000Z");
  // An interval anchored beyond the range has nothing left in it.
  CHECK_FALSE(next_occurrence(interval, now, sys_ms::max()));
  CHECK(first_occurrence(interval, now, now, sys_ms::max()) == std::nullopt);
}

TEST_CASE("an alarm timer waits for its occurrence, a day at most", "[alarm_spec]") {
  CHECK(alarm_timer_delay(now + 90s, now) == 90s);
  CHECK(alarm_timer_delay(now + 24h - 1ms, now) == 24h - 1ms);
  CHECK(alarm_timer_delay(now + 24h, now) == 24h);
  CHECK(alarm_timer_delay(now + 24h + 1ms, now) == 24h);
  CHECK(alarm_timer_delay(now, now) == 0ms);
  CHECK(alarm_timer_delay(now - 1s, now) == 0ms);
  // An occurrence in year 9999 is eight millennia away: far beyond the nanoseconds an actor clock counts.
  CHECK(alarm_timer_delay(latest_time, now) == alarm_max_timer_delay);
  CHECK(alarm_timer_delay(sys_ms::max(), sys_ms::min()) == alarm_max_timer_delay);
  CHECK(alarm_timer_delay(sys_ms::min(), sys_ms::max()) == 0ms);
}

TEST_CASE("intervals and maxTriggers are accepted at the ends of their ranges", "[alarm_spec]") {
  CHECK(spec(R"({"minutes": 1})").interval == std::chrono::milliseconds{1min});
  CHECK(spec(R"({"minutes": 5270400})").interval == std::chrono::milliseconds{std::chrono::hours{24 * 366 * 10}});
  CHECK(spec(R"({"seconds": 1})").interval == std::chrono::milliseconds{1s});
  CHECK(spec(R"({"seconds": 316224000})").interval == std::chrono::milliseconds{std::chrono::hours{24 * 366 * 10}});
  CHECK(spec(R"({"cron": "* * * * *", "maxTriggers": 1})").max_triggers == 1);
  CHECK(spec(R"({"cron": "* * * * *", "maxTriggers": 1000000000})").max_triggers == 1'000'000'000);
  CHECK_FALSE(spec(R"({"cron": "* * * * *", "maxTriggers": -1})").max_triggers);
}

TEST_CASE("lenient numbers are stored normalized", "[alarm_spec]") {
  auto cfg = config(R"({"minutes": "5", "maxTriggers": 1000.0, "startDate": 1.7695e12, "stopDate": "2027-01-01",)"
                    R"( "batchSize": "3", "name": "5"})");
  CHECK(cfg.params == params(R"({"minutes": 5, "maxTriggers": 1000, "startDate": 1769500000000,)"
                             R"( "stopDate": "2027-01-01", "batchSize": 3, "name": "5"})"));
  REQUIRE(cfg.alarm->max_triggers);
  CHECK(*cfg.alarm->max_triggers == 1000);
}

TEST_CASE("a stored schedule that has no occurrence left is still restored", "[alarm_spec]") {
  // Its trigger ends it (disabled, saying why) instead of the registry refusing its parameters.
  auto s = spec(R"({"cron": "0 0 1 1 *", "startDate": "9999-12-31T23:59:59Z"})", "guest/alarm",
                validation_time::restore);
  CHECK_FALSE(next_occurrence(s, now, now));
}

// -- feed config and trigger_payload ------------------------------------------------

TEST_CASE("an alarm feed config keeps its parameters and fires an empty object by default", "[alarm_spec]") {
  auto cfg = config(R"({"cron": "*/5 * * * *", "maxTriggers": 2})");
  CHECK(cfg.feed == "alarm");
  REQUIRE(cfg.alarm);
  CHECK(cfg.alarm->schedule == alarm_spec::kind::cron);
  CHECK(cfg.params == params(R"({"cron": "*/5 * * * *", "maxTriggers": 2})"));
  CHECK(cfg.fire_body == "{}");
  CHECK(is_known_feed("alarm"));
  CHECK_FALSE(is_known_feed("no-such-feed"));
  CHECK_FALSE(is_known_feed(""));
}

TEST_CASE("an object trigger_payload is the fire body", "[alarm_spec]") {
  auto cfg = config(R"({"minutes": 1, "trigger_payload": {"name": "Odin", "nested": {"list": [1, 2]}}})");
  CHECK(fire_members(cfg) == params(R"({"name": "Odin", "nested": {"list": [1, 2]}})"));
  CHECK(find_member(cfg.params, "trigger_payload") != nullptr);
}

TEST_CASE("a string trigger_payload is wrapped as payload", "[alarm_spec]") {
  auto cfg = config(R"({"minutes": 1, "trigger_payload": "hello \"world\""})");
  auto body = fire_members(cfg);
  REQUIRE(body.size() == 1);
  CHECK(body[0].first == "payload");
  CHECK(json_as_string(body[0].second) == std::string{"hello \"world\""});
}

TEST_CASE("a string trigger_payload holding a JSON object is wrapped as payload, as OpenWhisk wraps it",
          "[alarm_spec]") {
  auto cfg = config(R"({"minutes": 1, "trigger_payload": "{\"a\": 1, \"b\": \"x\"}"})");
  CHECK(fire_members(cfg) == params(R"({"payload": "{\"a\": 1, \"b\": \"x\"}"})"));
}

TEST_CASE("a string trigger_payload holding JSON that is not an object stays a string", "[alarm_spec]") {
  auto cfg = config(R"({"minutes": 1, "trigger_payload": "[1, 2]"})");
  auto body = fire_members(cfg);
  REQUIRE(body.size() == 1);
  CHECK(body[0].first == "payload");
  CHECK(json_as_string(body[0].second) == std::string{"[1, 2]"});
}
