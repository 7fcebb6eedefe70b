#include "core/alarm_spec.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <date/tz.h>

#include "core/openwhisk_params.hpp"
#include "core/param_reader.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

/// FNV-1a: unlike std::hash, the same on every build, so an alarm keeps its second across upgrades.
std::uint64_t stable_hash(std::string_view text) {
  constexpr std::uint64_t offset_basis = 14695981039346656037ull;
  constexpr std::uint64_t prime = 1099511628211ull;
  auto hash = offset_basis;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= prime;
  }
  return hash;
}

constexpr std::string_view schedule_params[] = {"cron", "minutes", "seconds", "date"};

/// The parameters that make up a schedule: a request that changes one of them must leave the schedule an occurrence.
constexpr std::string_view timing_params[] = {"cron",      "timezone", "minutes",    "seconds",         "date",
                                              "startDate", "stopDate", "cronMonths", "limitCronFields", "fireOnce",
                                              "isInterval"};

/// What one parse reads from: the parameters, and what the request itself gave.
struct parse_input {
  const json_members& params;
  sys_ms now;
  validation_time when;
  const json_members* given;

  /// Returns whether the request gave `name` itself (not only the stored registration it updates).
  bool gives(std::string_view name) const {
    return given == nullptr || find_member(*given, name) != nullptr;
  }

  /// Returns whether a date given now must lie in the future.
  bool wants_future(std::string_view name) const {
    return when == validation_time::request && gives(name);
  }

  /// Returns the raw value of `name` unless it is absent or false-like (OpenWhisk's `if (!params.x)`).
  const std::string* truthy(std::string_view name) const {
    const auto* raw = find_member(params, name);
    return raw == nullptr || is_js_falsy(*raw) ? nullptr : raw;
  }
};

std::string date_rule() {
  return "give ISO-8601 such as \"2026-12-24T18:00:00Z\" or milliseconds since the epoch, from "
         + format_iso8601(earliest_time) + " to " + format_iso8601(latest_time);
}

/// Reads date parameter `name` as OpenWhisk's alarms take it; nullopt when absent (or false-like, with `falsy_absent`).
outcome<std::optional<sys_ms>> read_date(const parse_input& in, std::string_view name) {
  const auto* raw = find_member(in.params, name);
  if (raw == nullptr)
    return std::optional<sys_ms>{};
  auto t = read_openwhisk_date(*raw);
  if (!t)
    return field_error{std::string{name}, std::string{name} + " parameter '" + quoted_value(*raw)
                                            + "' is not a valid Date: " + date_rule()};
  if (in.wants_future(name) && *t <= in.now)
    return field_error{std::string{name},
                       std::string{name} + " parameter '" + quoted_value(*raw) + "' must be in the future"};
  return std::optional<sys_ms>{*t};
}

/// Reads `startDate` and `stopDate`: stopDate after startDate (the given one, or `implied_start`).
std::optional<field_error> read_date_range(const parse_input& in, alarm_spec& spec) {
  auto start = read_date(in, "startDate");
  if (!start)
    return start.error();
  auto stop = read_date(in, "stopDate");
  if (!stop)
    return stop.error();
  spec.start_date = *start;
  spec.stop_date = *stop;
  if (spec.stop_date && spec.start_date && *spec.stop_date <= *spec.start_date) {
    const auto* raw = find_member(in.params, "stopDate");
    const auto* start_raw = find_member(in.params, "startDate");
    // An UPDATE that moves only startDate past the stored stopDate is about startDate, as OpenWhisk says.
    if (in.given != nullptr && start_raw != nullptr && in.gives("startDate") && !in.gives("stopDate"))
      return field_error{"startDate", "startDate parameter '" + quoted_value(*start_raw)
                                        + "' must be less than the stopDate parameter '" + quoted_value(*raw) + "'"};
    auto start_text = start_raw != nullptr ? quoted_value(*start_raw)
                                           : std::to_string(spec.start_date->time_since_epoch().count());
    return field_error{"stopDate", "stopDate parameter '" + quoted_value(*raw)
                                     + "' must be greater than the startDate parameter '" + start_text + "'"};
  }
  return std::nullopt;
}

