#include "core/retry_policy.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <date/date.h>

using namespace feedrouter;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

constexpr auto max_random = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t half_random = 0x8000000000000000ULL;

/// Random values spread over the whole 64-bit range.
const std::vector<std::uint64_t> random_values{0,
                                               1,
                                               0x0123456789abcdefULL,
                                               0x5555555555555555ULL,
                                               half_random,
                                               0xdeadbeefcafebabeULL,
                                               max_random - 1,
                                               max_random};

sys_ms at(std::string_view iso) {
  auto parsed = parse_iso8601(iso);
  REQUIRE(parsed);
  return *parsed;
}

/// When the Retry-After examples are received: the moment of RFC 9110's example date.
// Built without parse_iso8601: a REQUIRE cannot run before the first test case.
const sys_ms now{date::sys_days{date::year{1994} / 11 / 6} + std::chrono::hours{8} + std::chrono::minutes{49} +
                 std::chrono::seconds{37}};

/// Options that never run out of attempts or age, to look at the delays alone.
retry_options unlimited() {
  retry_options opts;
  opts.max_attempts = 1'000;
  opts.max_age = 24h;
  return opts;
}

} // namespace

// -- classify -----------------------------------------------------------------------------

TEST_CASE("classify maps each status code to its delivery rule", "[retry_policy]") {
  struct row {
    int status;
    fire_verdict verdict;
  };
  const std::vector<row> table{
    {200, fire_verdict::fired},   {202, fire_verdict::fired},     {204, fire_verdict::fired},
    {299, fire_verdict::fired},   {408, fire_verdict::retry},     {409, fire_verdict::retry},
    {429, fire_verdict::retry},   {500, fire_verdict::retry},     {502, fire_verdict::retry},
    {503, fire_verdict::retry},   {504, fire_verdict::retry},     {599, fire_verdict::retry},
    {0, fire_verdict::retry},     {400, fire_verdict::disable},   {401, fire_verdict::disable},
    {403, fire_verdict::disable}, {404, fire_verdict::disable},   {413, fire_verdict::too_large},
    {402, fire_verdict::dead},    {405, fire_verdict::dead},      {410, fire_verdict::dead},
    {415, fire_verdict::dead},    {422, fire_verdict::dead},      {499, fire_verdict::dead},
    {100, fire_verdict::dead},    {101, fire_verdict::dead},      {301, fire_verdict::dead},
    {302, fire_verdict::dead},    {304, fire_verdict::dead},      {307, fire_verdict::dead},
    {600, fire_verdict::dead},    {99, fire_verdict::dead},       {-1, fire_verdict::dead},
  };
  for (const auto& r : table) {
    INFO("status " << r.status);
    CHECK(classify(r.status, false) == r.verdict);
  }
}

TEST_CASE("classify retries transport errors whatever the status says", "[retry_policy]") {
  CHECK(classify(0, true) == fire_verdict::retry);
  CHECK(classify(200, true) == fire_verdict::retry);
  CHECK(classify(404, true) == fire_verdict::retry);
  CHECK(classify(413, true) == fire_verdict::retry);
}

// -- next_retry_delay: growth and jitter ----------------------------------------------------

