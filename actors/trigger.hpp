#pragma once

#include <optional>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/trigger_env.hpp"
#include "core/feed_config.hpp"
#include "core/registration.hpp"

namespace feedrouter {

/// The actor of one registration, as the registry sees it. Each request about the registration's state is answered
/// with a trigger_snapshot.
using trigger_actor = caf::typed_actor<
  /// Reports the status.
  caf::replies_to<snapshot_atom>::with<trigger_snapshot>,
  /// Pauses on the owner's behalf: the source stops where it is, events are kept.
  caf::replies_to<pause_atom>::with<trigger_snapshot>,
  /// Resumes on the owner's behalf; also re-enables a registration disabled AUTO (not one whose schedule is used up).
  /// Pause and resume leave a registration disabled ADMIN as it is: only an operator lifts that.
  caf::replies_to<resume_atom>::with<trigger_snapshot>,
  /// Disables on an operator's behalf (reason ADMIN, with the operator's message); events are kept.
  caf::replies_to<admin_disable_atom, std::string>::with<trigger_snapshot>,
  /// Makes the registration active again on an operator's behalf, whatever stopped it (not a used-up schedule).
  caf::replies_to<admin_enable_atom>::with<trigger_snapshot>,
  /// Reconfigures in place, keeping the position in the schedule or the source's checkpoint; re-enables a registration
  /// the provider disabled (AUTO) when the new parameters can run, with a fresh maxTriggers count.
  caf::replies_to<update_atom, trigger_update>::with<trigger_snapshot>,
  /// Takes one webhook event: checks it, stores it and answers the sender (delegated by the registry).
  caf::replies_to<hook_atom, webhook_delivery>::with<api_result>,
  /// Moves the dead letters back to be fired, or refuses when the registration cannot fire (delegated by the registry).
  caf::replies_to<replay_atom>::with<api_result>>;

/// The registry, as a trigger sees it.
using trigger_owner = caf::typed_actor<
  /// Removes the registration on the provider's own behalf (a one-shot alarm with deleteAfterFire has fired).
  caf::reacts_to<remove_atom, trigger_ref>,
  /// The registration's state changed (the status as it is now), for the lists the registry answers.
  caf::reacts_to<status_atom, trigger_ref, registration_status>>;

/// Spawns the actor of one registration for `registry`, which monitors it. Not linked: CAF 0.17 keeps an actor's links
/// in a list, so with 100 000 triggers linked to the registry every unlink (DELETE, replace) would scan all of them.
/// An exit message from the registry, or an anonymous one (which the registry's state sends as the registry ends),
/// stops it.
///
/// It is the registration's supervisor: while active it runs a source actor (poll, changes) and a firer actor as linked
/// children and restarts a crashed child with exponential back-off; a child that crashes more often than
/// `env->restarts` allows leaves the registration disabled (AUTO) with the error text. Paused and disabled
/// registrations release their children. It owns the registration's status and persists every change of it through
/// the store actor. Its events go through a delivery_core (docs/architecture.md section 5), whose actions it carries
/// out; an alarm's schedule (actors/alarm_schedule.cpp), webhook intake (actors/webhook_intake.cpp) and dead-letter
/// replay (actors/dead_letter_replay.cpp) run in it too.
///
/// `registry` must accept the trigger_owner protocol. `config` is nullopt when the stored parameters no longer
/// validate; the registration then stays disabled. In cluster mode `fence` is the lease the trigger runs under: every
/// change it stores carries it, and once the store refuses one because the lease moved on, the trigger stops (its
/// shard runs on another instance now); its alarm occurrences are recorded as taken before they are fired.
trigger_actor spawn_trigger(caf::local_actor* registry, trigger_env_ptr env, registration_record record,
                            std::optional<feed_config> config, std::optional<fencing_token> fence = std::nullopt);

} // namespace feedrouter
