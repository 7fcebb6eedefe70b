#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace feedrouter {

// The service manager's side of Type=notify (sd_notify(3)): what the process tells systemd about itself. Each call
// does nothing when the process was not started with $NOTIFY_SOCKET set (a terminal, a test, another supervisor).

/// Says that the service is ready (READY=1, /ready answers 200 from now on), with a one-line status.
void notify_ready(std::string_view status);

/// Says that the service is stopping (STOPPING=1) and why.
void notify_stopping(std::string_view status);

/// Feeds the watchdog (WATCHDOG=1).
void notify_watchdog();

/// Returns the interval within which systemd expects WATCHDOG=1 (WatchdogSec=, from $WATCHDOG_USEC), or nullopt when
/// no watchdog is set for this process.
std::optional<std::chrono::microseconds> watchdog_interval();

} // namespace feedrouter
