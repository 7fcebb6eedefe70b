#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "core/changes_spec.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// Spawns the changes source of a trigger, linked to `parent` (which speaks the source_listener protocol): it holds
/// `{url}/{dbname}/_changes?feed=continuous` open and hands each change to the parent as credit allows.
///
/// Where it starts: the seq in `checkpoint` when that is from this database; otherwise `spec.since`. `since=now`
/// without a checkpoint first reads the database's current end and has the parent store it as the checkpoint, so
/// that a change made right after CREATE is not lost if the provider stops before the first event.
///
/// Protocol towards the parent:
/// - `(credit_atom, int64_t n)` from the parent: n more changes may be sent. Without credit the source stops reading
///   the stream, and TCP flow control slows the database down.
/// - `(event_atom, std::string body, std::string checkpoint)` per change, in seq order; the checkpoint is that change's
///   position (core/changes_spec.hpp), to be stored once the event is done.
/// - request `(items_atom, std::vector<std::string>{}, std::string checkpoint)` for the since=now baseline, answered
///   with `commit_atom` once stored; a refusal is retried.
/// - `(source_status_atom, std::string error)` after each failure (connection refused or lost, a heartbeat missed
///   twice, a 5xx answer, an error line), and with an empty error once the feed is open again.
/// - `(disable_atom, int status_code, std::string message)` when the database answers 401, 403 or 404: credentials,
///   permissions or the database name are wrong and retrying would not help. The source then waits to be released.
///
/// After a failure it reconnects from the seq of the last change it handed over, after a back-off with full jitter
/// (1 s doubling to 30 s; reset by the first change that arrives).
///
/// With `iamApiKey` every request carries an IAM bearer token, exchanged at `iamUrl` before the first one and again
/// before a request once 80 % of the token's life has passed; a 401 gets one more try with a new token. The token
/// lives in this actor's memory only. A key the token service refuses disables the registration like a 401.
source_actor spawn_changes_source(caf::local_actor* parent, changes_spec spec, std::string fire_body,
                                  std::string checkpoint, http_client_ptr client);

} // namespace feedrouter
