#pragma once

#include <bitset>
#include <cstddef>
#include <optional>
#include <string_view>

#include "core/outcome.hpp"
#include "core/time_format.hpp"

namespace date {
class time_zone;
} // namespace date

namespace feedrouter {

/// How a cron's month field reads numbers. Month names (`JAN`-`DEC`) mean the same months in both.
enum class cron_months {
  standard,  ///< 1-12, January is 1: every cron but OpenWhisk's
  openwhisk, ///< 0-11, January is 0: how OpenWhisk's alarms (node-cron before 3.0) read them
};

/// What one search for a cron's next occurrence found, and the work it took.
struct cron_search {
  /// The occurrence; nullopt when there is none up to the search's limit, or when the search ran out of steps.
  std::optional<sys_seconds> next;
  /// Calendar steps taken (a step jumps to the next month, day, hour, minute or second that could match).
  std::size_t steps = 0;
  /// Whether the search stopped at cron_schedule::max_search_steps before reaching its limit. Never true for a
  /// schedule that parse accepted (the fuzz target tests/fuzz/cron_fuzz.cpp holds it to that); a search that is
  /// nevertheless cut short finds nothing, so a schedule ends rather than spin.
  bool exhausted = false;
};

/// A parsed cron schedule: five fields (minute hour day-of-month month day-of-week), or six with seconds first.
///
/// Fields accept `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b,c`, month names `JAN`-`DEC` and
/// weekday names `SUN`-`SAT` (case-insensitive); weekday 7 is Sunday like 0. When both day-of-month and day-of-week
/// are restricted (anything but a bare `*`), a day matches if either matches (classic cron semantics).
///
/// Searches are bounded by construction: a search never looks past search_horizon_years nor past latest_time, and
/// takes at most max_search_steps steps, whatever the schedule, the time and the zone.
class cron_schedule {
public:
  // -- limits ----------------------------------------------------------------

  /// Longest schedule text parse reads; the longest useful one ("0,1,2,...,59" in every field) is about 700.
  static constexpr std::size_t max_text_length = 1024;

  /// How many years next_after looks ahead: long enough for every February 29, even across 2100, which skips it.
  static constexpr int search_horizon_years = 30;

  /// The most steps one search may take. A month costs a search at most two steps (reach it, scan its days) and the
  /// matching day at most four more (hour, minute, second, found); the budget allows three a month over the 31
  /// calendar years a horizon touches, and a few for a start inside a day and for a repeated hour or gap.
  static constexpr std::size_t max_search_steps = (search_horizon_years + 1) * 12 * 3 + 4 + 16;

  // -- parsing and searching -------------------------------------------------

  /// Parses `text`; a failure names the field "cron" and says which cron field is wrong and why. A schedule that can
  /// never fire (e.g. "0 0 30 2 *") is refused. With cron_months::openwhisk the month field's numbers count from 0
  /// (`11` is December, `0-5` January to June, `2/3` March, June, September, December) and 12 is out of range.
  static outcome<cron_schedule> parse(std::string_view text, cron_months months = cron_months::standard);

  /// Returns the first occurrence strictly after `after`, evaluated in the wall time of `tz`, or nullopt when the
  /// schedule has no occurrence within the next search_horizon_years nor before latest_time.
  ///
  /// Daylight-saving rules: a wall time that does not exist (spring forward) fires once at the instant the gap ends;
  /// a wall time that occurs twice (fall back) fires once, at its first occurrence.
  std::optional<sys_seconds> next_after(sys_seconds after, const date::time_zone& tz) const;

  /// Returns what next_after computes, with the work it took; `limit` (at most latest_time, search_horizon_years
  /// after `after`) is the latest occurrence it may find.
  cron_search search(sys_seconds after, sys_seconds limit, const date::time_zone& tz) const;

  /// Returns whether the schedule was given with a seconds field.
  bool has_seconds() const noexcept {
    return has_seconds_;
  }

private:
  /// The first wall time a search found, and the steps it took.
  struct wall_search {
    std::optional<std::chrono::seconds> time;
    std::size_t steps = 0;
  };

  /// Returns the first wall time at or after `from` that matches every field, or none once past `limit` or after
  /// `budget` steps.
  ///
  /// Both count seconds since 1970-01-01 00:00:00 on one wall clock, so the search needs no time zone; parse uses it
  /// on its own to tell schedules that can never fire.
  wall_search next_wall_time(std::chrono::seconds from, std::chrono::seconds limit, std::size_t budget) const;

  /// Returns the start of the first day after the wall day starting at `day` in its month that matches the day fields,
  /// or the start of the next month.
  std::chrono::seconds next_matching_day(std::chrono::seconds day) const;

  /// Returns whether the civil day `day` (1..31) falling on `weekday` (0 = Sunday) matches the day fields.
  bool day_matches(unsigned day, unsigned weekday) const noexcept;

  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1..31
  std::bitset<13> months_;  // 1..12
  std::bitset<7> weekdays_; // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
  bool has_seconds_ = false;
};

/// Longest time zone name find_time_zone looks up; the longest IANA name has 32 characters.
inline constexpr std::size_t max_time_zone_name_length = 64;

/// Returns the IANA time zone called `name` (e.g. "Europe/Berlin", "UTC"), or nullptr when there is none.
///
/// Only IANA zone names are looked up: names made of letters, digits, '_', '+' and '-' in components separated by
/// '/'. Path-like names ("/etc/localtime", "../x", "a//b"), the machine's own `localtime`, and the database's
/// `posixrules`, `Factory`, `posix/...` and `right/...` files are not zones a tenant may name.
const date::time_zone* find_time_zone(std::string_view name);

} // namespace feedrouter
