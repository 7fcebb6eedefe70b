#include "core/restart_policy.hpp"

#include <chrono>
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

/// A fixed point on the policy's clock; tests move from it by hand, never by sleeping.
const restart_policy::clock::time_point t0 = restart_policy::clock::time_point{} + 1h;

restart_policy::options opts(std::size_t max_restarts, milliseconds window, milliseconds first, milliseconds max) {
  restart_policy::options o;
  o.max_restarts = max_restarts;
  o.window = window;
  o.first_delay = first;
  o.max_delay = max;
  return o;
}

/// Crashes `count` times, one millisecond apart starting at `start`, and returns the delays.
std::vector<std::optional<milliseconds>> crash(restart_policy& policy, int count,
                                               restart_policy::clock::time_point start = t0) {
  std::vector<std::optional<milliseconds>> delays;
  for (int i = 0; i < count; ++i)
    delays.push_back(policy.on_crash(start + milliseconds{i}));
  return delays;
}

using delays = std::vector<std::optional<milliseconds>>;

} // namespace

TEST_CASE("the default policy doubles from 100 ms and gives up after five restarts", "[restart_policy]") {
  restart_policy policy;
  CHECK(crash(policy, 6) == delays{100ms, 200ms, 400ms, 800ms, 1600ms, std::nullopt});
}

TEST_CASE("delays double from first_delay and stop at max_delay", "[restart_policy]") {
  restart_policy policy{opts(8, 60s, 250ms, 3s)};
  CHECK(crash(policy, 8) == delays{250ms, 500ms, 1000ms, 2000ms, 3000ms, 3000ms, 3000ms, 3000ms});
}

TEST_CASE("a first_delay above max_delay is capped", "[restart_policy]") {
  restart_policy policy{opts(3, 60s, 5s, 2s)};
  CHECK(crash(policy, 2) == delays{2000ms, 2000ms});
}

TEST_CASE("crashes beyond the limit within the window are refused", "[restart_policy]") {
  restart_policy policy{opts(2, 10s, 100ms, 1s)};
  CHECK(crash(policy, 5) == delays{100ms, 200ms, std::nullopt, std::nullopt, std::nullopt});
}

TEST_CASE("a limit of zero restarts refuses the first crash", "[restart_policy]") {
  restart_policy policy{opts(0, 60s, 100ms, 1s)};
  CHECK_FALSE(policy.on_crash(t0));
}

TEST_CASE("crashes older than the window are forgotten", "[restart_policy]") {
  restart_policy policy{opts(3, 10s, 100ms, 10s)};
  CHECK(policy.on_crash(t0) == 100ms);
  CHECK(policy.on_crash(t0 + 4s) == 200ms);
  CHECK(policy.on_crash(t0 + 8s) == 400ms);
  // The crash at t0 has left the window: two remain, so this is the third.
  CHECK(policy.on_crash(t0 + 10s + 1ms) == 400ms);
  // Now those at 4 s, 8 s and 10 s are in the window: a fourth is refused.
  CHECK_FALSE(policy.on_crash(t0 + 12s));
}

TEST_CASE("after a quiet window the policy starts again from first_delay", "[restart_policy]") {
  restart_policy policy{opts(3, 10s, 100ms, 10s)};
  CHECK(crash(policy, 4) == delays{100ms, 200ms, 400ms, std::nullopt});
  CHECK(policy.on_crash(t0 + 1min) == 100ms);
  CHECK(policy.on_crash(t0 + 1min + 1s) == 200ms);
}

TEST_CASE("reset forgets earlier crashes", "[restart_policy]") {
  restart_policy policy{opts(2, 60s, 100ms, 10s)};
  CHECK(crash(policy, 3) == delays{100ms, 200ms, std::nullopt});
  policy.reset();
  CHECK(policy.on_crash(t0 + 1s) == 100ms);
  CHECK(policy.on_crash(t0 + 2s) == 200ms);
  CHECK_FALSE(policy.on_crash(t0 + 3s));
}