/// Reads `deleteAfterFire` as OpenWhisk's once feed does: false-like is false; otherwise the trimmed, lower-cased text
/// of the value must be false, true or rules.
std::optional<field_error> read_delete_after_fire(const parse_input& in, alarm_spec& spec) {
  const auto* raw = in.truthy("deleteAfterFire");
  if (raw == nullptr)
    return std::nullopt;
  std::string word{trim_ows(json_as_string(*raw).value_or(*raw))};
  std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
  if (word == "true")
    spec.delete_after_fire = alarm_spec::after_fire::delete_trigger;
  else if (word == "rules")
    spec.delete_after_fire = alarm_spec::after_fire::delete_trigger_and_rules;
  else if (word != "false")
    return field_error{"deleteAfterFire", "deleteAfterFire parameter must be one of [false, true, rules]."};
  return std::nullopt;
}

/// Reads `maxTriggers`: -1 and 0 mean no limit (OpenWhisk stores `maxTriggers || -1`), else 1 to the bound.
std::optional<field_error> read_max_triggers(const parse_input& in, alarm_spec& spec) {
  const auto* raw = find_member(in.params, "maxTriggers");
  if (raw == nullptr)
    return std::nullopt;
  auto count = read_openwhisk_int(*raw);
  if (!count || *count < alarm_max_triggers_param.min || *count > alarm_max_triggers_param.max)
    return field_error{"maxTriggers", "must be an integer from 1 to " + std::to_string(alarm_max_triggers_param.max)
                                        + ", or -1 or 0 for no limit"};
  if (*count > 0)
    spec.max_triggers = *count;
  return std::nullopt;
}

/// Reads `minutes` as OpenWhisk's interval feed does, with feedrouter's upper bound.
std::optional<field_error> read_minutes(const parse_input& in, alarm_spec& spec) {
  const auto* raw = in.truthy("minutes");
  if (raw == nullptr)
    return field_error{"minutes", "interval trigger feed is missing the minutes parameter"};
  auto count = read_openwhisk_int(*raw);
  if (!count)
    return field_error{"minutes", "the minutes parameter must be an integer"};
  if (*count <= 0)
    return field_error{"minutes", "the minutes parameter must be an integer greater than zero"};
  if (*count > alarm_minutes_param.max)
    return field_error{"minutes", "the minutes parameter must be at most " + std::to_string(alarm_minutes_param.max)
                                    + " (ten years)"};
  spec.schedule = alarm_spec::kind::interval;
  spec.interval = std::chrono::minutes{*count};
  return std::nullopt;
}

// -- the three feeds --------------------------------------------------------------

/// The `once` feed: `date` and `deleteAfterFire`; everything else of the other feeds is ignored.
std::optional<field_error> read_once_feed(const parse_input& in, alarm_spec& spec) {
  if (in.truthy("date") == nullptr)
    return field_error{"date", "alarms once trigger feed is missing the date parameter"};
  auto date = read_date(in, "date");
  if (!date)
    return date.error();
  spec.schedule = alarm_spec::kind::once;
  spec.date = **date;
  return read_delete_after_fire(in, spec);
}

/// The `interval` feed: `minutes`, `startDate` (CREATE + 30 s when not given), `stopDate`; `maxTriggers` is ignored
/// unless it comes with stopDate, which OpenWhisk refuses.
std::optional<field_error> read_interval_feed(const parse_input& in, alarm_spec& spec) {
  if (auto err = read_minutes(in, spec))
    return err;
  if (find_member(in.params, "startDate") == nullptr && in.when == validation_time::request) {
    spec.start_date = in.now + interval_action_first_fire_delay;
    spec.start_date_implied = true;
  }
  auto implied = spec.start_date;
  if (auto err = read_date_range(in, spec))
    return err;
  if (!spec.start_date)
    spec.start_date = implied;
  if (spec.stop_date && spec.start_date && *spec.stop_date <= *spec.start_date)
    return field_error{"stopDate", "stopDate parameter '" + quoted_value(*find_member(in.params, "stopDate"))
                                     + "' must be greater than the startDate parameter '"
                                     + std::to_string(spec.start_date->time_since_epoch().count()) + "'"};
  if (in.truthy("maxTriggers") != nullptr && spec.stop_date)
    return field_error{"maxTriggers", "maxTriggers is not supported for the interval trigger feed"};
  return std::nullopt;
}

