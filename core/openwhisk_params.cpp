#include "core/openwhisk_params.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <system_error>

#include <date/date.h>

#include "core/detail/text_reader.hpp"
#include "core/json.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

/// Longest date text read: the longest form taken ("2030-12-25T12:30:00.123456789+05:30") with room to spare.
constexpr std::size_t max_date_length = 64;

/// Longest value quoted in a message.
constexpr std::size_t max_quoted_length = 64;

constexpr std::array<std::string_view, 7> day_names = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// Returns whether `text` is a date-time without a zone designator: "YYYY-MM-DD" followed by 'T' or ' ' and a time
/// of digits, ':' and '.' alone, which JavaScript's Date reads in local time (UTC where OpenWhisk's actions run).
bool lacks_offset(std::string_view text) {
  constexpr std::size_t date_length = 10;
  if (text.size() <= date_length + 1 || (text[date_length] != 'T' && text[date_length] != ' '))
    return false;
  auto time = text.substr(date_length + 1);
  return std::all_of(time.begin(), time.end(), [](char c) { return (c >= '0' && c <= '9') || c == ':' || c == '.'; });
}

/// Reads RFC 1123 (IMF-fixdate), "Wed, 25 Dec 2030 12:30:00 GMT"; the day name is checked for spelling only.
std::optional<sys_ms> parse_rfc1123(std::string_view text) {
  detail::text_reader in{text};
  if (!in.name(day_names) || !in.literal(", "))
    return std::nullopt;
  auto day = in.digits(2);
  if (!day || !in.skip(' '))
    return std::nullopt;
  auto month = in.name(month_names);
  if (!month || !in.skip(' '))
    return std::nullopt;
  auto year = in.digits(4);
  if (!year || !in.skip(' '))
    return std::nullopt;
  auto hh = in.bounded(2, 23);
  if (!hh || !in.skip(':'))
    return std::nullopt;
  auto mm = in.bounded(2, 59);
  if (!mm || !in.skip(':'))
    return std::nullopt;
  auto ss = in.bounded(2, 59);
  if (!ss || !in.literal(" GMT") || !in.at_end())
    return std::nullopt;
  const date::year_month_day ymd{date::year{*year}, date::month{*month + 1}, date::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok())
    return std::nullopt;
  const sys_ms t{date::sys_days{ymd} + std::chrono::hours{*hh} + std::chrono::minutes{*mm} + std::chrono::seconds{*ss}};
  if (!in_time_range(t))
    return std::nullopt;
  return t;
}

} // namespace

bool is_js_falsy(std::string_view raw) {
  if (raw == "false" || raw == "null" || raw == "\"\"")
    return true;
  auto number = json_as_int(raw);
  return number && *number == 0;
}

std::optional<std::int64_t> read_openwhisk_int(std::string_view raw) {
  if (auto number = json_as_int(raw))
    return number;
  auto text = json_as_string(raw);
  if (!text)
    return std::nullopt;
  std::string_view digits = trim_ows(*text);
  bool negative = false;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  // A fraction of zeros alone ("5.0", "5.") keeps the value an integer, as `+m === parseInt(m)` finds.
  if (auto dot = digits.find('.'); dot != std::string_view::npos) {
    auto fraction = digits.substr(dot + 1);
    if (!std::all_of(fraction.begin(), fraction.end(), [](char c) { return c == '0'; }))
      return std::nullopt;
    digits = digits.substr(0, dot);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  return negative ? -value : value;
}

std::optional<bool> read_openwhisk_flag(std::string_view raw) {
  if (auto flag = json_as_bool(raw))
    return flag;
  auto text = json_as_string(raw);
  if (!text)
    return std::nullopt;
  auto word = trim_ows(*text);
  if (iequals(word, "true"))
    return true;
  if (iequals(word, "false"))
    return false;
  return std::nullopt;
}

std::optional<sys_ms> read_openwhisk_date(std::string_view raw) {
  if (auto millis = json_as_int(raw)) {
    const sys_ms t{std::chrono::milliseconds{*millis}};
    return in_time_range(t) ? std::optional<sys_ms>{t} : std::nullopt;
  }
  auto text = json_as_string(raw);
  if (!text || text->size() > max_date_length)
    return std::nullopt;
  if (auto t = parse_iso8601(*text))
    return t;
  if (lacks_offset(*text))
    return parse_iso8601(*text + 'Z');
  return parse_rfc1123(*text);
}

std::string quoted_value(std::string_view raw) {
  auto text = json_as_string(raw).value_or(std::string{raw});
  if (text.size() > max_quoted_length)
    text = text.substr(0, max_quoted_length) + "...";
  return text;
}

} // namespace feedrouter
