#include "core/alarm_spec.hpp"

#include <algorithm>
#include <string>

#include <date/tz.h>

#include "core/param_reader.hpp"

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

std::optional<field_error> read_schedule(const json_members& params, sys_ms now, validation_time when,
                                         alarm_spec& spec) {
  std::string_view given;
  for (auto name : schedule_params) {
    if (find_member(params, name) == nullptr)
      continue;
    if (!given.empty())
      return field_error{std::string{name}, "cannot be combined with " + std::string{given}
                                              + ": give exactly one of cron, minutes, seconds or date"};
    given = name;
  }
  if (given.empty())
    return field_error{"cron", "one of cron, minutes, seconds or date is required"};
  if (given == "cron") {
    auto text = json_as_string(*find_member(params, "cron"));
    if (!text)
      return field_error{"cron", "must be a string such as \"*/5 * * * *\""};
    auto cron = cron_schedule::parse(*text);
    if (!cron)
      return cron.error();
    spec.schedule = alarm_spec::kind::cron;
    spec.cron = *cron;
    spec.zone = find_time_zone("UTC");
    if (const auto* raw = find_member(params, "timezone")) {
      auto name = json_as_string(*raw);
      const auto* zone = name ? find_time_zone(*name) : nullptr;
      if (zone == nullptr)
        return field_error{"timezone", "must be an IANA time zone name such as \"Europe/Berlin\""};
      spec.zone = zone;
    }
    return std::nullopt;
  }
  if (given == "minutes" || given == "seconds") {
    auto count = read_int_param(params, given == "minutes" ? alarm_minutes_param : alarm_seconds_param);
    if (!count)
      return count.error();
    spec.schedule = alarm_spec::kind::interval;
    spec.interval = given == "minutes" ? milliseconds{std::chrono::minutes{**count}}
                                       : milliseconds{std::chrono::seconds{**count}};
    return std::nullopt;
  }
  auto date = read_date_param(params, "date");
  if (!date)
    return date.error();
  if (when == validation_time::request && **date <= now)
    return field_error{"date", "must lie in the future"};
  spec.schedule = alarm_spec::kind::once;
  spec.date = **date;
  return std::nullopt;
}

std::optional<field_error> read_options(const json_members& params, sys_ms now, validation_time when,
                                        alarm_spec& spec) {
  auto start = read_date_param(params, "startDate");
  if (!start)
    return start.error();
  auto stop = read_date_param(params, "stopDate");
  if (!stop)
    return stop.error();
  spec.start_date = *start;
  spec.stop_date = *stop;
  if (spec.stop_date && spec.start_date && *spec.stop_date <= *spec.start_date)
    return field_error{"stopDate", "must lie after startDate"};
  if (spec.stop_date && when == validation_time::request && *spec.stop_date <= now)
    return field_error{"stopDate", "must lie in the future"};
  if ((spec.start_date || spec.stop_date) && spec.schedule == alarm_spec::kind::once)
    return field_error{spec.start_date ? "startDate" : "stopDate", "cannot be combined with date"};
  auto delete_after_fire = read_bool_param(params, "deleteAfterFire");
  if (!delete_after_fire)
    return delete_after_fire.error();
  if (*delete_after_fire && **delete_after_fire && spec.schedule != alarm_spec::kind::once)
    return field_error{"deleteAfterFire", "applies only to one-shot alarms with date"};
  spec.delete_after_fire = delete_after_fire->value_or(false);
  auto max_triggers = read_int_param(params, alarm_max_triggers_param);
  if (!max_triggers)
    return max_triggers.error();
  // OpenWhisk's alarms take -1 for "no limit".
  if (*max_triggers && **max_triggers != -1) {
    if (**max_triggers < 1)
      return field_error{"maxTriggers", "must be an integer from 1 to " + std::to_string(alarm_max_triggers_param.max)
                                          + ", or -1 for no limit"};
    spec.max_triggers = **max_triggers;
  }
  auto strict = read_bool_param(params, "strict");
  if (!strict)
    return strict.error();
  spec.strict = strict->value_or(false);
  auto catch_up = read_bool_param(params, "catchUp");
  if (!catch_up)
    return catch_up.error();
  spec.catch_up = catch_up->value_or(false);
  if (const auto* raw = find_member(params, "timezone"); raw != nullptr && spec.schedule != alarm_spec::kind::cron)
    return field_error{"timezone", "applies only to cron alarms"};
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
    return field_error{"stopDate", "lies before the schedule's first occurrence, " + format_iso8601(*first)};
  std::string latest = format_iso8601(latest_time);
  if (spec.start_date)
    return field_error{"startDate", "leaves the schedule no occurrence up to " + latest + ", the latest time"
                                    " supported"};
  // Without startDate only a cron gets here: a date lies in the future and the range, and an interval fires one
  // interval (ten years at most) after now.
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
                                     std::string_view trigger_key) {
  alarm_spec spec;
  if (auto err = read_schedule(params, now, when, spec))
    return *err;
  if (auto err = read_options(params, now, when, spec))
    return *err;
  if (spec.schedule == alarm_spec::kind::cron && !spec.strict && !spec.cron->has_seconds()) {
    constexpr std::uint64_t seconds_per_minute = 60;
    spec.spread_offset = std::chrono::seconds{stable_hash(trigger_key) % seconds_per_minute};
  }
  if (when == validation_time::request)
    if (auto err = check_fires(spec, now))
      return *err;
  return spec;
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