/// Reads `cron` with `timezone` (checked first, as OpenWhisk's cron library does), `cronMonths` and
/// `limitCronFields`.
std::optional<field_error> read_cron(const parse_input& in, alarm_spec& spec) {
  spec.zone = find_time_zone("UTC");
  // OpenWhisk takes an empty timezone as none.
  if (const auto* raw = find_member(in.params, "timezone"); raw != nullptr && *raw != "\"\"") {
    auto name = json_as_string(*raw);
    const auto* zone = name ? find_time_zone(*name) : nullptr;
    if (zone == nullptr)
      return field_error{"timezone", "Invalid timezone: must be an IANA time zone name such as \"Europe/Berlin\""};
    spec.zone = zone;
  }
  auto text = json_as_string(*find_member(in.params, "cron"));
  if (!text)
    return field_error{"cron", "cron pattern '" + quoted_value(*find_member(in.params, "cron"))
                                 + "' is not valid: must be a string such as \"*/5 * * * *\""};
  if (const auto* raw = find_member(in.params, "limitCronFields"); raw != nullptr && !is_js_falsy(*raw)) {
    // OpenWhisk's rule: more than five fields only with a seconds field that is literally 0.
    std::vector<std::string_view> fields;
    std::string_view rest = *text;
    constexpr std::string_view blanks = " \t\r\n";
    for (auto pos = rest.find_first_not_of(blanks); pos != std::string_view::npos;
         pos = rest.find_first_not_of(blanks, pos)) {
      auto end = std::min(rest.find_first_of(blanks, pos), rest.size());
      fields.push_back(rest.substr(pos, end - pos));
      pos = end;
    }
    constexpr std::size_t five_fields = 5;
    if (fields.size() > five_fields && fields.front() != "0")
      return field_error{"cron", "cron pattern is limited to 5 fields with 1 minute as the finest granularity"};
  }
  auto cron = cron_schedule::parse(*text, spec.months);
  if (!cron)
    return cron.error();
  spec.schedule = alarm_spec::kind::cron;
  spec.cron = *cron;
  return std::nullopt;
}

/// The `alarm` feed: exactly one of `cron`, `minutes`, `seconds` or `date`, with the options that apply to it.
std::optional<field_error> read_alarm_feed(const parse_input& in, alarm_spec& spec) {
  std::string_view given;
  for (auto name : schedule_params) {
    if (find_member(in.params, name) == nullptr)
      continue;
    if (!given.empty())
      return field_error{std::string{name}, "cannot be combined with " + std::string{given}
                                              + ": give exactly one of cron, minutes, seconds or date"};
    given = name;
  }
  if (given.empty())
    return field_error{"cron", "alarms trigger feed is missing the cron parameter (or give minutes, seconds or date)"};
  if (given == "cron") {
    if (auto err = read_cron(in, spec))
      return err;
  } else if (given == "minutes") {
    if (auto err = read_minutes(in, spec))
      return err;
  } else if (given == "seconds") {
    auto count = read_int_param(in.params, alarm_seconds_param);
    if (!count)
      return count.error();
    spec.schedule = alarm_spec::kind::interval;
    spec.interval = std::chrono::seconds{**count};
  } else {
    if (auto err = read_once_feed(in, spec))
      return err;
  }
  if (const auto* raw = find_member(in.params, "timezone");
      raw != nullptr && *raw != "\"\"" && spec.schedule != alarm_spec::kind::cron)
    return field_error{"timezone", "applies only to cron alarms"};
  if (spec.schedule == alarm_spec::kind::once) {
    if (find_member(in.params, "startDate") != nullptr || find_member(in.params, "stopDate") != nullptr)
      return field_error{find_member(in.params, "startDate") ? "startDate" : "stopDate",
                         "cannot be combined with date"};
    return std::nullopt;
  }
  if (auto err = read_date_range(in, spec))
    return err;
  if (auto err = read_max_triggers(in, spec))
    return err;
  if (spec.schedule == alarm_spec::kind::cron && spec.max_triggers && spec.stop_date)
    return field_error{"maxTriggers", "maxTriggers is not allowed when the stopDate parameter is specified"};
  return std::nullopt;
}

// -- common parameters -------------------------------------------------------------

outcome<alarm_spec::feed_action> read_feed_action(const json_members& params) {
  for (auto [name, action] : {std::pair{"fireOnce", alarm_spec::feed_action::once},
                              std::pair{"isInterval", alarm_spec::feed_action::interval}}) {
    const auto* raw = find_member(params, name);
    if (raw == nullptr || is_js_falsy(*raw))
      continue;
    auto flag = read_openwhisk_flag(*raw);
    if (!flag)
      return field_error{name, "must be true or false"};
    if (*flag)
      return action;
  }
  return alarm_spec::feed_action::alarm;
}

