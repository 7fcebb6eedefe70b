// catchUp (docs/architecture.md section 5.4): of the occurrences missed while no instance ran a registration, the
// latest fires once, late.

#include "core/alarm_spec.hpp"

#include <catch2/catch.hpp>

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

const sys_ms created = parse_iso8601("2026-01-15T10:00:00Z").value();

alarm_spec spec(std::string_view json) {
  auto parsed = parse_alarm_spec(params(json), created, validation_time::request, "guest/alarm");
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

std::optional<sys_ms> missed(const alarm_spec& s, std::string_view now, std::optional<sys_ms> last) {
  return latest_missed_occurrence(s, created, at(now), last);
}

} // namespace

TEST_CASE("catchUp is off unless given, and takes a boolean", "[alarm_spec][catch_up]") {
  CHECK_FALSE(spec(R"({"seconds": 1})").catch_up);
  CHECK(spec(R"({"seconds": 1, "catchUp": true})").catch_up);
  CHECK(spec(R"({"seconds": 1, "catchUp": "true"})").catch_up);
  auto bad = parse_alarm_spec(params(R"({"seconds": 1, "catchUp": 3})"), created, validation_time::request, "x/y");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().field == "catchUp");
}

TEST_CASE("the latest missed occurrence of an interval is the last one up to now after the last taken",
          "[alarm_spec][catch_up]") {
  auto every_minute = spec(R"({"minutes": 1})");
  // Taken 10:03; down until 10:07:30: 10:04 to 10:07 were missed, 10:07 is the latest.
  CHECK(missed(every_minute, "2026-01-15T10:07:30Z", at("2026-01-15T10:03:00Z")) == at("2026-01-15T10:07:00Z"));
  // An occurrence exactly at now is missed too (its timer would have fired).
  CHECK(missed(every_minute, "2026-01-15T10:07:00Z", at("2026-01-15T10:03:00Z")) == at("2026-01-15T10:07:00Z"));
  // Nothing between the last taken and now.
  CHECK_FALSE(missed(every_minute, "2026-01-15T10:03:59Z", at("2026-01-15T10:03:00Z")));
  // Never taken: counted from the creation.
  CHECK(missed(every_minute, "2026-01-15T10:02:10Z", std::nullopt) == at("2026-01-15T10:02:00Z"));
  CHECK_FALSE(missed(every_minute, "2026-01-15T10:00:59Z", std::nullopt));
}

TEST_CASE("the latest missed occurrence of a cron is found however long the gap", "[alarm_spec][catch_up]") {
  auto every_second = spec(R"({"cron": "* * * * * *"})");
  CHECK(missed(every_second, "2026-01-15T10:00:05.500Z", at("2026-01-15T10:00:01Z")) == at("2026-01-15T10:00:05Z"));
  auto daily = spec(R"({"cron": "30 6 * * *", "strict": true, "timezone": "Europe/Berlin"})");
  // Down for three years.
  CHECK(missed(daily, "2029-03-10T12:00:00Z", at("2026-01-16T05:30:00Z")) == at("2029-03-10T05:30:00Z"));
}

TEST_CASE("a one-shot alarm whose date passed unfired is missed once, and not after it was taken",
          "[alarm_spec][catch_up]") {
  auto once = spec(R"({"date": "2026-01-15T11:00:00Z"})");
  CHECK(missed(once, "2026-01-15T11:00:00.200Z", std::nullopt) == at("2026-01-15T11:00:00Z"));
  CHECK_FALSE(missed(once, "2026-01-15T10:59:59Z", std::nullopt));
  CHECK_FALSE(missed(once, "2026-01-16T00:00:00Z", at("2026-01-15T11:00:00Z")));
}

TEST_CASE("no occurrence after stopDate is missed", "[alarm_spec][catch_up]") {
  auto bounded = spec(R"({"minutes": 10, "stopDate": "2026-01-15T10:35:00Z"})");
  CHECK(missed(bounded, "2026-01-15T12:00:00Z", at("2026-01-15T10:10:00Z")) == at("2026-01-15T10:30:00Z"));
}
