#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <caf/fwd.hpp>

#include "actors/registry.hpp"

namespace feedrouter {

/// Feeds systemd's watchdog only while the actors answer.
///
/// A timer that always says "alive" would keep a process whose registry hangs looking healthy for ever. Instead, every
/// third of the watchdog interval this asks `probe` whether the actors answer (it gets a third of the interval to find
/// out) and calls `ping` only when they did; once they stop answering, the pings stop, and systemd restarts the
/// service when WatchdogSec passes without one.
class liveness_watchdog {
public:
  /// Returns whether the actors answered within `timeout`.
  using probe_fn = std::function<bool(std::chrono::milliseconds timeout)>;
  using ping_fn = std::function<void()>;

  /// Starts probing on a thread of its own.
  liveness_watchdog(std::chrono::microseconds interval, probe_fn probe, ping_fn ping);

  /// Stops probing (see stop()).
  ~liveness_watchdog();

  liveness_watchdog(const liveness_watchdog&) = delete;
  liveness_watchdog& operator=(const liveness_watchdog&) = delete;

  /// Stops probing and waits for a probe under way (at most a third of the interval); idempotent.
  void stop();

private:
  void run();

  std::chrono::milliseconds period_;
  probe_fn probe_;
  ping_fn ping_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Returns a probe that asks `registry` whether it is ready (ready_atom) and waits for the answer up to the probe's
/// time-out: the registry answers at once while it handles its mailbox, and not at all while it hangs.
liveness_watchdog::probe_fn registry_probe(caf::actor_system& sys, registry_actor registry);

} // namespace feedrouter
