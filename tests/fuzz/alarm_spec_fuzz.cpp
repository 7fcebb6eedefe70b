// Fuzzes the alarm feed from JSON, as a tenant's CREATE and as a stored registration read at start-up: validation,
// normalization, and the schedule it gives, for time as well as crashes. Every cron search must finish within its
// step budget, and every occurrence must lie in the time range, after the one before, after startDate and before
// stopDate.
//
// Input: the alarm parameters as a JSON object; an optional first line of digits before it is "now" in epoch
// milliseconds (default 2026-01-15T10:00:00Z).

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/alarm_spec.hpp"
#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/time_format.hpp"

namespace {

using namespace feedrouter;
using std::chrono::milliseconds;

/// Occurrences followed per schedule; enough to pass startDate, a stopDate close to it, or maxTriggers of a few.
constexpr int occurrences_per_input = 4;

constexpr sys_ms default_now{milliseconds{1'768'471'200'000}}; // 2026-01-15T10:00:00Z

constexpr std::string_view trigger_key = "guest/fuzzed";

/// Reads an optional first line of digits as "now"; the clock is always within the range, so "now" is too.
sys_ms read_now(std::string_view& input) {
  auto end = input.find('\n');
  if (end == std::string_view::npos || end == 0)
    return default_now;
  std::int64_t millis = 0;
  auto [stop, error] = std::from_chars(input.data(), input.data() + end, millis);
  if (error != std::errc{} || stop != input.data() + end)
    return default_now;
  input.remove_prefix(end + 1);
  return clamp_to_time_range(sys_ms{milliseconds{millis}});
}

/// Holds the cron search that next_occurrence makes after `after` to its budget.
void check_cron_work(const alarm_spec& spec, sys_ms after) {
  if (spec.schedule != alarm_spec::kind::cron)
    return;
  const auto shifted = std::chrono::floor<std::chrono::seconds>(clamp_to_time_range(after) - spec.spread_offset);
  auto found = spec.cron->search(shifted, std::chrono::floor<std::chrono::seconds>(latest_time), *spec.zone);
  if (found.exhausted || found.steps > cron_schedule::max_search_steps)
    __builtin_trap();
}

void check_occurrence(const alarm_spec& spec, sys_ms occurrence, sys_ms after) {
  if (occurrence <= after || !in_time_range(occurrence))
    __builtin_trap();
  if (spec.start_date && occurrence < *spec.start_date)
    __builtin_trap();
  if (spec.stop_date && occurrence > *spec.stop_date)
    __builtin_trap();
  if (parse_iso8601(format_iso8601(occurrence)) != occurrence)
    __builtin_trap();
  const auto delay = alarm_timer_delay(occurrence, after);
  if (delay < milliseconds{0} || delay > alarm_max_timer_delay)
    __builtin_trap();
}

/// Follows the schedule from `now` as a trigger does; returns whether it had a first occurrence.
bool walk(const alarm_spec& spec, sys_ms now) {
  check_cron_work(spec, now);
  auto occurrence = first_occurrence(spec, now, now, std::nullopt);
  if (!occurrence)
    return false;
  check_occurrence(spec, *occurrence, now);
  for (int i = 1; i < occurrences_per_input; ++i) {
    check_cron_work(spec, *occurrence);
    auto next = occurrence_after(spec, now, *occurrence, *occurrence);
    if (!next)
      break;
    check_occurrence(spec, *next, *occurrence);
    occurrence = next;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  const auto now = read_now(input);
  auto params = parse_json_object(input, "params");
  if (!params)
    return 0;
  auto created = make_feed_config("alarm", *params, now, validation_time::request, trigger_key, egress_policy{});
  auto restored = make_feed_config("alarm", *params, now, validation_time::restore, trigger_key, egress_policy{});
  // Start-up is never stricter than a request: what was accepted is loaded again.
  if (created && !restored)
    __builtin_trap();
  if (created) {
    // The stored form is normalized once and for all: reading it again changes nothing.
    auto again =
      make_feed_config("alarm", created->params, now, validation_time::restore, trigger_key, egress_policy{});
    if (!again || again->params != created->params)
      __builtin_trap();
    // A request is refused unless its schedule fires at least once.
    if (!walk(*created->alarm, now))
      __builtin_trap();
  }
  if (restored) {
    // A stored registration may be loaded at any time, also when all of its schedule has passed.
    walk(*restored->alarm, now);
    walk(*restored->alarm, earliest_time);
    walk(*restored->alarm, latest_time);
  }
  return 0;
}
