#include "core/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <date/date.h>

#include "core/detail/text_reader.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// -- back-off -------------------------------------------------------------------------

/// Returns the upper bound of the jittered back-off after `attempts_made` attempts.
milliseconds backoff_ceiling(const retry_options& opts, int attempts_made) {
  const auto cap = std::max(opts.max_delay, milliseconds{0});
  const auto first = std::clamp(opts.first_delay, milliseconds{0}, cap);
  if (first == milliseconds{0})
    return first;
  // `!(x >= 1)` also catches NaN.
  const double factor = !(opts.factor >= 1.0) ? 1.0 : opts.factor;
  const int exponent = std::max(attempts_made, 1) - 1;
  // pow may overflow to infinity; min() then yields the cap, so the conversion below never overflows.
  const double ceiling = std::min(static_cast<double>(first.count()) * std::pow(factor, exponent),
                                  static_cast<double>(cap.count()));
  return milliseconds{static_cast<milliseconds::rep>(ceiling)};
}

/// Maps `random` onto [0, ceiling] by scaling rather than by modulo, so it is free of modulo bias and monotonic:
/// 0 yields 0 and the largest 64-bit value yields `ceiling`.
milliseconds full_jitter(milliseconds ceiling, std::uint64_t random) {
  __extension__ using uint128 = unsigned __int128;
  const auto span = static_cast<uint128>(ceiling.count()) + 1;
  return milliseconds{static_cast<milliseconds::rep>((static_cast<uint128>(random) * span) >> 64)};
}

// -- HTTP-date --------------------------------------------------------------------------

constexpr std::array<std::string_view, 7> short_day_names{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                         "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// A two-digit RFC 850 year further ahead than this many years means the century before (RFC 9110 section 5.6.7).
constexpr int two_digit_year_horizon = 50;

using http_date_reader = detail::text_reader;

/// The parts of an HTTP-date before they are checked and combined.
struct date_fields {
  int year = 0;
  unsigned month = 0; ///< 1..12
  unsigned day = 0;
  seconds time_of_day{0};
};

/// Reads "HH:MM:SS"; a second of 60 is allowed for a leap second, as RFC 9110 does.
std::optional<seconds> read_time_of_day(http_date_reader& in) {
  auto hh = in.digits(2);
  if (!hh || *hh > 23 || !in.skip(':'))
    return std::nullopt;
  auto mm = in.digits(2);
  if (!mm || *mm > 59 || !in.skip(':'))
    return std::nullopt;
  auto ss = in.digits(2);
  if (!ss || *ss > 60)
    return std::nullopt;
  return hours{*hh} + minutes{*mm} + seconds{*ss};
}

/// Reads the month name and returns its number, 1..12.
std::optional<unsigned> read_month(http_date_reader& in) {
  auto index = in.name(month_names);
  if (!index)
    return std::nullopt;
  return *index + 1;
}

/// Reads "06<separator>Nov<separator>", how IMF-fixdate and RFC 850 dates begin; fills the day and month of `out`.
bool read_day_and_month(http_date_reader& in, char separator, date_fields& out) {
  auto day = in.digits(2);
  if (!day || !in.skip(separator))
    return false;
  auto month = read_month(in);
  if (!month || !in.skip(separator))
    return false;
  out.day = static_cast<unsigned>(*day);
  out.month = *month;
  return true;
}

/// Reads "08:49:37 GMT", how IMF-fixdate and RFC 850 dates end; fills the time of day of `out`.
bool read_gmt_time(http_date_reader& in, date_fields& out) {
  auto tod = read_time_of_day(in);
  if (!tod || !in.literal(" GMT"))
    return false;
  out.time_of_day = *tod;
  return true;
}

/// Reads the rest of an IMF-fixdate after "Sun, ": "06 Nov 1994 08:49:37 GMT".
std::optional<date_fields> read_imf_fixdate(http_date_reader& in) {
  date_fields out;
  if (!read_day_and_month(in, ' ', out))
    return std::nullopt;
  auto year = in.digits(4);
  if (!year || !in.skip(' ') || !read_gmt_time(in, out))
    return std::nullopt;
  out.year = *year;
  return out;
}

/// Reads the rest of an RFC 850 date after "Sunday, ": "06-Nov-94 08:49:37 GMT".
std::optional<date_fields> read_rfc850_date(http_date_reader& in, int current_year) {
  date_fields out;
  if (!read_day_and_month(in, '-', out))
    return std::nullopt;
  auto yy = in.digits(2);
  if (!yy || !in.skip(' ') || !read_gmt_time(in, out))
    return std::nullopt;
  // Pick the year ending in `yy` that lies within the horizon around the current year.
  int year = current_year - current_year % 100 + *yy;
  if (year > current_year + two_digit_year_horizon)
    year -= 100;
  else if (year <= current_year - two_digit_year_horizon)
    year += 100;
  out.year = year;
  return out;
}

/// Reads the rest of an asctime date after "Sun ": "Nov  6 08:49:37 1994" (the day may also be "06").
std::optional<date_fields> read_asctime_date(http_date_reader& in) {
  date_fields out;
  auto month = read_month(in);
  if (!month || !in.skip(' '))
    return std::nullopt;
  auto day = in.skip(' ') ? in.digits(1) : in.digits(2);
  if (!day || !in.skip(' '))
    return std::nullopt;
  auto tod = read_time_of_day(in);
  if (!tod || !in.skip(' '))
    return std::nullopt;
  auto year = in.digits(4);
  if (!year)
    return std::nullopt;
  out.year = *year;
  out.month = *month;
  out.day = static_cast<unsigned>(*day);
  out.time_of_day = *tod;
  return out;
}

/// Parses an HTTP-date in any of its three forms.
std::optional<sys_seconds> parse_http_date(std::string_view text, sys_ms now) {
  http_date_reader in{text};
  std::optional<date_fields> fields;
  if (in.name(long_day_names)) {
    if (!in.literal(", "))
      return std::nullopt;
    const date::year_month_day today{date::floor<date::days>(now)};
    fields = read_rfc850_date(in, static_cast<int>(today.year()));
  } else if (in.name(short_day_names)) {
    if (in.literal(", "))
      fields = read_imf_fixdate(in);
    else if (in.skip(' '))
      fields = read_asctime_date(in);
  }
  if (!fields || !in.at_end())
    return std::nullopt;
  const date::year_month_day ymd{date::year{fields->year}, date::month{fields->month}, date::day{fields->day}};
  // ok() rejects day 0 and dates such as February 30.
  if (!ymd.ok())
    return std::nullopt;
  return date::sys_days{ymd} + fields->time_of_day;
}

/// Parses delta-seconds: one or more digits, saturating at `retry_after_limit`.
std::optional<milliseconds> parse_delta_seconds(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  seconds::rep value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = std::min(value * 10 + (c - '0'), retry_after_limit.count());
  }
  return seconds{value};
}

} // namespace

