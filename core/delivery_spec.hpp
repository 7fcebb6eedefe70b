#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "core/json.hpp"
#include "core/outcome.hpp"

namespace feedrouter {

/// How a registration's events are delivered: batching, and its own retry limits where it overrides the provider's.
struct delivery_spec {
  std::size_t batch_size = 1;              ///< events per fire; above 1 a fire carries {"events": [...]}
  std::chrono::milliseconds batch_window{0}; ///< how long a partial batch waits for more events
  std::optional<int> max_attempts;         ///< `retryAttempts`: attempts per fire before dead letters
  std::optional<std::chrono::milliseconds> max_age; ///< `retryMaxAgeSeconds`: how old an event may get while retried
};

/// Reads `batchSize`, `batchWindowMs`, `retryAttempts` and `retryMaxAgeSeconds`; failures name the parameter.
outcome<delivery_spec> parse_delivery_spec(const json_members& params);

} // namespace feedrouter
