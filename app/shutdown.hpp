#pragma once

#include <chrono>

#include "actors/metrics.hpp"

namespace feedrouter {

/// Waits until no fire is on the wire or `grace` has passed, whichever comes first; returns whether none is left.
/// Used on SIGTERM after the API stopped accepting, so that fires already sent are answered and counted.
bool wait_for_fires_in_flight(const metrics& stats, std::chrono::milliseconds grace);

} // namespace feedrouter
