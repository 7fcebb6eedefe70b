#pragma once

#include <cstdint>
#include <string>

#include "actors/metrics.hpp"

namespace feedrouter::test {

/// Returns the value of the sample `series` (its name and labels as the exposition writes them, e.g.
/// `feedrouter_events_fired_total{feed="webhook"}`) in `stats`' exposition; -1 when there is none.
std::int64_t metric_sample(const metrics& stats, const std::string& series);

} // namespace feedrouter::test
