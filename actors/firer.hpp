#pragma once

#include <caf/fwd.hpp>

#include "actors/trigger_env.hpp"
#include "core/trigger_ref.hpp"

namespace feedrouter {

/// Spawns the firer of `trigger`, linked to `parent`: the HTTP client side of one registration.
///
/// Protocol: `(fire_atom, uint64_t id, std::string body)` POSTs `body` to the trigger with the owner's Basic auth;
/// the parent then gets `(fired_atom, uint64_t id, http_outcome)`. Fires go out one at a time in arrival order, so
/// the controller sees them in the order the source produced them. The firer owns in-flight requests, not sockets:
/// connections come from the shared pool of the client.
caf::actor spawn_firer(caf::local_actor* parent, trigger_env_ptr env, const trigger_ref& trigger,
                       const std::string& auth_key);

} // namespace feedrouter
