// OpenWhisk's three alarm feeds as parse_alarm_spec reads them: `interval` (isInterval), `once` (fireOnce) and
// `alarm`, each with its own parameters; the rest of the parameter matrix runs through the feed actions
// (feeds/test/matrix.integration.test.js).

#include "core/alarm_spec.hpp"

#include <chrono>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;
using namespace std::chrono_literals;

namespace {

const sys_ms now = parse_iso8601("2026-01-15T10:00:00Z").value();

outcome<alarm_spec> parse(std::string_view json, validation_time when = validation_time::request,
                          const json_members* given = nullptr) {
  return parse_alarm_spec(params(json), now, when, "guest/alarm", given);
}

alarm_spec spec(std::string_view json) {
  auto parsed = parse(json);
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

field_error refusal(std::string_view json) {
  auto parsed = parse(json);
  INFO(json);
  REQUIRE_FALSE(parsed);
  return parsed.error();
}

feed_config config(std::string_view json) {
  auto made = make_feed_config("alarm", params(json), now, validation_time::request, "guest/alarm", egress_policy{});
  INFO(json << ": " << (made ? std::string{} : made.error().field + ": " + made.error().message));
  REQUIRE(made);
  return *made;
}

} // namespace

// -- interval -------------------------------------------------------------------------------

TEST_CASE("the interval feed fires 30 s after CREATE, then every minutes, as OpenWhisk's", "[alarm_feeds]") {
  auto s = spec(R"({"isInterval": true, "minutes": 5})");
  CHECK(s.action == alarm_spec::feed_action::interval);
  CHECK(s.schedule == alarm_spec::kind::interval);
  CHECK(s.start_date == now + 30s);
  CHECK(next_occurrence(s, now, now) == now + 30s);
  CHECK(next_occurrence(s, now + 30s, now) == now + 30s + 5min);
  // The implied startDate is stored as OpenWhisk stores it, as milliseconds.
  auto cfg = config(R"({"isInterval": true, "minutes": " 5 "})");
  CHECK(*find_member(cfg.params, "startDate") == std::to_string((now + 30s).time_since_epoch().count()));
  CHECK(*find_member(cfg.params, "minutes") == "5");
}

TEST_CASE("the interval feed ignores the other feeds' parameters and maxTriggers", "[alarm_feeds]") {
  // Rows I23, I25 and I26.
  auto s = spec(R"({"isInterval": true, "minutes": 5, "cron": "* * * * *", "timezone": "Bogus/Zone",
                    "maxTriggers": 3, "date": "bad"})");
  CHECK(s.schedule == alarm_spec::kind::interval);
  CHECK_FALSE(s.max_triggers);
}

TEST_CASE("the interval feed refuses what OpenWhisk's refuses, with its words", "[alarm_feeds]") {
  auto missing = refusal(R"({"isInterval": true})");
  CHECK(missing.field == "minutes");
  CHECK(missing.message == "interval trigger feed is missing the minutes parameter");
  CHECK(refusal(R"({"isInterval": true, "minutes": 0})").message
        == "interval trigger feed is missing the minutes parameter");
  CHECK(refusal(R"({"isInterval": true, "minutes": "0"})").message
        == "the minutes parameter must be an integer greater than zero");
  CHECK(refusal(R"({"isInterval": true, "minutes": -5})").message
        == "the minutes parameter must be an integer greater than zero");
  CHECK(refusal(R"({"isInterval": true, "minutes": 5.5})").message == "the minutes parameter must be an integer");
  CHECK(refusal(R"({"isInterval": true, "minutes": "1e3"})").message == "the minutes parameter must be an integer");
  auto with_stop = refusal(R"({"isInterval": true, "minutes": 5, "maxTriggers": 3,
                               "stopDate": "2026-02-01T00:00:00Z"})");
  CHECK(with_stop.field == "maxTriggers");
  CHECK(with_stop.message == "maxTriggers is not supported for the interval trigger feed");
  // Row I22: stopDate before the automatic startDate (CREATE + 30 s).
  auto early = refusal(R"({"isInterval": true, "minutes": 5, "stopDate": "2026-01-15T10:00:10Z"})");
  CHECK(early.field == "stopDate");
  CHECK(early.message.find("must be greater than the startDate parameter") != std::string::npos);
  auto past = refusal(R"({"isInterval": true, "minutes": 5, "startDate": "2026-01-15T09:00:00Z"})");
  CHECK(past.field == "startDate");
  CHECK(past.message == "startDate parameter '2026-01-15T09:00:00Z' must be in the future");
}

// -- once ---------------------------------------------------------------------------------

