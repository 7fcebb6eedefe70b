#pragma once

#include <chrono>

#include "actors/metrics.hpp"

namespace feedrouter {

/// Waits until no fire is on the wire or `grace` has passed, whichever comes first; returns whether none is left.
/// Used on SIGTERM after the API stopped accepting and the fires were stopped (metrics::stop_fires), so that fires
/// already sent are answered and counted.
bool wait_for_fires_in_flight(const metrics& stats, std::chrono::milliseconds grace);

/// Ends the process with exit code 0 if it has not ended `grace` after this call. Armed once the store is flushed:
/// everything is durable by then, so a shutdown that hangs on an actor that does not stop (the store closing) must not
/// hang the operator's SIGTERM (or a service manager's stop) for ever.
void arm_exit_watchdog(std::chrono::milliseconds grace);

/// Ends the process with exit code 0 at once, without destroying the actor system: called on SIGTERM once the store is
/// flushed and closed. Tearing down every registration's actors one by one (100 000 triggers took 1.5 s of CPU) would
/// only delay the exit; what they hold is durable, and their connections close with the process.
[[noreturn]] void end_process();

} // namespace feedrouter
