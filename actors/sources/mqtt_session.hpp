#pragma once

#include <chrono>
#include <string>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "core/mqtt_spec.hpp"
#include "net/mqtt_client.hpp"

namespace feedrouter {

/// Returns the connection an `mqtt` registration makes: its broker, client id, credentials and session, with the
/// keepalive and the bounds every mqtt feed keeps (docs/mqtt-feed.md).
mqtt_connect_request make_mqtt_request(const mqtt_spec& spec);

/// Returns whether `checkpoint` says that the broker session of `spec` holds its subscription (the same broker,
/// client id, topic filter, QoS and cleanSession), so that neither a preparer nor a SUBSCRIBE is needed.
bool mqtt_session_is_current(const std::string& checkpoint, const mqtt_spec& spec);

/// Spawns the preparer of an `mqtt` registration whose checkpoint is not from its session (a CREATE, or an UPDATE
/// to another broker, client id or topic): within about `timeout` it connects as the registration will, subscribes
/// to its topic filter (so that with a persistent session the broker keeps what is published from now on, even
/// before the source connects), unsubscribes the filter of `checkpoint` when that is another one of the same
/// session, disconnects, and answers the checkpoint; or an error naming the parameter to fix: `url` when the broker
/// cannot be reached or the egress policy refuses it, `username` / `password` when the broker refuses the login,
/// `clientId` when it rejects the client id, `topic` when it refuses the subscription. Then it quits.
source_preparer_actor spawn_mqtt_preparer(caf::actor_system& sys, mqtt_connector_ptr connector, mqtt_spec spec,
                                          std::string checkpoint, std::chrono::milliseconds timeout);

} // namespace feedrouter