TEST_CASE("the once feed reads date and deleteAfterFire and ignores the rest", "[alarm_feeds]") {
  // Rows O1, O16 to O22, O25 to O27.
  auto s = spec(R"({"fireOnce": true, "date": "2026-06-01T12:00:00", "deleteAfterFire": " Rules ",
                    "startDate": "2026-01-01T00:00:00Z", "cron": "bad", "minutes": 5, "maxTriggers": 5})");
  CHECK(s.action == alarm_spec::feed_action::once);
  CHECK(s.schedule == alarm_spec::kind::once);
  CHECK(s.date == parse_iso8601("2026-06-01T12:00:00Z"));
  CHECK(s.delete_after_fire == alarm_spec::after_fire::delete_trigger_and_rules);
  CHECK_FALSE(s.start_date);
  CHECK_FALSE(s.max_triggers);
  // fireOnce wins over isInterval, as in OpenWhisk's web action.
  CHECK(spec(R"({"fireOnce": true, "isInterval": true, "date": "2026-06-01T12:00:00Z"})").schedule
        == alarm_spec::kind::once);
}

TEST_CASE("deleteAfterFire is stored as OpenWhisk stores it", "[alarm_feeds]") {
  CHECK(*find_member(config(R"({"fireOnce": true, "date": "2026-06-01T12:00:00Z", "deleteAfterFire": "TRUE"})").params,
                     "deleteAfterFire")
        == R"("true")");
  CHECK(*find_member(config(R"({"fireOnce": true, "date": "2026-06-01T12:00:00Z", "deleteAfterFire": true})").params,
                     "deleteAfterFire")
        == R"("true")");
  CHECK(find_member(config(R"({"fireOnce": true, "date": "2026-06-01T12:00:00Z", "deleteAfterFire": 0})").params,
                    "deleteAfterFire")
        == nullptr);
}

TEST_CASE("the once feed refuses what OpenWhisk's refuses, naming the parameter", "[alarm_feeds]") {
  for (auto json : {R"({"fireOnce": true})", R"({"fireOnce": true, "date": 0})", R"({"fireOnce": true, "date": ""})"}) {
    auto missing = refusal(json);
    CHECK(missing.field == "date");
    CHECK(missing.message == "alarms once trigger feed is missing the date parameter");
  }
  auto past = refusal(R"({"fireOnce": true, "date": "2026-01-01T00:00:00Z"})");
  CHECK(past.message == "date parameter '2026-01-01T00:00:00Z' must be in the future");
  auto invalid = refusal(R"({"fireOnce": true, "date": "tomorrow"})");
  CHECK(invalid.field == "date");
  CHECK(invalid.message.rfind("date parameter 'tomorrow' is not a valid Date", 0) == 0);
  for (auto value : {R"("yes")", "1"}) {
    auto bad = refusal(std::string{R"({"fireOnce": true, "date": "2026-06-01T12:00:00Z", "deleteAfterFire": )"}
                       + value + "}");
    CHECK(bad.field == "deleteAfterFire");
    CHECK(bad.message == "deleteAfterFire parameter must be one of [false, true, rules].");
  }
}

// -- alarm ----------------------------------------------------------------------------------

TEST_CASE("the alarm feed takes OpenWhisk's forms of its options", "[alarm_feeds]") {
  // Rows A24, A36, A39, A46.
  CHECK(spec(R"({"cron": "* * * * *", "timezone": ""})").zone == find_time_zone("UTC"));
  CHECK_FALSE(spec(R"({"cron": "* * * * *", "maxTriggers": 0})").max_triggers);
  CHECK(spec(R"({"cron": "* * * * *", "strict": "True"})").strict);
  CHECK(spec(R"({"cron": "* * * * *", "deleteAfterFire": true})").delete_after_fire == alarm_spec::after_fire::keep);
  // Rows A47 and A48: OpenWhisk's flags on the alarm feed pick the other feeds.
  CHECK(spec(R"({"fireOnce": true, "date": "2026-06-01T12:00:00Z"})").schedule == alarm_spec::kind::once);
  CHECK(spec(R"({"isInterval": "true", "minutes": 5})").action == alarm_spec::feed_action::interval);
}