outcome<cron_months> read_months(const json_members& params) {
  const auto* raw = find_member(params, cron_months_param);
  if (raw == nullptr)
    return cron_months::standard;
  auto text = json_as_string(*raw);
  if (text == standard_months_value)
    return cron_months::standard;
  if (text == openwhisk_months_value)
    return cron_months::openwhisk;
  return field_error{std::string{cron_months_param},
                     "must be \"1-12\" (months numbered as in standard cron) or \"0-11\" (as OpenWhisk's alarms "
                     "number them)"};
}

std::optional<field_error> read_strict(const json_members& params, alarm_spec& spec) {
  const auto* raw = find_member(params, "strict");
  if (raw == nullptr)
    return std::nullopt;
  auto flag = read_openwhisk_flag(*raw);
  if (!flag)
    return field_error{"strict", "must be true or false"};
  spec.strict = *flag;
  return std::nullopt;
}

/// Reads `catchUp`: of the occurrences missed while no instance ran the registration (docs/architecture.md rule 5.4),
/// the latest fires once, late.
std::optional<field_error> read_catch_up(const json_members& params, alarm_spec& spec) {
  const auto* raw = find_member(params, "catchUp");
  if (raw == nullptr)
    return std::nullopt;
  auto flag = read_openwhisk_flag(*raw);
  if (!flag)
    return field_error{"catchUp", "must be true or false"};
  spec.catch_up = *flag;
  return std::nullopt;
}

/// Refuses a schedule that would never fire: none of its occurrences lies after `now`, after startDate and before
/// both stopDate and latest_time. Bounded like every search: a cron looks 30 years ahead at most.
std::optional<field_error> check_fires(const alarm_spec& spec, sys_ms now) {
  if (first_occurrence(spec, now, now, std::nullopt))
    return std::nullopt;
  auto unbounded = spec;
  unbounded.stop_date.reset();
  if (auto first = first_occurrence(unbounded, now, now, std::nullopt); first && spec.stop_date)
    return field_error{"stopDate", "the first scheduled trigger fire is not until after the stop date: the first "
                                   "occurrence is " + format_iso8601(*first)};
  std::string latest = format_iso8601(latest_time);
  if (spec.start_date)
    return field_error{"startDate", "leaves the schedule no occurrence up to " + latest + ", the latest time"
                                    " supported"};
  if (spec.schedule == alarm_spec::kind::once)
    return field_error{"date", "must be in the future"};
  // Without startDate only a cron gets here: an interval fires one interval (ten years at most) after now.
  return field_error{"cron", "has no occurrence within the next " + std::to_string(cron_schedule::search_horizon_years)
                               + " years and up to " + latest};
}

std::optional<sys_ms> next_cron(const alarm_spec& spec, sys_ms after) {
  using std::chrono::floor;
  using std::chrono::seconds;
  auto offset = spec.spread_offset;
  // A cron occurrence c fires at c + offset; the first one after `after` is the first c after `after - offset`.
  auto shifted = floor<seconds>(after - offset);
  auto next = spec.cron->next_after(sys_seconds{shifted}, *spec.zone);
  if (!next)
    return std::nullopt;
  return sys_ms{*next + offset};
}

std::optional<sys_ms> next_interval(const alarm_spec& spec, sys_ms after, sys_ms anchor) {
  // Without startDate the first fire is one interval after creation; with it, at startDate itself.
  auto first = spec.start_date ? *spec.start_date : anchor + spec.interval;
  if (after < first)
    return first;
  auto periods = (after - first) / spec.interval + 1;
  return first + periods * spec.interval;
}

} // namespace

outcome<alarm_spec> parse_alarm_spec(const json_members& params, sys_ms now, validation_time when,
                                     std::string_view trigger_key, const json_members* given) {
  const parse_input in{params, now, when, given};
  alarm_spec spec;
  auto action = read_feed_action(params);
  if (!action)
    return action.error();
  spec.action = *action;
  auto months = read_months(params);
  if (!months)
    return months.error();
  spec.months = *months;
  std::optional<field_error> err;
  switch (spec.action) {
    case alarm_spec::feed_action::once:
      err = read_once_feed(in, spec);
      break;
    case alarm_spec::feed_action::interval:
      err = read_interval_feed(in, spec);
      break;
    case alarm_spec::feed_action::alarm:
      err = read_alarm_feed(in, spec);
      break;
  }
  if (err)
    return *err;
  if (auto strict = read_strict(params, spec))
    return *strict;
  if (auto catch_up = read_catch_up(params, spec))
    return *catch_up;
  if (spec.schedule == alarm_spec::kind::cron && !spec.strict && !spec.cron->has_seconds()) {
    constexpr std::uint64_t seconds_per_minute = 60;
    spec.spread_offset = std::chrono::seconds{stable_hash(trigger_key) % seconds_per_minute};
  }
  auto timing_given = std::any_of(std::begin(timing_params), std::end(timing_params),
                                  [&](std::string_view name) { return in.gives(name); });
  if (when == validation_time::request && timing_given)
    if (auto never = check_fires(spec, now))
      return *never;
  return spec;
}

