#pragma once

#include <chrono>
#include <string>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "core/redis_stream_spec.hpp"
#include "net/redis_client.hpp"

namespace feedrouter {

/// Spawns the redis-stream source of a trigger, linked to `parent` (which speaks the source_listener protocol): on a
/// connection of `connector` it reads the entries of `spec.stream` after its position with XREAD and hands each to the
/// parent as credit allows (docs/redis-stream-feed.md).
///
/// Its position is the ID of the last entry handed over; it starts from the one in `checkpoint` when that is from this
/// server and stream. Without one it reads the baseline (the stream's last ID for `start: "$"`, zero for `"0"`) and
/// has the parent store it before reading, so that an entry added right after CREATE is not lost.
///
/// Protocol towards the parent:
/// - `(credit_atom, int64_t n)`: n more entries may be sent. Without credit nothing is read: the entries wait in Redis.
/// - `(event_atom, std::string body, std::string checkpoint)` per entry, in stream order: the body as
///   stream_entry_body() writes it, the checkpoint naming the entry's ID. The parent stores a checkpoint only once its
///   entry and every one before it were fired or dead-lettered; after a restart the source reads on from there.
/// - request `(items_atom, std::vector<std::string>{}, std::string checkpoint)` for the baseline; a refusal is retried.
/// - `(source_status_atom, std::string error)` when the server cannot be reached or answers with an error that may
///   pass, after each failed attempt, and with an empty error once a read succeeds again.
/// - `(disable_atom, 0, std::string message)` when retrying would not help: the credentials or permissions refused,
///   the key not a stream, the egress policy refusing the server. The source then waits to be released.
///
/// Failures close the connection and connect again after a back-off with full jitter (1 s doubling to 30 s).
source_actor spawn_redis_stream_source(caf::local_actor* parent, redis_stream_spec spec, std::string fire_body,
                                       std::string checkpoint, redis_connector_ptr connector);

/// Spawns the preparer of a `redis-stream` registration without a position from its server and stream (a CREATE, or
/// an UPDATE to another server or stream): within `timeout` it connects, logs in, checks the key (a stream, or missing
/// with `create: true`) and answers the baseline as the checkpoint, or an error naming the parameter to fix (`url`
/// for an unreachable server, refused credentials or the egress policy, `stream` for a key that is not a stream or is
/// missing); then quits. When the instance has its bound of connections open it answers that the source is
/// unavailable.
source_preparer_actor spawn_redis_stream_preparer(caf::actor_system& sys, redis_connector_ptr connector,
                                                  redis_stream_spec spec, std::chrono::milliseconds timeout);

} // namespace feedrouter
