#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter {

/// Wall-clock time at millisecond resolution, the unit of every time the API shows or stores.
using sys_ms = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Wall-clock time at second resolution, the unit of cron schedules.
using sys_seconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

/// The earliest time a date parameter, a schedule or a stored time may hold: 1970-01-01T00:00:00.000Z.
inline constexpr sys_ms earliest_time{std::chrono::milliseconds{0}};

/// The latest time a date parameter, a schedule or a stored time may hold: 9999-12-31T23:59:59.999Z, the last instant
/// a four-digit ISO-8601 year can write. Far enough for any schedule, and near enough that no millisecond arithmetic
/// on a time and a bounded interval can overflow.
inline constexpr sys_ms latest_time{std::chrono::milliseconds{253'402'300'799'999}};

/// Returns whether `t` lies in [earliest_time, latest_time].
constexpr bool in_time_range(sys_ms t) noexcept {
  return earliest_time <= t && t <= latest_time;
}

/// Returns `t` moved into [earliest_time, latest_time]: a time outside it becomes the nearer end.
constexpr sys_ms clamp_to_time_range(sys_ms t) noexcept {
  return t < earliest_time ? earliest_time : latest_time < t ? latest_time : t;
}

/// Returns `t` as ISO-8601 UTC with milliseconds, e.g. "2026-11-27T08:05:00.000Z".
///
/// A time outside [earliest_time, latest_time] is written as the nearer end of that range, so that the text is always
/// a date this service also reads back, whatever arithmetic produced `t`.
std::string format_iso8601(sys_ms t);

/// Parses an ISO-8601 date-time: "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or "+HH:MM"/"-HH:MM"
/// (a space may stand for the "T"); a bare "YYYY-MM-DD" means midnight UTC. Returns nullopt for anything else,
/// including out-of-range fields such as month 13 or February 30.
///
/// Also accepted: offsets without the colon ("+0530"), and fractions of 1 to 9 digits, truncated to milliseconds.
/// A date outside [earliest_time, latest_time] once its offset is applied (e.g. "1969-12-31T23:00:00Z", or
/// "9999-12-31T23:30:00-01:00") is refused too.
std::optional<sys_ms> parse_iso8601(std::string_view text);

/// Returns the current wall-clock time at millisecond resolution.
sys_ms now_ms();

} // namespace feedrouter
