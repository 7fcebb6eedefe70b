#pragma once

#include <optional>

#include <caf/fwd.hpp>

#include "actors/trigger_env.hpp"
#include "core/feed_config.hpp"
#include "core/registration.hpp"

namespace feedrouter {

/// Spawns the actor of one registration for `registry`, which monitors it. Not linked: CAF 0.17 keeps an actor's links
/// in a list, so with 100 000 triggers linked to the registry every unlink (DELETE, replace) would scan all of them.
/// An exit message from the registry, or an anonymous one (which the registry's state sends as the registry ends),
/// stops it.
///
/// It is the registration's supervisor and state machine (active | paused | disabled): while active it runs a source
/// actor and a firer actor as linked children and restarts a crashed child with exponential back-off; a child that
/// crashes more often than `env->restarts` allows leaves the registration disabled (AUTO) with the error text.
/// Paused and disabled registrations release their children. It owns the registration's status and persists every
/// change of it through the store actor.
///
/// Protocol (each request is answered with a trigger_snapshot):
/// - `(status_atom)` reports the status;
/// - `(pause_atom)`, `(resume_atom)` change the state on the owner's behalf (resume also re-enables AUTO-disabled);
/// - `(update_atom, feed_config)` reconfigures in place, keeping the position in the schedule.
/// When a one-shot alarm with deleteAfterFire has fired, it sends `(remove_atom, trigger_ref)` to the registry.
///
/// `config` is nullopt when the stored parameters no longer validate; the registration then stays disabled.
caf::actor spawn_trigger(caf::local_actor* registry, trigger_env_ptr env, registration_record record,
                         std::optional<feed_config> config);

} // namespace feedrouter
