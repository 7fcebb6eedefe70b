// Fuzzes what a controller's answer steers in the retry of a fire: the Retry-After header (delta-seconds and the three
// HTTP-date forms) and the back-off computed with it.
//
// Input: five bytes for "now" (years 1970 to 9999), eight for the retry options and the attempt, then the header.
// Invariants: a wait is never negative nor above retry_after_limit; digits are read exactly (saturating); spaces and
// tabs around the value change nothing; a date names an instant, so a second later it asks to wait a second less;
// the back-off honours the options, the Retry-After and the event's age limit.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <date/date.h>

#include "core/retry_policy.hpp"
#include "core/text.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;
using std::chrono::milliseconds;

/// The last millisecond of year 9999, the latest "now" tried.
constexpr std::int64_t last_now_ms = 253'402'300'799'999;

constexpr milliseconds one_second{1000};

sys_ms read_now(fuzz::fuzz_input& in) {
  std::uint64_t bits = 0;
  for (int i = 0; i < 5; ++i)
    bits = bits << 8 | in.byte();
  // Five bytes span about 35 years of milliseconds: stretch them over the whole range.
  return sys_ms{milliseconds{static_cast<std::int64_t>(bits * 231 % (last_now_ms + 1))}};
}

std::optional<std::int64_t> all_digits(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::int64_t value = 0;
  for (char c : text)
    value = std::min<std::int64_t>(value * 10 + (c - '0'), retry_after_limit.count());
  return value;
}

int year_of(sys_ms t) {
  return static_cast<int>(date::year_month_day{date::floor<date::days>(t)}.year());
}

void check_retry_after(std::string_view header, sys_ms now) {
  auto wait = parse_retry_after(header, now);
  auto padded = " \t" + std::string{header} + "\t ";
  require(parse_retry_after(padded, now) == wait, "spaces and tabs around the value change nothing");
  const auto delta = all_digits(trim_ows(header));
  if (delta)
    require(wait == std::chrono::seconds{*delta}, "delta-seconds are read exactly, saturating at the limit");
  if (!wait)
    return;
  require(*wait >= milliseconds{0} && *wait <= retry_after_limit, "a wait lies within [0, retry_after_limit]");
  // A date in the future, not clamped: one second later it is one second nearer. (An RFC 850 date's century follows
  // the current year, so the year must not change in that second.)
  const auto later = now + one_second;
  if (!delta && *wait > one_second && *wait < retry_after_limit && year_of(now) == year_of(later))
    require(parse_retry_after(header, later) == *wait - one_second, "an HTTP-date names an instant");
}

void check_backoff(fuzz::fuzz_input& in, std::optional<milliseconds> retry_after) {
  retry_options opts;
  opts.first_delay = milliseconds{in.byte() * 1000};
  opts.factor = in.byte() / 16.0;
  opts.max_delay = milliseconds{in.byte() * 4000};
  opts.max_attempts = in.byte() % 32;
  opts.max_age = milliseconds{std::int64_t{in.byte()} * 60'000};
  const int attempts = in.byte() % 40;
  const milliseconds age{std::int64_t{in.byte()} * 30'000 - 1'000'000};
  const std::uint64_t random = std::uint64_t{in.byte()} * 0x0101'0101'0101'0101ULL;
  auto delay = next_retry_delay(opts, attempts, age, retry_after, random);
  if (attempts >= opts.max_attempts)
    require(!delay, "no retry after the last attempt");
  if (!delay)
    return;
  require(*delay >= milliseconds{0}, "a back-off is not negative");
  require(*delay <= opts.max_age - std::max(age, milliseconds{0}), "a retry stays within the event's age limit");
  if (retry_after)
    require(*delay >= *retry_after, "a Retry-After is honoured");
  else
    require(*delay <= opts.max_delay, "a back-off without Retry-After is capped");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const auto now = read_now(in);
  fuzz::fuzz_input options = in;
  for (int i = 0; i < 8; ++i)
    in.byte();
  const auto header = in.rest();
  check_retry_after(header, now);
  check_backoff(options, parse_retry_after(header, now));
  return 0;
}
