#pragma once

#include <string_view>

#include <caf/fwd.hpp>

#include "actors/trigger_env.hpp"
#include "core/retry_policy.hpp"
#include "core/trigger_ref.hpp"

namespace feedrouter {

/// Spawns the firer of `trigger`, linked to `parent`: the HTTP client side of one registration.
///
/// Protocol: `(fire_atom, fire_unit)` POSTs the unit's body to the trigger with the owner's Basic auth and keeps
/// trying by the delivery rules (docs/architecture.md section 5): 408, 409, 429, 5xx, timeouts and connection errors
/// are retried after exponential back-off with full jitter, honouring Retry-After, within `retries`' limits of attempts
/// and age. When a retry is scheduled the parent gets `(backoff_atom, uint64_t id, int attempts, int64_t delay_ms)`;
/// when the firer stops trying it gets `(fired_atom, uint64_t id, fire_report)`. The parent sends the next unit only
/// after the report, so fires reach the controller in order. Connections come from the client's shared pool. Each
/// attempt is counted in the metrics and logged at debug (log_fire_attempt) with `feed`, the registration's feed kind.
caf::actor spawn_firer(caf::local_actor* parent, trigger_env_ptr env, const trigger_ref& trigger,
                       const std::string& auth_key, retry_options retries, std::string_view feed);

} // namespace feedrouter
