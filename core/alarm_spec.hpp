#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/cron.hpp"
#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/param_reader.hpp"
#include "core/time_format.hpp"

namespace feedrouter {

/// The schedule of an `alarm` registration, validated.
struct alarm_spec {
  enum class kind {
    cron,     ///< `cron` (+ `timezone`)
    interval, ///< `minutes` or `seconds`
    once,     ///< `date`
  };

  /// Which of OpenWhisk's three alarm feeds the parameters are read as, from the flags OpenWhisk's own `interval` and
  /// `once` feeds bind (`isInterval`, `fireOnce`; feeds/interval.js and feeds/once.js send them too). Each reads only
  /// its own parameters and ignores the others, as OpenWhisk does; `alarm` takes every kind (docs/alarm-feed.md).
  enum class feed_action {
    alarm,    ///< no flag: `cron`, or feedrouter's `minutes`, `seconds` or `date`
    interval, ///< `isInterval`: `minutes`, `startDate`, `stopDate`
    once,     ///< `fireOnce` (wins over `isInterval`): `date`, `deleteAfterFire`
  };

  /// What follows the one fire of a one-shot alarm once OpenWhisk accepted it (`deleteAfterFire`).
  enum class after_fire {
    keep,                     ///< false (or absent): the registration stays, disabled
    delete_trigger,           ///< true: the OpenWhisk trigger is deleted, then the registration removed
    delete_trigger_and_rules, ///< "rules": the trigger's rules first, then the trigger, then the registration
  };