TEST_CASE("the default back-off ceiling doubles from 500 ms until it is capped at 60 s", "[retry_policy]") {
  const auto opts = unlimited();
  const std::vector<milliseconds> ceilings{500ms,   1'000ms,  2'000ms,  4'000ms,  8'000ms,
                                           16'000ms, 32'000ms, 60'000ms, 60'000ms, 60'000ms};
  for (std::size_t i = 0; i < ceilings.size(); ++i) {
    const int attempts = static_cast<int>(i) + 1;
    INFO("attempts made: " << attempts);
    // The largest random value draws the ceiling itself, zero draws no wait at all.
    CHECK(next_retry_delay(opts, attempts, 0ms, std::nullopt, max_random) == ceilings[i]);
    CHECK(next_retry_delay(opts, attempts, 0ms, std::nullopt, 0) == 0ms);
  }
  CHECK(next_retry_delay(opts, 999, 0ms, std::nullopt, max_random) == 60'000ms);
}

TEST_CASE("the back-off follows the configured factor, first delay and cap", "[retry_policy]") {
  auto opts = unlimited();
  opts.first_delay = 100ms;
  opts.factor = 3.0;
  opts.max_delay = 10'000ms;
  const std::vector<milliseconds> ceilings{100ms, 300ms, 900ms, 2'700ms, 8'100ms, 10'000ms, 10'000ms};
  for (std::size_t i = 0; i < ceilings.size(); ++i) {
    INFO("attempts made: " << i + 1);
    CHECK(next_retry_delay(opts, static_cast<int>(i) + 1, 0ms, std::nullopt, max_random) == ceilings[i]);
  }
}

TEST_CASE("a factor below one keeps the back-off at the first delay", "[retry_policy]") {
  auto opts = unlimited();
  opts.factor = 0.5;
  for (int attempts = 1; attempts <= 5; ++attempts)
    CHECK(next_retry_delay(opts, attempts, 0ms, std::nullopt, max_random) == 500ms);
}

TEST_CASE("a first delay above the cap is capped", "[retry_policy]") {
  auto opts = unlimited();
  opts.first_delay = 120'000ms;
  CHECK(next_retry_delay(opts, 1, 0ms, std::nullopt, max_random) == 60'000ms);
}

TEST_CASE("zero attempts made counts like one", "[retry_policy]") {
  const auto opts = unlimited();
  CHECK(next_retry_delay(opts, 0, 0ms, std::nullopt, max_random) == 500ms);
}

TEST_CASE("full jitter stays between zero and the ceiling for any random value", "[retry_policy]") {
  const auto opts = unlimited();
  for (int attempts = 1; attempts <= 12; ++attempts) {
    const auto ceiling = *next_retry_delay(opts, attempts, 0ms, std::nullopt, max_random);
    for (auto random : random_values) {
      INFO("attempts made: " << attempts << ", random: " << random);
      auto delay = next_retry_delay(opts, attempts, 0ms, std::nullopt, random);
      REQUIRE(delay);
      CHECK(*delay >= 0ms);
      CHECK(*delay <= ceiling);
    }
  }
}

TEST_CASE("full jitter scales the random value over the range", "[retry_policy]") {
  const auto opts = unlimited();
  CHECK(next_retry_delay(opts, 1, 0ms, std::nullopt, half_random) == 250ms);
  CHECK(next_retry_delay(opts, 8, 0ms, std::nullopt, half_random) == 30'000ms);
  CHECK(next_retry_delay(opts, 1, 0ms, std::nullopt, 1) == 0ms);
  // Larger random values never give shorter delays.
  milliseconds previous{0};
  for (auto random : random_values) {
    auto delay = *next_retry_delay(opts, 6, 0ms, std::nullopt, random);
    CHECK(delay >= previous);
    previous = delay;
  }
}

TEST_CASE("the same inputs give the same delay", "[retry_policy]") {
  const auto opts = unlimited();
  for (auto random : random_values)
    CHECK(next_retry_delay(opts, 4, 10s, std::nullopt, random) == next_retry_delay(opts, 4, 10s, std::nullopt, random));
}

// -- next_retry_delay: limits -------------------------------------------------------------------

TEST_CASE("an event runs out of retries after max_attempts attempts", "[retry_policy]") {
  retry_options opts;
  CHECK(next_retry_delay(opts, 9, 0ms, std::nullopt, max_random));
  CHECK_FALSE(next_retry_delay(opts, 10, 0ms, std::nullopt, 0));
  CHECK_FALSE(next_retry_delay(opts, 11, 0ms, std::nullopt, 0));
  opts.max_attempts = 1;
  CHECK_FALSE(next_retry_delay(opts, 1, 0ms, std::nullopt, 0));
}

TEST_CASE("an event is not retried later than max_age after it arrived", "[retry_policy]") {
  const retry_options opts; // max_age one hour
  const milliseconds hour = 3'600'000ms;
  // 100 ms before the limit: a 500 ms back-off would be too late, no back-off is not.
  CHECK_FALSE(next_retry_delay(opts, 1, hour - 100ms, std::nullopt, max_random));
  CHECK(next_retry_delay(opts, 1, hour - 100ms, std::nullopt, 0) == 0ms);
  // A retry exactly at the limit is still allowed.
  CHECK(next_retry_delay(opts, 1, hour - 500ms, std::nullopt, max_random) == 500ms);
  CHECK(next_retry_delay(opts, 1, hour, std::nullopt, 0) == 0ms);
  CHECK_FALSE(next_retry_delay(opts, 1, hour + 1ms, std::nullopt, 0));
}

TEST_CASE("a negative event age counts as zero", "[retry_policy]") {
  const retry_options opts;
  CHECK(next_retry_delay(opts, 1, -5s, std::nullopt, max_random) == 500ms);
}

// -- next_retry_delay: Retry-After --------------------------------------------------------------

TEST_CASE("Retry-After raises the delay to at least its value", "[retry_policy]") {
  const retry_options opts;
  CHECK(next_retry_delay(opts, 1, 0ms, 5s, 0) == 5s);
  CHECK(next_retry_delay(opts, 1, 0ms, 5s, max_random) == 5s);
  // A shorter Retry-After does not shorten the back-off.
  CHECK(next_retry_delay(opts, 1, 0ms, 100ms, max_random) == 500ms);
  CHECK(next_retry_delay(opts, 1, 0ms, 0ms, max_random) == 500ms);
}

TEST_CASE("Retry-After is honoured above max_delay", "[retry_policy]") {
  const retry_options opts;
  CHECK(next_retry_delay(opts, 1, 0ms, 10min, 0) == 10min);
  CHECK(next_retry_delay(opts, 9, 0ms, 59min, max_random) == 59min);
}

TEST_CASE("a Retry-After beyond max_age dead-letters the event", "[retry_policy]") {
  const retry_options opts;
  CHECK_FALSE(next_retry_delay(opts, 1, 0ms, 2h, 0));
  CHECK_FALSE(next_retry_delay(opts, 1, 30min, 31min, 0));
  CHECK(next_retry_delay(opts, 1, 30min, 30min, 0) == 30min);
}

TEST_CASE("a negative Retry-After counts as zero", "[retry_policy]") {
  const retry_options opts;
  CHECK(next_retry_delay(opts, 1, 0ms, -10s, max_random) == 500ms);
}

// -- parse_retry_after ---------------------------------------------------------------------------

TEST_CASE("parse_retry_after reads delta-seconds", "[retry_policy]") {
  CHECK(parse_retry_after("120", now) == 120s);
  CHECK(parse_retry_after("0", now) == 0ms);
  CHECK(parse_retry_after("007", now) == 7s);
  CHECK(parse_retry_after(" 5\t", now) == 5s);
}

TEST_CASE("parse_retry_after clamps huge values to retry_after_limit", "[retry_policy]") {
  CHECK(parse_retry_after("2147483648", now) == retry_after_limit);
  CHECK(parse_retry_after("99999999999999999999999999999999", now) == retry_after_limit);
  CHECK(parse_retry_after("2147483647", now) == retry_after_limit - 1s);
  CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == retry_after_limit);
}

TEST_CASE("parse_retry_after reads an IMF-fixdate", "[retry_policy]") {
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now) == 120s);
  CHECK(parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now) == 24h);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0ms);
  // The wait counts from `now` to the millisecond.
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now + 250ms) == 119'750ms);
}

