#include "core/reconnect_backoff.hpp"

#include <climits>

#include "core/retry_policy.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

const retry_options backoff{reconnect_backoff::first_delay, 2.0, milliseconds{30'000}, INT_MAX, milliseconds::max()};

} // namespace

milliseconds reconnect_backoff::after_failure() {
  auto delay = next_retry_delay(backoff, ++failures_, milliseconds{0}, std::nullopt, random_());
  return delay.value_or(backoff.max_delay);
}

} // namespace feedrouter
