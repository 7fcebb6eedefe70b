#pragma once

#include <functional>
#include <optional>

#include <caf/fwd.hpp>

#include "core/alarm_spec.hpp"
#include "core/time_format.hpp"

namespace feedrouter {

/// Spawns the alarm source of a trigger, linked to `parent`: a timer that walks the schedule.
///
/// Protocol towards the parent: `(next_atom, int64_t next_ms)` once the first occurrence is known;
/// `(occur_atom, int64_t occurrence_ms, int64_t next_ms)` for each occurrence (next_ms is -1 when none follows);
/// `(ended_atom)` when the schedule has no further occurrence, after which the source quits.
///
/// Occurrences that passed while the source was not running are skipped: the first one taken is the first after both
/// now and `last_occurrence`, so a restart never fires an occurrence twice.
caf::actor spawn_alarm_source(caf::local_actor* parent, alarm_spec spec, sys_ms anchor,
                              std::optional<sys_ms> last_occurrence, std::function<sys_ms()> now);

} // namespace feedrouter