  kind schedule = kind::cron;
  feed_action action = feed_action::alarm;
  cron_months months = cron_months::standard; ///< `cronMonths`: "1-12" (default) or "0-11"
  std::optional<cron_schedule> cron;
  const date::time_zone* zone = nullptr; ///< cron only; UTC when not given
  std::chrono::milliseconds interval{0};
  std::optional<sys_ms> date;
  after_fire delete_after_fire = after_fire::keep;
  std::optional<sys_ms> start_date;
  /// The `interval` feed's CREATE without startDate: start_date is the CREATE time plus
  /// interval_action_first_fire_delay, to be stored as `startDate` (OpenWhisk's first interval fire).
  bool start_date_implied = false;
  std::optional<sys_ms> stop_date;
  std::optional<std::int64_t> max_triggers; ///< nullopt: unlimited
  /// Without `strict`, a five-field cron fires at a second of the minute derived from the trigger's name, so that
  /// thousands of "every minute" alarms do not all fire in the same instant.
  bool strict = false;
  std::chrono::seconds spread_offset{0};
  /// `catchUp`: of the occurrences missed while no instance ran the registration, the latest fires once, late, with
  /// "late": true in its payload (docs/architecture.md section 5.4); without it they are skipped.
  bool catch_up = false;
};

// -- the integer and date parameters and their ranges (docs/alarm-feed.md) --

/// The longest interval an interval alarm may have, ten years; it also keeps the millisecond arithmetic on a time and
/// an interval far from overflow.
inline constexpr std::chrono::hours alarm_max_interval{24 * 366 * 10};
inline constexpr int_param alarm_minutes_param{
  "minutes", 1, std::chrono::duration_cast<std::chrono::minutes>(alarm_max_interval).count()};
inline constexpr int_param alarm_seconds_param{
  "seconds", 1, std::chrono::duration_cast<std::chrono::seconds>(alarm_max_interval).count()};
/// -1 and 0 mean no limit, as in OpenWhisk's alarms.
inline constexpr int_param alarm_max_triggers_param{"maxTriggers", -1, 1'000'000'000};
inline constexpr std::array<int_param, 3> alarm_int_params = {alarm_minutes_param, alarm_seconds_param,
                                                              alarm_max_triggers_param};
/// The date parameters: ISO-8601 text or epoch milliseconds, from earliest_time to latest_time.
inline constexpr std::array<std::string_view, 3> alarm_date_params = {"date", "startDate", "stopDate"};

/// When the `interval` feed fires first without startDate: this long after CREATE, as OpenWhisk's does.
inline constexpr std::chrono::seconds interval_action_first_fire_delay{30};

/// The `cronMonths` values: how the registration's cron reads month numbers.
inline constexpr std::string_view cron_months_param = "cronMonths";
inline constexpr std::string_view standard_months_value = "1-12";
inline constexpr std::string_view openwhisk_months_value = "0-11";

/// When validation happens: on CREATE/UPDATE dates must lie in the future; a stored registration loaded at start-up is
/// not held to that, since its dates may have passed while the service was down.
enum class validation_time { request, restore };

/// Validates the alarm parameters in `params`; `now` judges "in the future" and `trigger_key` seeds the spread offset.
/// Every failure names the parameter.
///
/// `given` are the parameters the request itself carries (UPDATE: the changes merged over the stored ones; null: all
/// of `params`, as on CREATE). On a request, a date among them must lie in the future, and when one of the schedule's
/// parameters is among them the schedule must have an occurrence: one after `now`, after startDate, before stopDate
/// and before latest_time. A stored registration is not held to either, since its schedule may have ended while the
/// service was down.
outcome<alarm_spec> parse_alarm_spec(const json_members& params, sys_ms now, validation_time when,
                                     std::string_view trigger_key, const json_members* given = nullptr);

/// Returns `params` as they are stored and shown once `spec` was read from them: `minutes` and `maxTriggers` as plain
/// integers, `deleteAfterFire` of a one-shot alarm as OpenWhisk stores it ("true", "false", "rules"; dropped when
/// false-like), and an implied startDate written as milliseconds. Everything else stays as given.
json_members normalize_alarm_params(json_members params, const alarm_spec& spec);

/// Returns the first occurrence strictly after `after`, or nullopt when the schedule has ended (one-shot date passed,
/// stopDate reached, latest_time reached, or a cron with no further occurrence). `anchor` is the registration's
/// creation time, from which interval alarms without startDate count.
///
/// Its work is bounded whatever the times given: at most one cron search (cron_schedule::max_search_steps steps),
/// and an occurrence always lies in [earliest_time, latest_time].
std::optional<sys_ms> next_occurrence(const alarm_spec& spec, sys_ms after, sys_ms anchor);

/// How late an alarm's timer may fire and still count as on time; a later one (machine suspended, overload) skips
/// the occurrences in between instead of firing a burst of them.
inline constexpr std::chrono::milliseconds alarm_late_tolerance{1000};

/// Returns the occurrence a schedule (re)started at `now` takes first: the first after both `now` and
/// `last_occurrence`, so that a restart never fires an occurrence twice and skips those that passed meanwhile.
std::optional<sys_ms> first_occurrence(const alarm_spec& spec, sys_ms anchor, sys_ms now,
                                       std::optional<sys_ms> last_occurrence);

/// Returns the latest occurrence missed by a schedule (re)started at `now`: the latest one after `last_occurrence`
/// (or, when none was taken yet, at or after the registration's creation `anchor`) and not after `now`; nullopt when
/// none was missed. Bounded work: a binary search over next_occurrence(), at most about 45 searches.
std::optional<sys_ms> latest_missed_occurrence(const alarm_spec& spec, sys_ms anchor, sys_ms now,
                                               std::optional<sys_ms> last_occurrence);

/// The longest delay of one alarm timer. An occurrence further away is reached through several timers, each of which
/// finds its occurrence still ahead and arms the next without any search: the actor clock counts nanoseconds and
/// overflows after 292 years, while an occurrence may lie almost 8000 years ahead.
inline constexpr std::chrono::hours alarm_max_timer_delay{24};

/// Returns the delay of the timer for `occurrence` armed at `now`: the time until it, from 0 to alarm_max_timer_delay.
std::chrono::milliseconds alarm_timer_delay(sys_ms occurrence, sys_ms now);

/// Returns the occurrence after `occurrence`, whose timer fired at `now` (not before it): the first after
/// `occurrence`, or, when the timer came more than alarm_late_tolerance late, the first after now minus that
/// tolerance.
std::optional<sys_ms> occurrence_after(const alarm_spec& spec, sys_ms anchor, sys_ms occurrence, sys_ms now);

} // namespace feedrouter
