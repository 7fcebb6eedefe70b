#include "core/retry_policy.hpp"

#include <chrono>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <date/date.h>

using namespace feedrouter;

namespace {

// Built without parse_iso8601: a REQUIRE cannot run before the first test case.
const sys_ms now{date::sys_days{date::year{1994} / 11 / 6} + std::chrono::hours{8} + std::chrono::minutes{49} +
                 std::chrono::seconds{37}};

void check_rejected(const std::vector<std::string_view>& headers) {
  for (auto header : headers) {
    INFO("Retry-After: \"" << header << '"');
    CHECK_FALSE(parse_retry_after(header, now));
  }
}

} // namespace

TEST_CASE("an empty Retry-After is rejected", "[retry_policy]") {
  check_rejected({"", " ", "\t \t"});
}

TEST_CASE("delta-seconds that are not plain digits are rejected", "[retry_policy]") {
  check_rejected({"-1", "+5", "1.5", "12s", "5 s", "1 2", "0x10", "1e3", "٣"});
}

TEST_CASE("HTTP-dates with malformed parts are rejected", "[retry_policy]") {
  check_rejected({
    "Sun, 06 Nov 1994 08:49:37 UTC",    // only GMT
    "Sun, 06 Nov 1994 08:49:37",        // zone missing
    "Sun, 06 Nov 1994 08:49:37 GMT x",  // trailing text
    "sun, 06 Nov 1994 08:49:37 GMT",    // names are case-sensitive
    "Sun, 06 nov 1994 08:49:37 GMT",
    "Fun, 06 Nov 1994 08:49:37 GMT",    // no such day
    "Sun, 06 Foo 1994 08:49:37 GMT",    // no such month
    "Sun, 6 Nov 1994 08:49:37 GMT",     // IMF-fixdate days have two digits
    "Sun,06 Nov 1994 08:49:37 GMT",     // space missing
    "Sun, 06 Nov 94 08:49:37 GMT",      // IMF-fixdate years have four digits
    "Sun, 06 Nov 1994 8:49:37 GMT",     // hours have two digits
    "Sun, 06 Nov 1994 08:49 GMT",       // seconds missing
    "Sunday, 06-Nov-1994 08:49:37 GMT", // RFC 850 years have two digits
    "Sunday 06-Nov-94 08:49:37 GMT",    // comma missing
    "Sun, 06-Nov-94 08:49:37 GMT",      // RFC 850 wants the full day name
    "Sunday, 06 Nov 1994 08:49:37 GMT", // IMF-fixdate wants the short one
    "Sun Nov 6 08:49:37 1994",          // asctime pads a one-digit day with a space
    "Sun Nov  6 08:49:37 94",           // asctime years have four digits
    "Sun Nov  6 08:49:37 1994 GMT",     // asctime has no zone
    "1994-11-06T08:51:37Z",             // ISO 8601 is not an HTTP-date
  });
}

TEST_CASE("HTTP-dates with out-of-range fields are rejected", "[retry_policy]") {
  check_rejected({
    "Wed, 30 Feb 1994 08:49:37 GMT", // no February 30
    "Tue, 29 Feb 1994 08:49:37 GMT", // 1994 is a common year
    "Sun, 00 Nov 1994 08:49:37 GMT",
    "Sun, 31 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT",
    "Sun, 06 Nov 1994 08:60:00 GMT",
    "Sun, 06 Nov 1994 08:49:61 GMT",
    "Sunday, 31-Apr-94 08:49:37 GMT",
    "Sun Nov 31 08:49:37 1994",
  });
}
