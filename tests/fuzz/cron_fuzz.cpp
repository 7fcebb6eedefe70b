// Fuzzes the cron parser and the next-occurrence search for time, not only for crashes: every search must finish
// within the work its design allows, three steps for each calendar month it spans plus a few (cron_schedule's
// max_search_steps is that for the longest span, 31 years), whatever the schedule, zone and start. A search that
// needs more, or runs out of its budget, is a finding.
//
// Input: three lines, "CRON\nZONE\nAFTER", where AFTER is seconds since the epoch (any 64-bit value, so times far
// outside the supported range are tried too). A missing zone is UTC; a missing or unreadable AFTER is 0.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include <date/date.h>

#include "core/cron.hpp"
#include "core/time_format.hpp"

namespace {

using feedrouter::cron_schedule;
using feedrouter::sys_seconds;

/// Occurrences followed one after another per input; enough to cross a gap or a repeated hour of a zone.
constexpr int occurrences_per_input = 4;

std::string_view next_line(std::string_view& input) {
  auto end = input.find('\n');
  auto line = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return line;
}

sys_seconds read_seconds(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return sys_seconds{std::chrono::seconds{value}};
}

/// Steps a search may take per calendar month it spans: reach the month, scan its days, leave it.
constexpr std::size_t steps_per_month = 3;

/// Steps beyond those: the rest of the first day, the last day's hour, minute and second, and a repeated hour or gap
/// skipped in one step.
constexpr std::size_t steps_besides_months = 24;

/// Months between wall times and UTC: a zone's offset moves a wall time by up to a day into the month before or after.
constexpr std::size_t offset_months = 2;

/// Returns the calendar months from `from` to `to`, both counted.
std::size_t months_spanned(sys_seconds from, sys_seconds to) {
  const date::year_month_day first{date::floor<date::days>(from)};
  const date::year_month_day last{date::floor<date::days>(to)};
  const auto months = (last.year() - first.year()).count() * 12
                      + (static_cast<int>(static_cast<unsigned>(last.month()))
                         - static_cast<int>(static_cast<unsigned>(first.month())));
  return static_cast<std::size_t>(std::max(0, months)) + 1;
}

/// Runs one search and holds it to its bounds: a search cut short by its budget, or a result out of order or out of
/// range, is a finding.
std::optional<sys_seconds> checked_search(const cron_schedule& cron, sys_seconds after, const date::time_zone& tz) {
  const auto latest = std::chrono::floor<std::chrono::seconds>(feedrouter::latest_time);
  auto found = cron.search(after, latest, tz);
  if (found.exhausted || found.steps > cron_schedule::max_search_steps)
    __builtin_trap();
  // The span searched: from `after` (as the search clamps it) to the occurrence, or to where the search stopped.
  const auto earliest = std::chrono::floor<std::chrono::seconds>(feedrouter::earliest_time);
  const auto from = std::clamp(after, earliest, latest);
  const auto horizon = std::chrono::duration_cast<std::chrono::seconds>(
    date::years{cron_schedule::search_horizon_years});
  const auto to = found.next ? *found.next : std::min(latest, from + horizon);
  if (found.steps > steps_per_month * (months_spanned(from, to) + offset_months) + steps_besides_months)
    __builtin_trap();
  if (found.next && (*found.next <= after || *found.next > latest || *found.next < sys_seconds{}))
    __builtin_trap();
  if (found.next != cron.next_after(after, tz))
    __builtin_trap();
  return found.next;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto cron_text = next_line(input);
  auto zone_name = next_line(input);
  auto after = read_seconds(next_line(input));
  auto cron = cron_schedule::parse(cron_text);
  if (!cron)
    return 0;
  const auto* zone = feedrouter::find_time_zone(zone_name);
  if (zone == nullptr)
    zone = feedrouter::find_time_zone("UTC");
  auto t = after;
  for (int i = 0; i < occurrences_per_input; ++i) {
    auto next = checked_search(*cron, t, *zone);
    if (!next)
      break;
    t = *next;
  }
  // The ends of every representable time, too.
  using limits = std::numeric_limits<sys_seconds::rep>;
  checked_search(*cron, sys_seconds{sys_seconds::duration{limits::min()}}, *zone);
  checked_search(*cron, sys_seconds{sys_seconds::duration{limits::max()}}, *zone);
  return 0;
}
