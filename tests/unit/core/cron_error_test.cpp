#include "core/cron.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;
using Catch::Matchers::Contains;

namespace {

/// A malformed schedule and a piece of the message that must explain it.
struct bad_schedule {
  std::string_view text;
  std::string_view message;
};

void check_rejected(const std::vector<bad_schedule>& cases) {
  for (const auto& c : cases) {
    INFO("schedule: '" << c.text << "'");
    auto parsed = cron_schedule::parse(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "cron");
    CHECK_THAT(parsed.error().message, Contains(std::string{c.message}));
  }
}

} // namespace

TEST_CASE("an empty schedule is rejected", "[cron]") {
  check_rejected({
    {"", "schedule is empty"},
    {"   \t ", "schedule is empty"},
  });
}

TEST_CASE("a schedule with the wrong number of fields is rejected", "[cron]") {
  check_rejected({
    {"* * * *", "expected 5 or 6 fields but got 4"},
    {"*", "expected 5 or 6 fields but got 1"},
    {"* * * * * * *", "expected 5 or 6 fields but got 7"},
  });
}

TEST_CASE("values outside a field's range are rejected with the field and its range", "[cron]") {
  check_rejected({
    {"60 * * * * *", "second field: 60 is out of range 0-59"},
    {"60 * * * *", "minute field: 60 is out of range 0-59"},
    {"0 25 * * *", "hour field: 25 is out of range 0-23"},
    {"0 24 * * *", "hour field: 24 is out of range 0-23"},
    {"0 0 0 * *", "day-of-month field: 0 is out of range 1-31"},
    {"0 0 32 * *", "day-of-month field: 32 is out of range 1-31"},
    {"0 0 * 0 *", "month field: 0 is out of range 1-12"},
    {"0 0 * 13 *", "month field: 13 is out of range 1-12"},
    {"0 0 * * 8", "day-of-week field: 8 is out of range 0-7"},
    {"0 1-30 * * *", "hour field: 30 is out of range 0-23"},
    {"0 0,99 * * *", "hour field: 99 is out of range 0-23"},
    {"99999999999999999999 * * * *", "minute field: 99999999999999999999 is out of range 0-59"},
  });
}

TEST_CASE("a step of zero or wider than the field is rejected", "[cron]") {
  check_rejected({
    {"*/0 * * * *", "minute field: step 0 is not allowed"},
    {"0 1-10/0 * * *", "hour field: step 0 is not allowed"},
    {"*/61 * * * *", "minute field: step 61 is out of range 1-60"},
    {"0 0 * */13 *", "month field: step 13 is out of range 1-12"},
    {"*/x * * * *", "minute field: step 'x' is not a number"},
    {"*/ * * * *", "minute field: step '' is not a number"},
    {"*/2/3 * * * *", "minute field: step '2/3' is not a number"},
    {"*/-1 * * * *", "minute field: step '-1' is not a number"},
  });
}

TEST_CASE("reversed or incomplete ranges are rejected", "[cron]") {
  check_rejected({
    {"0 5-2 * * *", "hour field: range 5-2 is reversed"},
    {"0 0 * DEC-JAN *", "month field: range DEC-JAN is reversed"},
    {"0 0 * * FRI-MON", "day-of-week field: range FRI-MON is reversed"},
    {"-5 * * * *", "minute field: '-5' is not a valid range"},
    {"5- * * * *", "minute field: '5-' is not a valid range"},
    {"1-2-3 * * * *", "minute field: '2-3' is not a valid value"},
  });
}

TEST_CASE("garbage in a field is rejected and named", "[cron]") {
  check_rejected({
    {"abc * * * *", "minute field: 'abc' is not a valid value (expected a number 0-59)"},
    {"? * * * *", "minute field: '?' is not a valid value"},
    {"** * * * *", "minute field: '**' is not a valid value"},
    {"1.5 * * * *", "minute field: '1.5' is not a valid value"},
    {"+5 * * * *", "minute field: '+5' is not a valid value"},
    {"0 0 * FOO *", "month field: 'FOO' is not a valid value (expected a number 1-12 or a name JAN-DEC)"},
    {"0 0 * * MONDAY", "day-of-week field: 'MONDAY' is not a valid value (expected a number 0-7 or a name SUN-SAT)"},
    {"0 0 JAN * *", "day-of-month field: 'JAN' is not a valid value (expected a number 1-31)"},
    {"0 0 * * JAN", "day-of-week field: 'JAN' is not a valid value"},
    {"0 MON * * *", "hour field: 'MON' is not a valid value"},
  });
}

TEST_CASE("empty list items are rejected", "[cron]") {
  check_rejected({
    {"1,,2 * * * *", "minute field: empty list item"},
    {"1, * * * *", "minute field: empty list item"},
    {",1 * * * *", "minute field: empty list item"},
  });
}

TEST_CASE("a schedule whose dates never exist is rejected as never firing", "[cron]") {
  check_rejected({
    {"0 0 31 2 *", "never fires"},
    {"0 0 30 2 *", "never fires"},
    {"0 0 30,31 2 *", "never fires"},
    {"0 0 31 4,6,9,11 *", "never fires"},
    {"0 0 0 31 2 *", "never fires"},
  });
}

TEST_CASE("a schedule longer than max_text_length is rejected before it is read", "[cron]") {
  std::string longest(cron_schedule::max_text_length - 8, ' ');
  longest += "* * * * *";
  longest.erase(0, 1);
  REQUIRE(longest.size() == cron_schedule::max_text_length);
  CHECK(cron_schedule::parse(longest));
  check_rejected({{longest + " ", "longer than 1024 characters"}});
}

TEST_CASE("find_time_zone refuses names that are files of the zone database but no zones", "[cron]") {
  for (auto name : {"localtime", "posixrules", "Factory", "posix/Europe/Berlin", "right/UTC", "right/Europe/Berlin",
                    "zone.tab", "tzdata.zi", "leapseconds", "iso3166.tab", "+VERSION"}) {
    INFO(name);
    CHECK(find_time_zone(name) == nullptr);
  }
}

TEST_CASE("find_time_zone refuses path-like names", "[cron]") {
  for (auto name : {"/etc/localtime", "/usr/share/zoneinfo/UTC", "../UTC", "./UTC", "Europe/../UTC", "Europe/./Berlin",
                    "Europe//Berlin", "Europe/Berlin/", "/UTC", "UTC/", "Europe\\Berlin", "Europe/Berlin\n", " UTC",
                    "-UTC", "Europe/-Berlin", "..", "."}) {
    INFO(name);
    CHECK(find_time_zone(name) == nullptr);
  }
  CHECK(find_time_zone(std::string_view{"UTC\0junk", 8}) == nullptr);
  CHECK(find_time_zone(std::string(max_time_zone_name_length + 1, 'A')) == nullptr);
}

TEST_CASE("the first bad field is the one reported", "[cron]") {
  check_rejected({
    {"60 25 * * *", "minute field"},
    {"0 25 32 * *", "hour field"},
  });
}