json_members normalize_alarm_params(json_members params, const alarm_spec& spec) {
  for (auto i = params.begin(); i != params.end();) {
    auto& [name, raw] = *i;
    if (name == "minutes" || name == "maxTriggers") {
      if (auto number = read_openwhisk_int(raw))
        raw = std::to_string(*number);
    } else if (name == "deleteAfterFire" && spec.schedule == alarm_spec::kind::once) {
      if (is_js_falsy(raw)) {
        i = params.erase(i);
        continue;
      }
      // Valid by now: true, false or rules in some spelling; stored as OpenWhisk stores it.
      std::string word{trim_ows(json_as_string(raw).value_or(raw))};
      std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
      raw.clear();
      append_json_string(raw, word);
    }
    ++i;
  }
  if (spec.start_date_implied && spec.start_date)
    params.emplace_back("startDate", std::to_string(spec.start_date->time_since_epoch().count()));
  return params;
}

std::optional<sys_ms> next_occurrence(const alarm_spec& spec, sys_ms after, sys_ms anchor) {
  if (spec.start_date && after < *spec.start_date)
    after = *spec.start_date - milliseconds{1};
  // A time from the store or the clock may lie anywhere; only times inside the range are computed with, where nothing
  // below can overflow.
  if (after >= latest_time)
    return std::nullopt;
  after = std::max(after, earliest_time - milliseconds{1});
  anchor = clamp_to_time_range(anchor);
  std::optional<sys_ms> next;
  switch (spec.schedule) {
    case alarm_spec::kind::cron:
      next = next_cron(spec, after);
      break;
    case alarm_spec::kind::interval:
      next = next_interval(spec, after, anchor);
      break;
    case alarm_spec::kind::once:
      if (*spec.date > after)
        next = spec.date;
      break;
  }
  if (!next || *next > latest_time || (spec.stop_date && *next > *spec.stop_date))
    return std::nullopt;
  return next;
}

std::chrono::milliseconds alarm_timer_delay(sys_ms occurrence, sys_ms now) {
  // Clamped first, so that the difference cannot overflow whatever the two times are.
  const auto delay = clamp_to_time_range(occurrence) - clamp_to_time_range(now);
  return std::clamp<milliseconds>(delay, milliseconds{0}, alarm_max_timer_delay);
}

std::optional<sys_ms> first_occurrence(const alarm_spec& spec, sys_ms anchor, sys_ms now,
                                       std::optional<sys_ms> last_occurrence) {
  return next_occurrence(spec, std::max(now, last_occurrence.value_or(sys_ms{})), anchor);
}

std::optional<sys_ms> latest_missed_occurrence(const alarm_spec& spec, sys_ms anchor, sys_ms now,
                                               std::optional<sys_ms> last_occurrence) {
  now = clamp_to_time_range(now);
  auto lo = std::max(last_occurrence.value_or(anchor - milliseconds{1}), earliest_time - milliseconds{1});
  auto first = next_occurrence(spec, lo, anchor);
  if (!first || *first > now)
    return std::nullopt;
  // next_occurrence() never decreases as its `after` grows: the latest occurrence up to `now` is the one after the
  // largest `after` whose next occurrence is still not after `now`. Invariant: next(lo) <= now < next(hi).
  auto hi = now;
  while (hi - lo > milliseconds{1}) {
    auto mid = lo + (hi - lo) / 2;
    auto next = next_occurrence(spec, mid, anchor);
    if (next && *next <= now)
      lo = mid;
    else
      hi = mid;
  }
  return next_occurrence(spec, lo, anchor);
}

std::optional<sys_ms> occurrence_after(const alarm_spec& spec, sys_ms anchor, sys_ms occurrence, sys_ms now) {
  return next_occurrence(spec, std::max(occurrence, now - alarm_late_tolerance), anchor);
}

} // namespace feedrouter
