#pragma once

#include <bitset>
#include <optional>
#include <string_view>

#include "core/outcome.hpp"
#include "core/time_format.hpp"

namespace date {
class time_zone;
} // namespace date

namespace feedrouter {

/// A parsed cron schedule: five fields (minute hour day-of-month month day-of-week), or six with seconds first.
///
/// Fields accept `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b,c`, month names `JAN`-`DEC` and
/// weekday names `SUN`-`SAT` (case-insensitive); weekday 7 is Sunday like 0. When both day-of-month and day-of-week
/// are restricted (anything but a bare `*`), a day matches if either matches (classic cron semantics).
class cron_schedule {
public:
  /// Parses `text`; a failure names the field "cron" and says which cron field is wrong and why.
  static outcome<cron_schedule> parse(std::string_view text);

  /// Returns the first occurrence strictly after `after`, evaluated in the wall time of `tz`, or nullopt when the
  /// schedule has no occurrence within the next 30 years (e.g. "0 0 31 2 *").
  ///
  /// Daylight-saving rules: a wall time that does not exist (spring forward) fires once at the instant the gap ends;
  /// a wall time that occurs twice (fall back) fires once, at its first occurrence.
  std::optional<sys_seconds> next_after(sys_seconds after, const date::time_zone& tz) const;

  /// Returns whether the schedule was given with a seconds field.
  bool has_seconds() const noexcept {
    return has_seconds_;
  }

private:
  /// Returns the first wall time at or after `from` that matches every field, or nullopt once past `limit`.
  ///
  /// Both count seconds since 1970-01-01 00:00:00 on one wall clock, so the search needs no time zone; parse uses it
  /// on its own to tell schedules that can never fire.
  std::optional<std::chrono::seconds> next_wall_time(std::chrono::seconds from, std::chrono::seconds limit) const;

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

/// Returns the IANA time zone called `name` (e.g. "Europe/Berlin", "UTC"), or nullptr when there is none.
const date::time_zone* find_time_zone(std::string_view name);

} // namespace feedrouter
