#pragma once

#include <string>
#include <string_view>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/trigger_env.hpp"
#include "core/trigger_ref.hpp"

namespace feedrouter {

/// The HTTP client side of one registration, as its trigger sees it.
using firer_actor = caf::typed_actor<
  /// POSTs the unit's body to the trigger once, with the owner's Basic auth, when the namespace's rate allows it.
  caf::reacts_to<fire_atom, fire_unit>>;

/// The trigger, as its firer's answers reach it.
using fire_listener = caf::typed_actor<
  /// The answer to one fire: its status, error and Retry-After, whatever they are. Several fires may be on the wire
  /// at once; the answers come as they arrive.
  caf::reacts_to<fired_atom, fire_result>>;

/// Spawns the firer of `trigger`, linked to `parent`, whose fires are answered to `listener`.
///
/// A firer sends each unit once and reports what came back; retrying, and what an answer means, are the delivery
/// core's (docs/architecture.md section 5). Its only waiting is for the namespace's rate (--namespace-fire-rate),
/// measured on the actor clock, so simulated time reaches it in tests. The answer goes from the HTTP completion to
/// `listener` directly, not through the firer: one message per fire. Connections come from the client's shared pool.
/// Each fire is counted in the metrics and logged at debug (log_fire_attempt) with `feed`, the registration's feed
/// kind.
firer_actor spawn_firer(caf::local_actor* parent, fire_listener listener, trigger_env_ptr env,
                        const trigger_ref& trigger, const std::string& auth_key, std::string_view feed);

} // namespace feedrouter
