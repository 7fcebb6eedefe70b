#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "core/mqtt_spec.hpp"
#include "net/mqtt_client.hpp"

namespace feedrouter {

/// Spawns the mqtt source of a trigger, linked to `parent` (which speaks the source_listener protocol): it holds one
/// connection of `connector` to the registration's broker session and hands every message to the parent to be
/// stored, acknowledging a QoS 1 message (PUBACK) only once the parent has stored it (docs/mqtt-feed.md).
///
/// On connecting it subscribes to `spec.topic` unless the broker still has the session that `checkpoint` names with
/// that subscription (a SUBSCRIBE would make the broker send retained messages again); a subscription of another
/// filter in the same session is dropped first.
///
/// Protocol towards the parent:
/// - `(credit_atom, n)` is not needed: messages go through the stored request, which the parent refuses while it
///   has no room. The source then stops reading (the broker keeps the rest, and stops sending at its in-flight limit)
///   and offers fewer messages again a moment later.
/// - request `(items_atom, bodies, checkpoint)` with the messages in the order they came, answered with `commit_atom`
///   once stored; then their PUBACKs go out in that order. The checkpoint names the session (to_mqtt_checkpoint).
/// - `(source_status_atom, error)` after each failed connection, with an empty error once a connection subscribed
///   or a message arrived.
/// - `(disable_atom, 0, message)` when retrying would not help: the broker refuses the login, the client id or the
///   subscription, or the egress policy refuses the broker's address. The source then waits to be released.
///
/// A failed connection is made again after a back-off with full jitter (1 s doubling to 30 s); messages received but
/// not stored are dropped with it (the broker sends QoS 1 ones again). Stopping sends DISCONNECT.
source_actor spawn_mqtt_source(caf::local_actor* parent, mqtt_spec spec, std::string fire_body,
                               std::string checkpoint, mqtt_connector_ptr connector);

} // namespace feedrouter
