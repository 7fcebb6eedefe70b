#include "app/liveness_watchdog.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <catch2/catch.hpp>

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for probes that come every millisecond; reached only when something is broken.
constexpr auto probe_timeout = 10s;

/// A probe that answers yes `alive_for` times and no afterwards, and lets the test wait for a number of calls.
class scripted_probe {
public:
  explicit scripted_probe(int alive_for) : alive_for_(alive_for) {}

  bool operator()(std::chrono::milliseconds) {
    std::lock_guard<std::mutex> guard{mutex_};
    ++calls_;
    called_.notify_all();
    return calls_ <= alive_for_;
  }

  bool wait_for_calls(int n) {
    std::unique_lock<std::mutex> lock{mutex_};
    return called_.wait_for(lock, probe_timeout, [&] { return calls_ >= n; });
  }

private:
  int alive_for_;
  std::mutex mutex_;
  std::condition_variable called_;
  int calls_ = 0;
};

/// A registry that never answers ready_atom: the stand-in for a registry that hangs. The promises are kept, so no
/// broken-promise error answers in its place.
struct silent_registry_state {
  std::vector<caf::typed_response_promise<std::size_t>> unanswered;
};

registry_actor::behavior_type silent_registry(registry_actor::stateful_pointer<silent_registry_state> self) {
  return {
    [](api_command&) { return api_result{}; },
    [](admin_command&) { return api_result{}; },
    [](remove_atom, const trigger_ref&) {},
    [](status_atom, const trigger_ref&, const registration_status&) {},
    [self](ready_atom) -> caf::result<std::size_t> {
      self->state.unanswered.push_back(self->make_response_promise<std::size_t>());
      return self->state.unanswered.back();
    },
    [](start_shards_atom, const shard_start&) { return std::size_t{0}; },
    [](stop_shards_atom, const std::vector<std::uint32_t>&) { return std::size_t{0}; },
  };
}

registry_actor::behavior_type answering_registry() {
  return {
    [](api_command&) { return api_result{}; },
    [](admin_command&) { return api_result{}; },
    [](remove_atom, const trigger_ref&) {},
    [](status_atom, const trigger_ref&, const registration_status&) {},
    [](ready_atom) { return std::size_t{7}; },
    [](start_shards_atom, const shard_start&) { return std::size_t{0}; },
    [](stop_shards_atom, const std::vector<std::uint32_t>&) { return std::size_t{0}; },
  };
}

} // namespace

TEST_CASE("the watchdog pings after each probe the actors answer, and stops pinging when they stop answering",
          "[watchdog]") {
  scripted_probe probe{3};
  std::atomic<int> pings{0};
  liveness_watchdog watchdog{3ms, [&probe](std::chrono::milliseconds timeout) { return probe(timeout); },
                             [&pings] { ++pings; }};
  // Three answered probes, then three unanswered ones: the pings stay at three.
  REQUIRE(probe.wait_for_calls(6));
  watchdog.stop();
  CHECK(pings == 3);
}

TEST_CASE("the registry probe is true when the registry answers and false when it does not within the time-out",
          "[watchdog]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto answering = sys.spawn(answering_registry);
  auto silent = sys.spawn(silent_registry);
  CHECK(registry_probe(sys, answering)(probe_timeout));
  // The time-out is the behaviour under test: the probe gives up after it instead of waiting for ever.
  CHECK_FALSE(registry_probe(sys, silent)(20ms));
  caf::anon_send_exit(answering, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
}
