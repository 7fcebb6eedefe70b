#include "app/liveness_watchdog.hpp"

#include <algorithm>

#include <caf/scoped_actor.hpp>

namespace feedrouter {

namespace {

/// The shortest period between probes, whatever the interval: a watchdog interval that small is a test's.
constexpr std::chrono::milliseconds min_period{1};

/// Probes per watchdog interval: one probe that times out still leaves time for the next one to ping in time.
constexpr int probes_per_interval = 3;

} // namespace

liveness_watchdog::liveness_watchdog(std::chrono::microseconds interval, probe_fn probe, ping_fn ping)
  : period_(std::max(min_period,
                     std::chrono::duration_cast<std::chrono::milliseconds>(interval / probes_per_interval))),
    probe_(std::move(probe)),
    ping_(std::move(ping)),
    thread_([this] { run(); }) {
  // nop
}

liveness_watchdog::~liveness_watchdog() {
  stop();
}

void liveness_watchdog::stop() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void liveness_watchdog::run() {
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    lock.unlock();
    if (probe_(period_))
      ping_();
    lock.lock();
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

liveness_watchdog::probe_fn registry_probe(caf::actor_system& sys, registry_actor registry) {
  return [&sys, registry = std::move(registry)](std::chrono::milliseconds timeout) {
    caf::scoped_actor self{sys};
    auto answered = false;
    self->request(registry, timeout, ready_atom::value)
      .receive([&answered](std::size_t) { answered = true; }, [](caf::error&) {});
    return answered;
  };
}

} // namespace feedrouter
