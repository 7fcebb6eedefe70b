#include "core/time_format.hpp"

#include <array>
#include <cstdio>

#include <date/date.h>

#include "core/detail/text_reader.hpp"

namespace feedrouter {

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

/// Longest fraction accepted; nanoseconds is the finest any common producer writes.
constexpr std::size_t max_fraction_digits = 9;

/// Digits of the fraction that survive; finer ones are truncated, not rounded, so a time never moves forward.
constexpr std::size_t kept_fraction_digits = 3;

static_assert(latest_time == sys_ms{date::sys_days{date::year{9999} / date::December / 31}} + std::chrono::hours{24}
                               - milliseconds{1},
              "latest_time is the last millisecond of year 9999");

/// Reads ISO-8601 text left to right; every read fails without consuming on a mismatch.
using iso_reader = detail::text_reader;

/// Reads 1 to max_fraction_digits digits as milliseconds.
std::optional<milliseconds> read_fraction(iso_reader& in) {
  std::size_t count = 0;
  int millis = 0;
  while (auto d = in.digit()) {
    if (count < kept_fraction_digits)
      millis = millis * 10 + *d;
    ++count;
  }
  if (count == 0 || count > max_fraction_digits)
    return std::nullopt;
  for (auto i = count; i < kept_fraction_digits; ++i)
    millis *= 10;
  return milliseconds{millis};
}

/// Reads the zone designator: "Z", or a sign followed by "HH:MM" or "HHMM". Returns the offset east of UTC.
std::optional<minutes> read_offset(iso_reader& in) {
  if (in.skip('Z') || in.skip('z'))
    return minutes{0};
  int sign = 0;
  if (in.skip('+'))
    sign = 1;
  else if (in.skip('-'))
    sign = -1;
  else
    return std::nullopt;
  auto hh = in.bounded(2, 23);
  if (!hh)
    return std::nullopt;
  in.skip(':');
  auto mm = in.bounded(2, 59);
  if (!mm)
    return std::nullopt;
  return sign * (hours{*hh} + minutes{*mm});
}

} // namespace

std::string format_iso8601(sys_ms t) {
  t = clamp_to_time_range(t);
  const auto day = date::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<milliseconds> tod{t - day};
  // Large enough for any year an int can hold, so snprintf never truncates (the range allows only four digits).
  std::array<char, 48> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                              static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                              static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                              static_cast<int>(tod.seconds().count()), static_cast<int>(tod.subseconds().count()));
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::optional<sys_ms> parse_iso8601(std::string_view text) {
  iso_reader in{text};
  auto year = in.digits(4);
  if (!year || !in.skip('-'))
    return std::nullopt;
  auto month = in.digits(2);
  if (!month || !in.skip('-'))
    return std::nullopt;
  auto day = in.digits(2);
  if (!day)
    return std::nullopt;
  const date::year_month_day ymd{date::year{*year}, date::month{static_cast<unsigned>(*month)},
                                 date::day{static_cast<unsigned>(*day)}};
  // ok() rejects month 13, day 0 and dates such as February 30 or February 29 of a common year.
  if (!ymd.ok())
    return std::nullopt;
  const sys_ms midnight{date::sys_days{ymd}};
  if (in.at_end())
    return in_time_range(midnight) ? std::optional<sys_ms>{midnight} : std::nullopt;
  if (!in.skip('T') && !in.skip('t') && !in.skip(' '))
    return std::nullopt;
  auto hh = in.bounded(2, 23);
  if (!hh || !in.skip(':'))
    return std::nullopt;
  auto mm = in.bounded(2, 59);
  if (!mm)
    return std::nullopt;
  seconds ss{0};
  milliseconds frac{0};
  if (in.skip(':')) {
    // The system clock has no leap seconds, so 60 is rejected like any other out-of-range value.
    auto s = in.bounded(2, 59);
    if (!s)
      return std::nullopt;
    ss = seconds{*s};
    if (in.skip('.') || in.skip(',')) {
      auto f = read_fraction(in);
      if (!f)
        return std::nullopt;
      frac = *f;
    }
  }
  auto offset = read_offset(in);
  if (!offset || !in.at_end())
    return std::nullopt;
  auto t = midnight + hours{*hh} + minutes{*mm} + ss + frac - *offset;
  if (!in_time_range(t))
    return std::nullopt;
  return t;
}

sys_ms now_ms() {
  return std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
}

} // namespace feedrouter
