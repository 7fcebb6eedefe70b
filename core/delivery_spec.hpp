#pragma once

#include <chrono>
#include <cstddef>
#include <array>
#include <optional>
#include <string>

#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/param_reader.hpp"

namespace feedrouter {

/// How a fire carries several events: {"<key>": [body, ...], <members>...}. The feed kind decides it; `kafka` fires
/// every message in {"messages": [...]}, as OpenWhisk's kafka provider does.
struct batch_envelope {
  std::string key = "events"; ///< the member that holds the events' bodies
  bool wrap_single = false;   ///< a fire of one event is wrapped too (with batchSize 1 as well)
  /// The bodies one fire carries at most, with a comma between two; 0: no bound. An event larger than this on its own
  /// is dead-lettered without a fire: the controller could not take it either.
  std::size_t max_bytes = 0;
  json_members members; ///< added after the events (`trigger_payload`); a member named `key` is left out
};

/// How a registration's events are delivered: batching, and its own retry limits where it overrides the provider's.
struct delivery_spec {
  std::size_t batch_size = 1;              ///< events per fire; above 1 a fire carries {"events": [...]}
  std::chrono::milliseconds batch_window{0}; ///< how long a partial batch waits for more events
  std::optional<int> max_attempts;         ///< `retryAttempts`: attempts per fire before dead letters
  std::optional<std::chrono::milliseconds> max_age; ///< `retryMaxAgeSeconds`: how old an event may get while retried
  batch_envelope envelope; ///< set by the feed kind, not a parameter
};

// -- the integer parameters and their ranges (docs/delivery.md) --
inline constexpr int_param batch_size_param{"batchSize", 1, 1000};
inline constexpr int_param batch_window_ms_param{"batchWindowMs", 0, 60'000};
inline constexpr int_param retry_attempts_param{"retryAttempts", 1, 100};
inline constexpr int_param retry_max_age_seconds_param{"retryMaxAgeSeconds", 1, 7 * 24 * 3600};
inline constexpr std::array<int_param, 4> delivery_int_params = {batch_size_param, batch_window_ms_param,
                                                                 retry_attempts_param, retry_max_age_seconds_param};

/// Reads `batchSize`, `batchWindowMs`, `retryAttempts` and `retryMaxAgeSeconds`; failures name the parameter.
outcome<delivery_spec> parse_delivery_spec(const json_members& params);

} // namespace feedrouter
