#include "core/time_format.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>
#include <date/date.h>

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

sys_ms utc(date::year_month_day ymd, std::chrono::milliseconds since_midnight = 0ms) {
  return sys_ms{date::sys_days{ymd}} + since_midnight;
}

std::string reformat(std::string_view text) {
  auto parsed = parse_iso8601(text);
  INFO("input: '" << text << "'");
  REQUIRE(parsed);
  return format_iso8601(*parsed);
}

} // namespace

// -- format_iso8601 -----------------------------------------------------------

TEST_CASE("format_iso8601 writes UTC with milliseconds and a Z", "[time_format]") {
  using date::literals::operator""_y;
  CHECK(format_iso8601(sys_ms{}) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(utc(2026_y / 11 / 27, 8h + 5min)) == "2026-11-27T08:05:00.000Z");
  CHECK(format_iso8601(utc(2024_y / 2 / 29, 23h + 59min + 59s + 999ms)) == "2024-02-29T23:59:59.999Z");
  CHECK(format_iso8601(utc(2026_y / 1 / 1, 7ms)) == "2026-01-01T00:00:00.007Z");
}

TEST_CASE("format_iso8601 writes the ends of the time range", "[time_format]") {
  CHECK(format_iso8601(earliest_time) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(latest_time) == "9999-12-31T23:59:59.999Z");
  CHECK(format_iso8601(latest_time - 1ms) == "9999-12-31T23:59:59.998Z");
}

