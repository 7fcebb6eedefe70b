#include "core/cron.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <date/date.h>
#include <date/tz.h>

using namespace feedrouter;

namespace {

/// Returns the months (1-12) of the first `count` occurrences of `text` from 2030-01-01, read with `months`.
std::vector<unsigned> fire_months(std::string_view text, cron_months months, std::size_t count = 4) {
  auto parsed = cron_schedule::parse(text, months);
  INFO(text << ": " << (parsed ? std::string{} : parsed.error().message));
  REQUIRE(parsed);
  const auto* utc = find_time_zone("UTC");
  REQUIRE(utc != nullptr);
  std::vector<unsigned> result;
  auto t = std::chrono::floor<std::chrono::seconds>(*parse_iso8601("2030-01-01T00:00:00Z")) - std::chrono::seconds{1};
  for (std::size_t i = 0; i < count; ++i) {
    auto next = parsed->next_after(t, *utc);
    REQUIRE(next);
    const date::year_month_day ymd{date::floor<date::days>(*next)};
    result.push_back(static_cast<unsigned>(ymd.month()));
    t = *next;
  }
  return result;
}

} // namespace

TEST_CASE("OpenWhisk's month numbers count from 0, standard ones from 1", "[cron]") {
  using months = std::vector<unsigned>;
  // Rows A7 to A12 of the OpenWhisk parameter matrix (docs/migrating-from-openwhisk.md).
  CHECK(fire_months("0 9 1 11 *", cron_months::openwhisk, 1) == months{12});
  CHECK(fire_months("0 9 1 11 *", cron_months::standard, 1) == months{11});
  CHECK(fire_months("0 9 1 0 *", cron_months::openwhisk, 1) == months{1});
  CHECK(fire_months("0 0 1 0-5 *", cron_months::openwhisk, 6) == months{1, 2, 3, 4, 5, 6});
  CHECK(fire_months("0 0 1 */3 *", cron_months::openwhisk) == months{1, 4, 7, 10});
  CHECK(fire_months("0 0 1 */3 *", cron_months::standard) == months{1, 4, 7, 10});
  CHECK(fire_months("0 0 1 2/3 *", cron_months::openwhisk) == months{3, 6, 9, 12});
  CHECK(fire_months("0 0 1 1-10/3 *", cron_months::openwhisk) == months{2, 5, 8, 11});
  CHECK(fire_months("0 0 1 0,6,11 *", cron_months::openwhisk, 3) == months{1, 7, 12});
}

TEST_CASE("month names mean the same months in both numberings", "[cron]") {
  using months = std::vector<unsigned>;
  for (auto numbering : {cron_months::standard, cron_months::openwhisk}) {
    CHECK(fire_months("0 0 1 jan,jul *", numbering, 2) == months{1, 7});
    CHECK(fire_months("0 0 1 JAN-MAR *", numbering, 3) == months{1, 2, 3});
    CHECK(fire_months("0 0 1 DEC *", numbering, 1) == months{12});
  }
  // A name and a number together: node-cron replaces JAN by 0 before it reads the range.
  CHECK(fire_months("0 0 1 jan-6 *", cron_months::openwhisk, 7) == months{1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("OpenWhisk's month 12 is refused at CREATE instead of disabling the alarm later", "[cron]") {
  // Rows A13 and A14: OpenWhisk accepts them and its provider then disables the trigger (out of range).
  for (auto text : {"0 9 1 12 *", "0 0 1 1-12 *"}) {
    auto parsed = cron_schedule::parse(text, cron_months::openwhisk);
    INFO(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "cron");
    CHECK(parsed.error().message.find("0-11") != std::string::npos);
    CHECK(cron_schedule::parse(text, cron_months::standard));
  }
}

TEST_CASE("OpenWhisk's February 30 never fires and is refused", "[cron]") {
  // Row A19: "0 0 30 1 *" is 30 February in OpenWhisk's numbering, 30 January in the standard one.
  CHECK_FALSE(cron_schedule::parse("0 0 30 1 *", cron_months::openwhisk));
  CHECK(cron_schedule::parse("0 0 30 1 *", cron_months::standard));
}
