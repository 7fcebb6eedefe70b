#include "core/cron.hpp"

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

sys_seconds at(std::string_view iso) {
  auto parsed = parse_iso8601(iso);
  REQUIRE(parsed);
  return std::chrono::floor<std::chrono::seconds>(*parsed);
}

const date::time_zone& zone(std::string_view name) {
  auto tz = find_time_zone(name);
  REQUIRE(tz != nullptr);
  return *tz;
}

cron_schedule schedule(std::string_view text) {
  auto parsed = cron_schedule::parse(text);
  INFO(text << ": " << (parsed ? std::string{} : parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

/// Returns the next `count` firings after `after` as ISO strings, each computed from the one before.
std::vector<std::string> fires(std::string_view text, std::string_view tz_name, std::string_view after,
                               std::size_t count) {
  auto cron = schedule(text);
  auto& tz = zone(tz_name);
  std::vector<std::string> result;
  auto t = at(after);
  for (std::size_t i = 0; i < count; ++i) {
    auto next = cron.next_after(t, tz);
    REQUIRE(next);
    // next_after promises strict progress; a violation would make a scheduler fire in a loop.
    REQUIRE(*next > t);
    result.push_back(format_iso8601(*next));
    t = *next;
  }
  return result;
}

std::string next(std::string_view text, std::string_view tz_name, std::string_view after) {
  return fires(text, tz_name, after, 1).front();
}

using strings = std::vector<std::string>;

} // namespace

// -- UTC ----------------------------------------------------------------------

TEST_CASE("a five-field schedule fires at second zero of the next matching minute", "[cron]") {
  CHECK(next("* * * * *", "UTC", "2026-01-01T00:00:30Z") == "2026-01-01T00:01:00.000Z");
  CHECK(next("* * * * *", "UTC", "2026-01-01T00:00:00Z") == "2026-01-01T00:01:00.000Z");
  CHECK_FALSE(schedule("* * * * *").has_seconds());
}

TEST_CASE("next_after never returns the time it was given", "[cron]") {
  CHECK(next("0 * * * *", "UTC", "2026-05-05T10:00:00Z") == "2026-05-05T11:00:00.000Z");
  CHECK(next("0 0 * * * *", "UTC", "2026-05-05T10:00:00Z") == "2026-05-05T11:00:00.000Z");
}

TEST_CASE("step on minutes fires every fifteen minutes across the hour", "[cron]") {
  CHECK(fires("*/15 * * * *", "UTC", "2026-05-05T10:07:00Z", 4)
        == strings{"2026-05-05T10:15:00.000Z", "2026-05-05T10:30:00.000Z", "2026-05-05T10:45:00.000Z",
                   "2026-05-05T11:00:00.000Z"});
}

TEST_CASE("lists of hours fire at each listed hour then roll to the next day", "[cron]") {
  CHECK(fires("0 9,17 * * *", "UTC", "2026-03-10T12:00:00Z", 3)
        == strings{"2026-03-10T17:00:00.000Z", "2026-03-11T09:00:00.000Z", "2026-03-11T17:00:00.000Z"});
}

TEST_CASE("ranges with steps and start-with-step run to the end of the field", "[cron]") {
  CHECK(fires("0 8-18/4 * * *", "UTC", "2026-03-10T00:00:00Z", 4)
        == strings{"2026-03-10T08:00:00.000Z", "2026-03-10T12:00:00.000Z", "2026-03-10T16:00:00.000Z",
                   "2026-03-11T08:00:00.000Z"});
  CHECK(fires("0 10/5 * * *", "UTC", "2026-03-10T00:00:00Z", 4)
        == strings{"2026-03-10T10:00:00.000Z", "2026-03-10T15:00:00.000Z", "2026-03-10T20:00:00.000Z",
                   "2026-03-11T10:00:00.000Z"});
}

TEST_CASE("mixed lists combine values, ranges and steps", "[cron]") {
  CHECK(fires("5,10-12,50/5 0 * * *", "UTC", "2026-03-10T00:00:00Z", 7)
        == strings{"2026-03-10T00:05:00.000Z", "2026-03-10T00:10:00.000Z", "2026-03-10T00:11:00.000Z",
                   "2026-03-10T00:12:00.000Z", "2026-03-10T00:50:00.000Z", "2026-03-10T00:55:00.000Z",
                   "2026-03-11T00:05:00.000Z"});
}

TEST_CASE("month and weekday names are case-insensitive", "[cron]") {
  // 2026-07-01 is a Wednesday.
  CHECK(next("0 12 * jan,Jul mon-FRI", "UTC", "2026-02-01T00:00:00Z") == "2026-07-01T12:00:00.000Z");
  CHECK(next("0 12 * * sat", "UTC", "2026-07-01T00:00:00Z") == "2026-07-04T12:00:00.000Z");
  CHECK(next("0 0 1 Mar-may *", "UTC", "2026-01-15T00:00:00Z") == "2026-03-01T00:00:00.000Z");
}

TEST_CASE("weekday 7 is Sunday like weekday 0", "[cron]") {
  // 2026-02-01 is a Sunday.
  CHECK(next("0 0 * * 7", "UTC", "2026-01-27T00:00:00Z") == "2026-02-01T00:00:00.000Z");
  CHECK(next("0 0 * * 0", "UTC", "2026-01-27T00:00:00Z") == "2026-02-01T00:00:00.000Z");
  CHECK(next("0 0 * * 5-7", "UTC", "2026-01-31T12:00:00Z") == "2026-02-01T00:00:00.000Z");
}

TEST_CASE("when day-of-month and day-of-week are both restricted either one matches", "[cron]") {
  // Fridays in February 2026 are the 6th, 13th, 20th and 27th; the 13th must not fire twice.
  CHECK(fires("0 0 13 * FRI", "UTC", "2026-02-01T00:00:00Z", 4)
        == strings{"2026-02-06T00:00:00.000Z", "2026-02-13T00:00:00.000Z", "2026-02-20T00:00:00.000Z",
                   "2026-02-27T00:00:00.000Z"});
  CHECK(next("0 0 13 * FRI", "UTC", "2026-02-27T00:00:00Z") == "2026-03-06T00:00:00.000Z");
  CHECK(next("0 0 10 * FRI", "UTC", "2026-02-07T00:00:00Z") == "2026-02-10T00:00:00.000Z");
}

TEST_CASE("an unrestricted day field leaves the other day field in charge", "[cron]") {
  CHECK(next("0 0 13 * *", "UTC", "2026-02-01T00:00:00Z") == "2026-02-13T00:00:00.000Z");
  CHECK(next("0 0 * * FRI", "UTC", "2026-02-01T00:00:00Z") == "2026-02-06T00:00:00.000Z");
  // A step is a restriction, so "*/10" with a weekday is an OR like any other restricted field.
  CHECK(next("0 0 */10 * MON", "UTC", "2026-02-01T12:00:00Z") == "2026-02-02T00:00:00.000Z");
}

TEST_CASE("a schedule on February 29 jumps to the next leap year", "[cron]") {
  CHECK(fires("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", 3)
        == strings{"2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z", "2036-02-29T00:00:00.000Z"});
  // 2100 is not a leap year.
  CHECK(next("0 0 29 2 *", "UTC", "2097-01-01T00:00:00Z") == "2104-02-29T00:00:00.000Z");
}

TEST_CASE("February 31 or 30 combined with a weekday still fires on that weekday", "[cron]") {
  CHECK(next("0 0 31 2 MON", "UTC", "2026-02-01T00:00:00Z") == "2026-02-02T00:00:00.000Z");
}

TEST_CASE("the 31st skips months that are shorter", "[cron]") {
  CHECK(fires("0 0 31 * *", "UTC", "2026-03-31T00:00:00Z", 3)
        == strings{"2026-05-31T00:00:00.000Z", "2026-07-31T00:00:00.000Z", "2026-08-31T00:00:00.000Z"});
}

TEST_CASE("the first of the month follows the last day of the previous month", "[cron]") {
  CHECK(next("0 0 1 * *", "UTC", "2026-01-31T12:00:00Z") == "2026-02-01T00:00:00.000Z");
  CHECK(next("0 0 1 * *", "UTC", "2028-02-29T23:59:59Z") == "2028-03-01T00:00:00.000Z");
}

TEST_CASE("schedules roll over the year boundary", "[cron]") {
  CHECK(next("0 0 1 1 *", "UTC", "2026-12-31T23:59:59Z") == "2027-01-01T00:00:00.000Z");
  CHECK(next("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z") == "2027-12-31T23:59:00.000Z");
  CHECK(next("* * * * * *", "UTC", "2026-12-31T23:59:59Z") == "2027-01-01T00:00:00.000Z");
}

TEST_CASE("a six-field schedule reads seconds first", "[cron]") {
  CHECK(schedule("0 * * * * *").has_seconds());
  CHECK(fires("*/10 * * * * *", "UTC", "2026-05-05T10:00:05Z", 3)
        == strings{"2026-05-05T10:00:10.000Z", "2026-05-05T10:00:20.000Z", "2026-05-05T10:00:30.000Z"});
  CHECK(fires("30 0 12 * * *", "UTC", "2026-05-05T12:00:30Z", 2)
        == strings{"2026-05-06T12:00:30.000Z", "2026-05-07T12:00:30.000Z"});
  CHECK(next("15,45 * * * * *", "UTC", "2026-05-05T10:00:46Z") == "2026-05-05T10:01:15.000Z");
}

TEST_CASE("extra whitespace between fields is ignored", "[cron]") {
  CHECK(next("  0\t12   * *  *  ", "UTC", "2026-05-05T00:00:00Z") == "2026-05-05T12:00:00.000Z");
}

// -- time zones ---------------------------------------------------------------

TEST_CASE("wall times follow the zone's offset in winter and summer", "[cron]") {
  CHECK(next("0 9 * * *", "Europe/Berlin", "2026-01-15T00:00:00Z") == "2026-01-15T08:00:00.000Z");
  CHECK(next("0 9 * * *", "Europe/Berlin", "2026-07-15T00:00:00Z") == "2026-07-15T07:00:00.000Z");
  CHECK(next("0 9 * * *", "America/New_York", "2026-01-15T00:00:00Z") == "2026-01-15T14:00:00.000Z");
  CHECK(next("0 9 * * *", "America/New_York", "2026-07-15T00:00:00Z") == "2026-07-15T13:00:00.000Z");
}

TEST_CASE("day fields are judged by the local date, not the UTC date", "[cron]") {
  // 2026-02-06T03:00Z is still Thursday evening in New York.
  CHECK(next("0 22 * * THU", "America/New_York", "2026-02-06T02:00:00Z") == "2026-02-06T03:00:00.000Z");
  // Midnight on New Year's Day in Berlin is still the old year in UTC.
  CHECK(next("0 0 1 1 *", "Europe/Berlin", "2026-06-01T00:00:00Z") == "2026-12-31T23:00:00.000Z");
}

TEST_CASE("a wall time skipped by spring forward fires once when the gap ends", "[cron]") {
  // New York jumps from 02:00 EST to 03:00 EDT on 2026-03-08 (07:00Z).
  CHECK(fires("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 3)
        == strings{"2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z", "2026-03-10T06:30:00.000Z"});
  // Every quarter hour of the gap collapses onto 07:00Z, which must fire only once.
  CHECK(fires("*/15 * * * *", "America/New_York", "2026-03-08T06:40:00Z", 3)
        == strings{"2026-03-08T06:45:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-08T07:15:00.000Z"});
  // Berlin jumps from 02:00 CET to 03:00 CEST on 2026-03-29 (01:00Z).
  CHECK(next("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z") == "2026-03-29T01:00:00.000Z");
}

TEST_CASE("a wall time repeated by fall back fires once at its first occurrence", "[cron]") {
  // New York repeats 01:00-02:00 on 2026-11-01: first as EDT (05:00Z-06:00Z), then as EST (06:00Z-07:00Z).
  CHECK(fires("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2)
        == strings{"2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"});
  // Berlin repeats 02:00-03:00 on 2026-10-25: first as CEST (00:00Z-01:00Z), then as CET.
  CHECK(fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2)
        == strings{"2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"});
}

TEST_CASE("a frequent schedule across fall back never goes back in time", "[cron]") {
  CHECK(fires("*/30 * * * *", "America/New_York", "2026-11-01T04:45:00Z", 4)
        == strings{"2026-11-01T05:00:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-01T07:00:00.000Z",
                   "2026-11-01T07:30:00.000Z"});
  // Starting inside the second pass of the repeated hour: the first pass is over, so the next firing is 02:00 EST.
  CHECK(next("*/30 * * * *", "America/New_York", "2026-11-01T06:10:00Z") == "2026-11-01T07:00:00.000Z");
  CHECK(next("* * * * * *", "America/New_York", "2026-11-01T06:10:00Z") == "2026-11-01T07:00:00.000Z");
}

TEST_CASE("a seconds schedule inside the repeated hour fires once per wall time", "[cron]") {
  CHECK(fires("0 0 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2)
        == strings{"2026-11-01T05:00:00.000Z", "2026-11-02T06:00:00.000Z"});
}

// -- bounds -------------------------------------------------------------------

TEST_CASE("the last occurrence of the time range is found, and none after it", "[cron]") {
  CHECK(next("59 23 31 12 *", "UTC", "9999-01-01T00:00:00Z") == "9999-12-31T23:59:00.000Z");
  CHECK(next("59 59 23 31 12 *", "UTC", "9999-12-31T23:59:58Z") == "9999-12-31T23:59:59.000Z");
  auto yearly = schedule("0 0 1 1 *");
  CHECK_FALSE(yearly.next_after(at("9999-01-01T00:00:00Z"), zone("UTC")));
  CHECK_FALSE(yearly.next_after(at("9999-12-31T23:59:59Z"), zone("UTC")));
  // New Year's Eve at 23:00 in New York is already the year 10000 in UTC.
  CHECK_FALSE(schedule("0 23 31 12 *").next_after(at("9999-06-01T00:00:00Z"), zone("America/New_York")));
}

TEST_CASE("times outside the range are taken as its ends, never computed with", "[cron]") {
  auto yearly = schedule("0 0 1 1 *");
  using limits = std::numeric_limits<sys_seconds::rep>;
  CHECK_FALSE(yearly.next_after(sys_seconds{sys_seconds::duration{limits::max()}}, zone("UTC")));
  CHECK_FALSE(yearly.next_after(sys_seconds{std::chrono::seconds{8'640'000'000'000}}, zone("Europe/Berlin")));
  auto first = yearly.next_after(sys_seconds{sys_seconds::duration{limits::min()}}, zone("UTC"));
  REQUIRE(first);
  CHECK(format_iso8601(*first) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("next_after looks thirty years ahead at most", "[cron]") {
  auto leap_day = schedule("0 0 29 2 *");
  auto found = leap_day.search(at("2097-01-01T00:00:00Z"), at("2104-02-28T23:59:59Z"), zone("UTC"));
  CHECK_FALSE(found.next);
  CHECK_FALSE(found.exhausted);
  found = leap_day.search(at("2097-01-01T00:00:00Z"), at("2104-02-29T00:00:00Z"), zone("UTC"));
  REQUIRE(found.next);
  CHECK(format_iso8601(*found.next) == "2104-02-29T00:00:00.000Z");
  // A limit further away than the horizon is cut to it.
  auto far = leap_day.search(at("2026-03-01T00:00:00Z"), at("9000-01-01T00:00:00Z"), zone("UTC"));
  CHECK(far.next);
}

TEST_CASE("every search stays within its step budget and is never cut short by it", "[cron]") {
  // The rarest schedules (one day in four or eight years), the most frequent, and each kind of day field, from the
  // range's first instant, an ordinary one, the long gap in leap years around 2100, and the range's last year.
  const std::vector<std::string_view> schedules = {
    "0 0 29 2 *", "59 59 23 29 2 *", "0 0 29 2 MON", "0 0 31 * *", "0 0 31 1,3 *", "* * * * * *", "0 0 1 1 *",
    "0 0 * * SUN", "0 0 13 * FRI", "*/7 */5 */3 */9 */5 *", "0 0 1,15 2/3 1-5", "59 23 31 12 *",
  };
  const std::vector<std::string_view> starts = {"1970-01-01T00:00:00Z", "2026-01-15T10:00:00Z",
                                                "2096-03-01T00:00:00Z", "2026-11-01T06:10:00Z",
                                                "9996-03-01T00:00:00Z", "9999-12-31T23:59:59Z"};
  for (auto text : schedules) {
    auto cron = schedule(text);
    for (auto tz : {"UTC", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"}) {
      for (auto start : starts) {
        INFO(text << " in " << tz << " after " << start);
        auto found = cron.search(at(start), at("9999-12-31T23:59:59Z"), zone(tz));
        CHECK(found.steps <= cron_schedule::max_search_steps);
        CHECK_FALSE(found.exhausted);
      }
    }
  }
}

TEST_CASE("a rare schedule costs a few steps a year", "[cron]") {
  // From just after one leap day to the next across 2100: eight years, two steps for each.
  auto found = schedule("0 0 29 2 *").search(at("2096-03-01T00:00:00Z"), at("2200-01-01T00:00:00Z"), zone("UTC"));
  REQUIRE(found.next);
  CHECK(format_iso8601(*found.next) == "2104-02-29T00:00:00.000Z");
  CHECK(found.steps <= 3 * 8 + 4);
}

TEST_CASE("a search inside a repeated hour jumps past it in one step", "[cron]") {
  // 06:10Z is 01:10 EST, the second pass of New York's repeated hour: every second up to 02:00 was in the first pass.
  auto found = schedule("* * * * * *").search(at("2026-11-01T06:10:00Z"), at("2027-01-01T00:00:00Z"),
                                              zone("America/New_York"));
  REQUIRE(found.next);
  CHECK(format_iso8601(*found.next) == "2026-11-01T07:00:00.000Z");
  CHECK(found.steps <= 8);
}

// -- find_time_zone -----------------------------------------------------------

TEST_CASE("find_time_zone knows IANA names including UTC aliases", "[cron]") {
  CHECK(find_time_zone("UTC") != nullptr);
  CHECK(find_time_zone("Etc/UTC") != nullptr);
  CHECK(find_time_zone("Europe/Berlin") != nullptr);
  CHECK(find_time_zone("America/New_York") != nullptr);
}

TEST_CASE("find_time_zone knows names with digits, signs and several components", "[cron]") {
  for (auto name : {"Etc/GMT+5", "Etc/GMT-14", "EST5EDT", "America/Argentina/Buenos_Aires", "America/Port-au-Prince",
                    "US/Eastern"}) {
    INFO(name);
    CHECK(find_time_zone(name) != nullptr);
  }
}

TEST_CASE("find_time_zone returns null for unknown names", "[cron]") {
  CHECK(find_time_zone("Mars/Olympus_Mons") == nullptr);
  CHECK(find_time_zone("") == nullptr);
  CHECK(find_time_zone("europe/berlin_") == nullptr);
}