TEST_CASE("format_iso8601 writes a time outside the range as the nearer end of it", "[time_format]") {
  // Whatever arithmetic produced a time, its text is a date that parses back: never "2404-04-06T199591895:12:55Z".
  CHECK(format_iso8601(sys_ms{-1ms}) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(sys_ms::min()) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(latest_time + 1ms) == "9999-12-31T23:59:59.999Z");
  CHECK(format_iso8601(sys_ms{std::chrono::milliseconds{8'640'000'000'000'000}}) == "9999-12-31T23:59:59.999Z");
  CHECK(format_iso8601(sys_ms::max()) == "9999-12-31T23:59:59.999Z");
}

// -- the time range ---------------------------------------------------------------

TEST_CASE("in_time_range holds from 1970 to the end of 9999, ends included", "[time_format]") {
  using date::literals::operator""_y;
  CHECK(in_time_range(earliest_time));
  CHECK(in_time_range(earliest_time + 1ms));
  CHECK(in_time_range(utc(2026_y / 1 / 15)));
  CHECK(in_time_range(latest_time - 1ms));
  CHECK(in_time_range(latest_time));
  CHECK(latest_time == utc(10000_y / 1 / 1) - 1ms);
}

TEST_CASE("clamp_to_time_range keeps times inside and moves the others to the nearer end", "[time_format]") {
  using date::literals::operator""_y;
  CHECK(clamp_to_time_range(utc(2026_y / 1 / 15)) == utc(2026_y / 1 / 15));
  CHECK(clamp_to_time_range(earliest_time) == earliest_time);
  CHECK(clamp_to_time_range(latest_time) == latest_time);
  CHECK(clamp_to_time_range(sys_ms{-1ms}) == earliest_time);
  CHECK(clamp_to_time_range(sys_ms::min()) == earliest_time);
  CHECK(clamp_to_time_range(latest_time + 1ms) == latest_time);
  CHECK(clamp_to_time_range(sys_ms::max()) == latest_time);
}

// -- parse_iso8601 ------------------------------------------------------------

TEST_CASE("parse_iso8601 reads UTC date-times", "[time_format]") {
  using date::literals::operator""_y;
  CHECK(parse_iso8601("2026-11-27T08:05:00.000Z") == utc(2026_y / 11 / 27, 8h + 5min));
  CHECK(parse_iso8601("2026-11-27T08:05Z") == utc(2026_y / 11 / 27, 8h + 5min));
  CHECK(parse_iso8601("2026-11-27T08:05:09Z") == utc(2026_y / 11 / 27, 8h + 5min + 9s));
  CHECK(parse_iso8601("2026-11-27 08:05:09Z") == utc(2026_y / 11 / 27, 8h + 5min + 9s));
  CHECK(parse_iso8601("2026-11-27t08:05:09z") == utc(2026_y / 11 / 27, 8h + 5min + 9s));
}

TEST_CASE("parse_iso8601 reads a bare date as midnight UTC", "[time_format]") {
  using date::literals::operator""_y;
  CHECK(parse_iso8601("2026-11-27") == utc(2026_y / 11 / 27));
  CHECK(parse_iso8601("2024-02-29") == utc(2024_y / 2 / 29));
  CHECK(parse_iso8601("2000-02-29") == utc(2000_y / 2 / 29));
}

TEST_CASE("parse_iso8601 applies numeric offsets with or without a colon", "[time_format]") {
  CHECK(reformat("2026-11-27T10:05:00+02:00") == "2026-11-27T08:05:00.000Z");
  CHECK(reformat("2026-11-27T10:05:00+0200") == "2026-11-27T08:05:00.000Z");
  CHECK(reformat("2026-11-27T02:35-05:30") == "2026-11-27T08:05:00.000Z");
  CHECK(reformat("2026-11-27T08:05:00-00:00") == "2026-11-27T08:05:00.000Z");
  // An offset may move the instant into another day, month or year.
  CHECK(reformat("2026-12-31T23:30:00-01:00") == "2027-01-01T00:30:00.000Z");
  CHECK(reformat("2026-03-01T00:30:00+01:00") == "2026-02-28T23:30:00.000Z");
}

TEST_CASE("parse_iso8601 truncates fractions to milliseconds", "[time_format]") {
  CHECK(reformat("2026-11-27T08:05:00.5Z") == "2026-11-27T08:05:00.500Z");
  CHECK(reformat("2026-11-27T08:05:00.05Z") == "2026-11-27T08:05:00.050Z");
  CHECK(reformat("2026-11-27T08:05:00.123456Z") == "2026-11-27T08:05:00.123Z");
  CHECK(reformat("2026-11-27T08:05:00.999999999Z") == "2026-11-27T08:05:00.999Z");
  CHECK(reformat("2026-11-27T08:05:00,250Z") == "2026-11-27T08:05:00.250Z");
  CHECK(reformat("2026-11-27T08:05:00.123+01:00") == "2026-11-27T07:05:00.123Z");
}

TEST_CASE("format_iso8601 output parses back to the same instant", "[time_format]") {
  using date::literals::operator""_y;
  for (auto t : {sys_ms{}, utc(2026_y / 11 / 27, 8h + 5min + 1ms), utc(1999_y / 12 / 31, 23h + 59min + 59s + 999ms),
                 utc(2024_y / 2 / 29, 12h), utc(9999_y / 12 / 31, 23h)}) {
    auto text = format_iso8601(t);
    INFO(text);
    CHECK(parse_iso8601(text) == t);
  }
}

TEST_CASE("parse_iso8601 rejects impossible dates and times", "[time_format]") {
  for (auto text : {"2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32", "2026-02-30", "2025-02-29",
                    "1900-02-29", "2026-04-31", "2026-01-01T24:00Z", "2026-01-01T12:60Z", "2026-01-01T12:00:60Z",
                    "2026-01-01T12:00+24:00", "2026-01-01T12:00+05:60"}) {
    INFO("input: '" << text << "'");
    CHECK_FALSE(parse_iso8601(text));
  }
}

TEST_CASE("parse_iso8601 rejects malformed text", "[time_format]") {
  for (auto text : {"", " ", "now", "2026", "2026-01", "2026-1-01", "2026-01-1", "26-01-01", "2026/01/01",
                    "2026-01-01T", "2026-01-01T12", "2026-01-01T12:00", "2026-01-01T12:00:00",
                    "2026-01-01T12:00:00.5", "2026-01-01T1:00Z", "2026-01-01T12:0Z", "2026-01-01T12:00:0Z",
                    "2026-01-01T12:00:00.Z", "2026-01-01T12:00:00.1234567890Z", "2026-01-01T12:00.5Z",
                    "2026-01-01T12:00+05", "2026-01-01T12:00+5:00", "2026-01-01T12:00+05:0", "2026-01-01T12:00Zx",
                    "2026-01-01T12:00Z ", " 2026-01-01T12:00Z", "2026-01-01x", "2026-01-01 ", "2026-01-01_12:00Z",
                    "+2026-01-01", "2026-01-01T12:00UTC", "2026-01-01T-1:00Z"}) {
    INFO("input: '" << text << "'");
    CHECK_FALSE(parse_iso8601(text));
  }
}

TEST_CASE("parse_iso8601 reads the ends of the time range in any form", "[time_format]") {
  CHECK(parse_iso8601("1970-01-01") == earliest_time);
  CHECK(parse_iso8601("1970-01-01T00:00:00Z") == earliest_time);
  CHECK(parse_iso8601("1970-01-01T01:00:00+01:00") == earliest_time);
  CHECK(parse_iso8601("9999-12-31T23:59:59.999Z") == latest_time);
  CHECK(parse_iso8601("9999-12-31T23:59:59.999999999Z") == latest_time);
  CHECK(parse_iso8601("9999-12-31T22:59:59.999-01:00") == latest_time);
}

TEST_CASE("parse_iso8601 tolerates text that is not null-terminated", "[time_format]") {
  using date::literals::operator""_y;
  constexpr std::string_view padded = "2026-11-27T08:05Zjunk";
  CHECK(parse_iso8601(padded.substr(0, 17)) == utc(2026_y / 11 / 27, 8h + 5min));
}

// -- now_ms -------------------------------------------------------------------

TEST_CASE("now_ms reads the system clock", "[time_format]") {
  const auto before = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto now = now_ms();
  const auto after = std::chrono::system_clock::now();
  CHECK(before <= now);
  CHECK(now <= after);
}
