#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "actors/sources/kafka_client.hpp"
#include "core/kafka_spec.hpp"

namespace feedrouter {

/// Spawns the preparer of a `kafka` registration that has no position from its brokers and topic (a CREATE, or an
/// UPDATE to other brokers or another topic): within `timeout` it asks the brokers for the topic's partitions and where
/// each ends (`since: now`) or starts (`since: earliest`), and answers that as the checkpoint, or an error naming the
/// parameter to fix (`brokers` or `kafka_brokers_sasl` when no broker answers or the egress policy refuses one,
/// `topic` when the topic does not exist or may not be read, `user` when the credentials are refused); then quits.
/// When the instance already runs its bound of kafka consumers it answers that the source is unavailable.
source_preparer_actor spawn_kafka_preparer(caf::actor_system& sys, kafka_connector_ptr connector, kafka_spec spec,
                                           std::chrono::milliseconds timeout);

} // namespace feedrouter
