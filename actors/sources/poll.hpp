#pragma once

#include <cstddef>
#include <string>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "core/poll_spec.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// Spawns the poll source of a trigger, linked to `parent` (which speaks the source_listener protocol): it GETs
/// `spec.target` every `spec.interval` and hands the items it has not seen before to the parent.
///
/// It polls once at start, then an interval after each poll ends (so polls never overlap), sending If-None-Match and
/// If-Modified-Since once it has validators; a 304 changes nothing. It continues from `checkpoint` (see
/// core/poll_state.hpp); the first successful poll of a fresh state only records a baseline.
///
/// Protocol towards the parent:
/// - request `(items_atom, std::vector<std::string> bodies, std::string checkpoint)`, answered with `commit_atom` once
///   the bodies and the checkpoint are stored together. Only then does the source take the new state; on an error
///   (registration busy or not active) it keeps the old one and tries again at the next interval. A baseline is sent
///   with no bodies. At most items_per_commit bodies go in one request; a larger set of new items follows in further
///   requests from the same document. After a refusal the next request carries half as many (at least one), so a
///   parent whose buffer bound is below items_per_commit is not asked for too much forever.
/// - `(source_status_atom, std::string error)` after each failed poll (HTTP error, network error, a document that does
///   not fit the spec), and with an empty error at the first successful poll after failures.
/// - `(disable_atom, int status_code, std::string message)` once `spec.failures_before_disable` polls in a row were
///   answered 401, 403 or 404; the source then stops polling and waits to be released.
///
/// `fire_body` (the registration's `trigger_payload` object) is merged into each item's payload. Without a `client`
/// every poll fails with an error saying so.
source_actor spawn_poll_source(caf::local_actor* parent, poll_spec spec, std::string fire_body,
                               std::string checkpoint, http_client_ptr client);

/// New items a poll source hands to its parent in one request at most: stays well below the trigger's buffer bound
/// (trigger_env::max_buffered_events), which refuses a request that would exceed it.
inline constexpr std::size_t items_per_commit = 100;

} // namespace feedrouter