TEST_CASE("the alarm feed refuses what OpenWhisk's refuses, naming the parameter", "[alarm_feeds]") {
  auto missing = refusal("{}");
  CHECK(missing.field == "cron");
  CHECK(missing.message.rfind("alarms trigger feed is missing the cron parameter", 0) == 0);
  auto with_stop = refusal(R"({"cron": "* * * * *", "maxTriggers": 3, "stopDate": "2026-02-01T00:00:00Z"})");
  CHECK(with_stop.field == "maxTriggers");
  CHECK(with_stop.message == "maxTriggers is not allowed when the stopDate parameter is specified");
  auto past_start = refusal(R"({"cron": "* * * * *", "startDate": "2026-01-01T00:00:00Z"})");
  CHECK(past_start.field == "startDate");
  CHECK(past_start.message == "startDate parameter '2026-01-01T00:00:00Z' must be in the future");
  auto late_first = refusal(R"({"cron": "0 0 1 0 *", "cronMonths": "0-11", "stopDate": "2026-06-01T00:00:00Z"})");
  CHECK(late_first.field == "stopDate");
  CHECK(late_first.message.rfind("the first scheduled trigger fire is not until after the stop date", 0) == 0);
  CHECK(refusal(R"({"cron": "* * * * *", "strict": "yes"})").field == "strict");
  CHECK(refusal(R"({"cron": "* * * * *", "fireOnce": "maybe"})").field == "fireOnce");
}

TEST_CASE("limitCronFields allows a seconds field only when it is 0", "[alarm_feeds]") {
  // Rows A26 and A27.
  auto limited = refusal(R"({"cron": "*/30 * * * * *", "limitCronFields": true})");
  CHECK(limited.field == "cron");
  CHECK(limited.message == "cron pattern is limited to 5 fields with 1 minute as the finest granularity");
  CHECK(refusal(R"({"cron": "00 * * * * *", "limitCronFields": true})").field == "cron");
  CHECK(spec(R"({"cron": "0 * * * * *", "limitCronFields": true})").cron->has_seconds());
  CHECK(spec(R"({"cron": "*/30 * * * * *", "limitCronFields": false})").cron->has_seconds());
}

TEST_CASE("cronMonths picks how the cron reads month numbers", "[alarm_feeds]") {
  CHECK(spec(R"({"cron": "0 9 1 11 *"})").months == cron_months::standard);
  CHECK(spec(R"({"cron": "0 9 1 11 *", "cronMonths": "1-12"})").months == cron_months::standard);
  auto openwhisk = spec(R"({"cron": "0 9 1 11 *", "cronMonths": "0-11", "strict": true})");
  CHECK(openwhisk.months == cron_months::openwhisk);
  CHECK(format_iso8601(*next_occurrence(openwhisk, now, now)) == "2026-12-01T09:00:00.000Z");
  CHECK(refusal(R"({"cron": "0 9 1 12 *", "cronMonths": "0-11"})").field == "cron");
  CHECK(refusal(R"({"cron": "0 9 1 1 *", "cronMonths": "openwhisk"})").field == "cronMonths");
}

// -- UPDATE ---------------------------------------------------------------------------------

TEST_CASE("on UPDATE only dates the request gives must lie in the future", "[alarm_feeds]") {
  // An interval created a while ago: its stored startDate has passed.
  auto stored = R"({"isInterval": true, "minutes": 5, "startDate": "2026-01-15T09:00:00Z"})";
  auto changes = params(R"({"minutes": 10})");
  CHECK(parse(stored, validation_time::request, &changes));
  auto moved = params(R"({"startDate": "2026-01-15T09:00:00Z"})");
  CHECK_FALSE(parse(stored, validation_time::request, &moved));
  // A one-shot alarm whose date has passed takes a new payload (and stays ended); a new past date is refused.
  auto fired = R"({"fireOnce": true, "date": "2026-01-01T00:00:00Z"})";
  auto payload = params(R"({"trigger_payload": {"a": 1}})");
  CHECK(parse(fired, validation_time::request, &payload));
  auto date = params(R"({"date": "2026-01-01T00:00:00Z"})");
  CHECK_FALSE(parse(fired, validation_time::request, &date));
}

TEST_CASE("an UPDATE that moves startDate past the stored stopDate names startDate", "[alarm_feeds]") {
  // Row U5 of the parameter matrix.
  auto stored = R"({"isInterval": true, "minutes": 5, "startDate": "2026-02-01T00:00:00Z",
                    "stopDate": "2026-03-01T00:00:00Z"})";
  auto merged = R"({"isInterval": true, "minutes": 5, "startDate": "2026-03-02T00:00:00Z",
                    "stopDate": "2026-03-01T00:00:00Z"})";
  auto changes = params(R"({"startDate": "2026-03-02T00:00:00Z"})");
  CHECK(parse(stored));
  auto refused = parse(merged, validation_time::request, &changes);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().field == "startDate");
  CHECK(refused.error().message
        == "startDate parameter '2026-03-02T00:00:00Z' must be less than the stopDate parameter "
           "'2026-03-01T00:00:00Z'");
}
