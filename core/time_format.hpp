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

/// Returns `t` as ISO-8601 UTC with milliseconds, e.g. "2026-11-27T08:05:00.000Z".
std::string format_iso8601(sys_ms t);

/// Parses an ISO-8601 date-time: "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or "+HH:MM"/"-HH:MM"
/// (a space may stand for the "T"); a bare "YYYY-MM-DD" means midnight UTC. Returns nullopt for anything else,
/// including out-of-range fields such as month 13 or February 30.
///
/// Also accepted: offsets without the colon ("+0530"), and fractions of 1 to 9 digits, truncated to milliseconds.
std::optional<sys_ms> parse_iso8601(std::string_view text);

/// Returns whether `t` lies in the years 0000 to 9999 (UTC): the instants parse_iso8601 reads and format_iso8601
/// writes as text that reads back.
bool in_iso8601_range(sys_ms t) noexcept;

/// Returns the current wall-clock time at millisecond resolution.
sys_ms now_ms();

} // namespace feedrouter
