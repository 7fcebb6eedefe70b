#include "core/cron.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

namespace feedrouter {

namespace {

using std::chrono::seconds;

/// How far ahead next_after and parse look.
constexpr auto search_horizon = std::chrono::duration_cast<seconds>(date::years{cron_schedule::search_horizon_years});

constexpr auto earliest_second = std::chrono::floor<seconds>(earliest_time.time_since_epoch());
constexpr auto latest_second = std::chrono::floor<seconds>(latest_time.time_since_epoch());

/// Where parse starts its "can this ever fire" search; any start works because the horizon spans leap years.
constexpr auto never_fires_probe = date::sys_days{date::year{2000} / date::January / 1}.time_since_epoch();

/// Longest run of digits read as a number; anything longer is out of range for every field anyway.
constexpr std::size_t max_number_digits = 9;

constexpr std::array<std::string_view, 12> month_names
  = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

constexpr std::array<std::string_view, 7> weekday_names = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/// Describes one cron field: its name in messages, the values it accepts and its optional names.
struct field_spec {
  std::string_view name;
  int min;
  int max;      ///< Highest value accepted when written out (7 for day-of-week, an alias of Sunday).
  int wrap_max; ///< Where `*` and `a/n` stop, so "1/2" in day-of-week does not reach the Sunday alias 7.
  const std::string_view* names = nullptr;
  std::size_t name_count = 0;
  int first_name_value = 0;
  /// Added to every value once the field is read: 1 for months numbered from 0, whose bits are those of 1-12.
  int bit_offset = 0;
};

constexpr field_spec second_field{"second field", 0, 59, 59};
constexpr field_spec minute_field{"minute field", 0, 59, 59};
constexpr field_spec hour_field{"hour field", 0, 23, 23};
constexpr field_spec day_field{"day-of-month field", 1, 31, 31};
constexpr field_spec month_field{"month field", 1, 12, 12, month_names.data(), month_names.size(), 1};
/// OpenWhisk's month field: numbers and names alike read as 0-11 first (as node-cron does, which replaces JAN by 0),
/// then shifted to the 1-12 of month_field, so that `*/3`, `2/3` and `jan-6` keep the months OpenWhisk meant.
constexpr field_spec openwhisk_month_field{"month field (numbered 0-11, as in OpenWhisk)", 0, 11, 11,
                                           month_names.data(), month_names.size(), 0, 1};
constexpr field_spec weekday_field{"day-of-week field", 0, 7, 6, weekday_names.data(), weekday_names.size(), 0};

using field_bits = std::bitset<64>;

field_error cron_error(std::string message) {
  return field_error{"cron", std::move(message)};
}

field_error field_failure(const field_spec& spec, const std::string& what) {
  return cron_error(std::string{spec.name} + ": " + what);
}

std::string quoted(std::string_view text) {
  return "'" + std::string{text} + "'";
}

std::string range_text(int lo, int hi) {
  return std::to_string(lo) + "-" + std::to_string(hi);
}

bool all_digits(std::string_view text) {
  if (text.empty())
    return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

/// Reads a run of digits; nullopt when it is too long to be any field's value.
std::optional<int> to_number(std::string_view digits) {
  if (digits.size() > max_number_digits)
    return std::nullopt;
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

outcome<int> parse_value(std::string_view token, const field_spec& spec) {
  if (token.empty())
    return field_failure(spec, "missing value");
  if (all_digits(token)) {
    auto value = to_number(token);
    if (!value || *value < spec.min || *value > spec.max)
      return field_failure(spec, std::string{token} + " is out of range " + range_text(spec.min, spec.max));
    return *value;
  }
  for (std::size_t i = 0; i < spec.name_count; ++i)
    if (iequals(token, spec.names[i]))
      return spec.first_name_value + static_cast<int>(i);
  std::string hint = "expected a number " + range_text(spec.min, spec.max);
  if (spec.names != nullptr)
    hint += " or a name " + std::string{spec.names[0]} + "-" + std::string{spec.names[spec.name_count - 1]};
  return field_failure(spec, quoted(token) + " is not a valid value (" + hint + ")");
}

outcome<int> parse_step(std::string_view token, const field_spec& spec) {
  if (!all_digits(token))
    return field_failure(spec, "step " + quoted(token) + " is not a number");
  // A step wider than the field selects only its start, which is almost certainly a typo.
  const int widest = spec.wrap_max - spec.min + 1;
  auto step = to_number(token);
  if (step && *step == 0)
    return field_failure(spec, "step 0 is not allowed");
  if (!step || *step > widest)
    return field_failure(spec, "step " + std::string{token} + " is out of range " + range_text(1, widest));
  return *step;
}

/// Parses one list item: `*`, `v`, `a-b`, each optionally followed by `/step`.
outcome<field_bits> parse_item(std::string_view item, const field_spec& spec) {
  if (item.empty())
    return field_failure(spec, "empty list item");
  auto base = item;
  int step = 1;
  bool has_step = false;
  if (auto slash = item.find('/'); slash != std::string_view::npos) {
    base = item.substr(0, slash);
    auto parsed = parse_step(item.substr(slash + 1), spec);
    if (!parsed)
      return parsed.error();
    step = *parsed;
    has_step = true;
  }
  int lo = 0;
  int hi = 0;
  if (base == "*") {
    lo = spec.min;
    hi = spec.wrap_max;
  } else if (auto dash = base.find('-'); dash != std::string_view::npos) {
    // Without this, "-5" would report a puzzling "missing value" instead of naming the bad range.
    if (dash == 0 || dash + 1 == base.size())
      return field_failure(spec, quoted(base) + " is not a valid range");
    auto first = parse_value(base.substr(0, dash), spec);
    if (!first)
      return first.error();
    auto last = parse_value(base.substr(dash + 1), spec);
    if (!last)
      return last.error();
    lo = *first;
    hi = *last;
    if (lo > hi)
      return field_failure(spec, "range " + std::string{base} + " is reversed");
  } else {
    auto value = parse_value(base, spec);
    if (!value)
      return value.error();
    lo = *value;
    // "a/n" means "from a to the end", as in Vixie cron.
    hi = has_step ? std::max(lo, spec.wrap_max) : lo;
  }
  field_bits bits;
  for (int v = lo; v <= hi; v += step)
    bits.set(static_cast<std::size_t>(v + spec.bit_offset));
  return bits;
}

outcome<field_bits> parse_field(std::string_view text, const field_spec& spec) {
  field_bits bits;
  for (;;) {
    auto comma = text.find(',');
    auto item = parse_item(text.substr(0, comma), spec);
    if (!item)
      return item.error();
    bits |= *item;
    if (comma == std::string_view::npos)
      return bits;
    text.remove_prefix(comma + 1);
  }
}

std::vector<std::string_view> split_fields(std::string_view text) {
  constexpr std::string_view blanks = " \t\r\n";
  std::vector<std::string_view> fields;
  for (auto pos = text.find_first_not_of(blanks); pos != std::string_view::npos;
       pos = text.find_first_not_of(blanks, pos)) {
    auto end = text.find_first_of(blanks, pos);
    fields.push_back(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    pos = end;
  }
  return fields;
}

/// Narrows parsed bits to a member's width; every value was range-checked against that width.
template <std::size_t N>
std::bitset<N> narrow(const field_bits& bits) {
  return std::bitset<N>{bits.to_ullong()};
}

/// Returns the first set index at or after `from`, or nullopt when the rest of the field is empty.
template <std::size_t N>
std::optional<int> next_set(const std::bitset<N>& bits, int from) {
  for (auto i = static_cast<std::size_t>(from); i < N; ++i)
    if (bits.test(i))
      return static_cast<int>(i);
  return std::nullopt;
}

/// Files of the zone database directory that are not zones a tenant may name: the machine's own zone, the template
/// of POSIX rules, the placeholder zone, and the trees of variants (with leap seconds, or POSIX-only).
constexpr std::array<std::string_view, 3> reserved_zone_names = {"localtime", "posixrules", "Factory"};
constexpr std::array<std::string_view, 2> reserved_zone_trees = {"posix", "right"};

bool is_zone_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+'
         || c == '-';
}

/// Returns whether `name` has the form of an IANA zone name ("Europe/Berlin", "Etc/GMT+5", "EST5EDT"): components
/// of letters, digits, '_', '+' and '-', separated by single '/'s. The zone database is a directory of files, so
/// this is what keeps a name from reaching anything but a zone file.
bool is_iana_zone_name(std::string_view name) {
  if (name.empty() || name.size() > max_time_zone_name_length)
    return false;
  if (std::find(reserved_zone_names.begin(), reserved_zone_names.end(), name) != reserved_zone_names.end())
    return false;
  bool first_component = true;
  for (;;) {
    const auto slash = name.find('/');
    const auto component = name.substr(0, slash);
    // The tz project's own rules: no empty component, none starting with '-', and a first one that is no tree of
    // variants.
    if (component.empty() || component.front() == '-'
        || !std::all_of(component.begin(), component.end(), is_zone_name_char))
      return false;
    if (first_component && slash != std::string_view::npos
        && std::find(reserved_zone_trees.begin(), reserved_zone_trees.end(), component) != reserved_zone_trees.end())
      return false;
    if (slash == std::string_view::npos)
      return true;
    name.remove_prefix(slash + 1);
    first_component = false;
  }
}

/// Returns the first day of the first month in `months` after `month` of `year`, in a later year if need be.
date::year_month_day first_matching_month_after(const std::bitset<13>& months, date::year year, unsigned month) {
  if (auto next = next_set(months, static_cast<int>(month) + 1))
    return year / date::month{static_cast<unsigned>(*next)} / 1;
  // Every month field has at least one month, so the next year has it.
  const auto first = next_set(months, 1);
  return (year + date::years{1}) / date::month{static_cast<unsigned>(first.value_or(1))} / 1;
}

} // namespace

outcome<cron_schedule> cron_schedule::parse(std::string_view text, cron_months months) {
  if (text.size() > max_text_length)
    return cron_error("schedule is longer than " + std::to_string(max_text_length) + " characters");
  auto fields = split_fields(text);
  if (fields.empty())
    return cron_error("schedule is empty (expected 5 fields 'minute hour day-of-month month day-of-week', "
                      "or 6 with seconds first)");
  if (fields.size() != 5 && fields.size() != 6)
    return cron_error("expected 5 or 6 fields but got " + std::to_string(fields.size()));
  cron_schedule result;
  result.has_seconds_ = fields.size() == 6;
  std::size_t i = 0;
  if (result.has_seconds_) {
    auto bits = parse_field(fields[i++], second_field);
    if (!bits)
      return bits.error();
    result.seconds_ = narrow<60>(*bits);
  } else {
    result.seconds_.set(0);
  }
  auto minutes = parse_field(fields[i++], minute_field);
  if (!minutes)
    return minutes.error();
  auto hours = parse_field(fields[i++], hour_field);
  if (!hours)
    return hours.error();
  auto days = parse_field(fields[i], day_field);
  if (!days)
    return days.error();
  result.days_restricted_ = fields[i++] != "*";
  auto month_bits = parse_field(fields[i++], months == cron_months::openwhisk ? openwhisk_month_field : month_field);
  if (!month_bits)
    return month_bits.error();
  auto weekdays = parse_field(fields[i], weekday_field);
  if (!weekdays)
    return weekdays.error();
  result.weekdays_restricted_ = fields[i] != "*";
  // 7 is only another spelling of Sunday.
  if (weekdays->test(7)) {
    weekdays->reset(7);
    weekdays->set(0);
  }
  result.minutes_ = narrow<60>(*minutes);
  result.hours_ = narrow<24>(*hours);
  result.days_ = narrow<32>(*days);
  result.months_ = narrow<13>(*month_bits);
  result.weekdays_ = narrow<7>(*weekdays);
  if (!result.next_wall_time(never_fires_probe, never_fires_probe + search_horizon, max_search_steps).time)
    return cron_error("schedule never fires: no calendar date matches its day-of-month, month and day-of-week "
                      "fields (e.g. February 30)");
  return result;
}

bool cron_schedule::day_matches(unsigned day, unsigned weekday) const noexcept {
  const bool day_ok = days_.test(day);
  const bool weekday_ok = weekdays_.test(weekday);
  if (days_restricted_ && weekdays_restricted_)
    return day_ok || weekday_ok;
  // An unrestricted field has every bit set, so requiring both leaves the other field in charge.
  return day_ok && weekday_ok;
}

cron_schedule::wall_search cron_schedule::next_wall_time(seconds from, seconds limit, std::size_t budget) const {
  using std::chrono::hours;
  using std::chrono::minutes;
  // Each mismatch jumps to the start of the next unit that could match: a month to the next month in the field, a day
  // to the next matching day of its month. So a month costs at most two steps and a matching day at most a few more,
  // which is what max_search_steps counts on; a rare date such as February 29 costs two steps a year.
  wall_search found;
  auto t = from;
  while (t <= limit && found.steps < budget) {
    ++found.steps;
    const auto day = date::floor<date::days>(t);
    const date::sys_days civil_day{day};
    const date::year_month_day ymd{civil_day};
    const auto month = static_cast<unsigned>(ymd.month());
    if (!months_.test(month)) {
      t = date::sys_days{first_matching_month_after(months_, ymd.year(), month)}.time_since_epoch();
      continue;
    }
    if (!day_matches(static_cast<unsigned>(ymd.day()), date::weekday{civil_day}.c_encoding())) {
      t = next_matching_day(day);
      continue;
    }
    const auto next_day = day + date::days{1};
    const date::hh_mm_ss<seconds> tod{t - day};
    const int hour = static_cast<int>(tod.hours().count());
    const int minute = static_cast<int>(tod.minutes().count());
    const int second = static_cast<int>(tod.seconds().count());
    const auto start_of_hour = day + hours{hour};
    const auto start_of_minute = start_of_hour + minutes{minute};
    if (auto h = next_set(hours_, hour); !h) {
      t = next_day;
    } else if (*h != hour) {
      t = day + hours{*h};
    } else if (auto m = next_set(minutes_, minute); !m) {
      t = start_of_hour + hours{1};
    } else if (*m != minute) {
      t = start_of_hour + minutes{*m};
    } else if (auto s = next_set(seconds_, second); !s) {
      t = start_of_minute + minutes{1};
    } else {
      found.time = start_of_minute + seconds{*s};
      return found;
    }
  }
  return found;
}

seconds cron_schedule::next_matching_day(seconds day) const {
  const date::sys_days civil_day{date::floor<date::days>(day)};
  const date::year_month_day ymd{civil_day};
  const auto today = static_cast<unsigned>(ymd.day());
  const auto last = static_cast<unsigned>((ymd.year() / ymd.month() / date::last).day());
  auto weekday = date::weekday{civil_day}.c_encoding();
  auto d = today + 1;
  for (; d <= last; ++d) {
    weekday = (weekday + 1) % 7;
    if (day_matches(d, weekday))
      break;
  }
  // Past the last day this is the first of the next month.
  return (civil_day + date::days{d - today}).time_since_epoch();
}

cron_search cron_schedule::search(sys_seconds after, sys_seconds limit, const date::time_zone& tz) const {
  cron_search result;
  // The bounds keep every time below within the calendar the date library computes without overflow.
  if (after >= sys_seconds{latest_second})
    return result;
  after = std::max(after, sys_seconds{earliest_second} - seconds{1});
  limit = std::min({limit, sys_seconds{latest_second}, after + search_horizon});
  if (after >= limit)
    return result;
  // A wall time up to a day past the limit's own may still fall at or before the limit in UTC; fire > limit below
  // drops the rest.
  const auto wall_limit = tz.to_local(limit).time_since_epoch() + date::days{1};
  auto from = tz.to_local(after).time_since_epoch() + seconds{1};
  while (result.steps < max_search_steps) {
    auto wall = next_wall_time(from, wall_limit, max_search_steps - result.steps);
    result.steps += wall.steps;
    if (!wall.time)
      break;
    const date::local_seconds local{*wall.time};
    const auto info = tz.get_info(local);
    // earliest maps a skipped wall time to the end of the gap and a repeated one to its first instant.
    const auto fire = tz.to_sys(local, date::choose::earliest);
    if (fire > limit)
      return result;
    if (fire > after) {
      result.next = fire;
      return result;
    }
    // Candidates can land at or before `after`: a repeated hour's first pass is already over when `after` lies in
    // its second pass, and the times of a gap collapse onto the instant `after` may be. Every other wall time in the
    // same repeated hour or gap does the same, so the search goes on past its end in one step.
    from = *wall.time + seconds{1};
    if (info.result == date::local_info::ambiguous)
      from = std::max(from, (info.first.end + info.first.offset).time_since_epoch());
    else if (info.result == date::local_info::nonexistent)
      from = std::max(from, (info.first.end + info.second.offset).time_since_epoch());
  }
  result.exhausted = result.steps >= max_search_steps;
  return result;
}

std::optional<sys_seconds> cron_schedule::next_after(sys_seconds after, const date::time_zone& tz) const {
  return search(after, sys_seconds{latest_second}, tz).next;
}

const date::time_zone* find_time_zone(std::string_view name) {
  if (!is_iana_zone_name(name))
    return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    // An unknown name, or no zone database on this machine: either way the caller has no zone to use.
    return nullptr;
  }
}

} // namespace feedrouter