fire_verdict classify(int status_code, bool transport_error) {
  if (transport_error || status_code == 0)
    return fire_verdict::retry;
  if (status_code >= 200 && status_code <= 299)
    return fire_verdict::fired;
  if (status_code >= 500 && status_code <= 599)
    return fire_verdict::retry;
  switch (status_code) {
    case 408: // request timeout
    case 409: // conflict with a concurrent change; repeating may succeed
    case 429: // too many requests
      return fire_verdict::retry;
    case 400:
    case 401:
    case 403:
    case 404:
      return fire_verdict::disable;
    case 413:
      return fire_verdict::too_large;
    default:
      return fire_verdict::dead;
  }
}

std::optional<milliseconds> next_retry_delay(const retry_options& opts, int attempts_made, milliseconds event_age,
                                             std::optional<milliseconds> retry_after, std::uint64_t random) {
  if (attempts_made >= opts.max_attempts)
    return std::nullopt;
  auto delay = full_jitter(backoff_ceiling(opts, attempts_made), random);
  if (retry_after)
    delay = std::max(delay, std::clamp(*retry_after, milliseconds{0}, milliseconds{retry_after_limit}));
  const auto age = std::max(event_age, milliseconds{0});
  // Written as a difference so that neither side can overflow.
  if (age > opts.max_age || delay > opts.max_age - age)
    return std::nullopt;
  return delay;
}

std::optional<milliseconds> parse_retry_after(std::string_view header, sys_ms now) {
  const auto text = trim_ows(header);
  if (!text.empty() && text.front() >= '0' && text.front() <= '9')
    return parse_delta_seconds(text);
  auto when = parse_http_date(text, now);
  if (!when)
    return std::nullopt;
  const milliseconds wait = *when - now;
  return std::clamp(wait, milliseconds{0}, milliseconds{retry_after_limit});
}

} // namespace feedrouter
