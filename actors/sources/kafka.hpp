#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "actors/sources/kafka_client.hpp"
#include "core/kafka_spec.hpp"

namespace feedrouter {

/// Spawns the kafka source of a trigger, linked to `parent` (which speaks the source_listener protocol): it reads
/// every partition of `spec.topic` with a consumer of `connector` and hands each message to the parent as credit
/// allows (docs/kafka-feed.md).
///
/// Where it starts: the offsets in `checkpoint` when that is from these brokers and topic; partitions the checkpoint
/// does not hold (added to the topic later) from their first message. Without such a checkpoint it first reads where
/// each partition ends (`since: now`) or starts (`since: earliest`) and has the parent store that as the checkpoint,
/// so that a message produced right after CREATE is not lost if the provider stops before the first one is fired.
///
/// Protocol towards the parent:
/// - `(credit_atom, int64_t n)` from the parent: n more messages may be sent. Without credit for a moment the
///   partitions are paused: librdkafka stops fetching, and what it fetched but the source did not take is dropped and
///   fetched again on resume.
/// - `(event_atom, std::string body, std::string checkpoint)` per message, in offset order within each partition: the
///   body is the message as kafka_message_body() writes it. The last message of each hand-over carries the checkpoint
///   (every partition's next offset); the others an empty one, which moves nothing.
/// - request `(items_atom, std::vector<std::string>{}, std::string checkpoint)` for the baseline, answered with
///   `commit_atom` once stored; a refusal is retried.
/// - `(source_status_atom, std::string error)` when the brokers cannot be reached, after each failed check while they
///   cannot, and with an empty error once they answer or a message arrives; also when retention deleted messages of a
///   partition before they were read (the source goes on from the oldest one left).
/// - `(disable_atom, 0, std::string message)` when retrying would not help: credentials or authorization refused, the
///   topic gone, a broker the egress policy refuses. The source then waits to be released.
///
/// Every 5 minutes, and after a failure with a back-off with full jitter (1 s doubling to 30 s), it asks the brokers
/// for the topic's partitions: new ones are read from their start, and an answer ends a failure.
source_actor spawn_kafka_source(caf::local_actor* parent, kafka_spec spec, std::string checkpoint,
                                kafka_connector_ptr connector);

} // namespace feedrouter