TEST_CASE("parse_retry_after reads an RFC 850 date", "[retry_policy]") {
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:51:37 GMT", now) == 120s);
}

TEST_CASE("an RFC 850 year more than 50 years ahead means the century before", "[retry_policy]") {
  const auto today = at("2026-01-01T00:00:00Z");
  const sys_ms in_2076{date::sys_days{date::year{2076} / 1 / 1}};
  CHECK(parse_retry_after("Wednesday, 01-Jan-76 00:00:00 GMT", today) == in_2076 - today);
  CHECK(parse_retry_after("Friday, 01-Jan-77 00:00:00 GMT", today) == 0ms); // 1977: in the past
  CHECK(parse_retry_after("Thursday, 01-Jan-26 00:01:00 GMT", today) == 1min);
}

TEST_CASE("parse_retry_after reads an asctime date", "[retry_policy]") {
  CHECK(parse_retry_after("Sun Nov  6 08:51:37 1994", now) == 120s);
  CHECK(parse_retry_after("Sun Nov 06 08:51:37 1994", now) == 120s);
  CHECK(parse_retry_after("Thu Nov 10 08:49:37 1994", now) == 96h);
}

TEST_CASE("a Retry-After date in the past means no wait", "[retry_policy]") {
  CHECK(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now) == 0ms);
  CHECK(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0ms);
  CHECK(parse_retry_after("Sun Nov  6 08:49:36 1994", now) == 0ms);
}

TEST_CASE("parse_retry_after accepts a leap second and ignores a wrong day name", "[retry_policy]") {
  const auto before = at("2016-12-31T23:59:00Z");
  CHECK(parse_retry_after("Sat, 31 Dec 2016 23:59:60 GMT", before) == 60s);
  CHECK(parse_retry_after("Mon, 06 Nov 1994 08:51:37 GMT", now) == 120s);
}
