#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "core/outcome.hpp"

namespace feedrouter {

/// A source actor (one per registration whose feed kind owns a connection: poll, changes), as its trigger sees it.
using source_actor = caf::typed_actor<
  /// The source may send `n` more events on top of what it was granted before.
  caf::reacts_to<credit_atom, std::int64_t>>;

/// The trigger, as its source sees it.
using source_listener = caf::typed_actor<
  /// One event (body, checkpoint) of a source that can send it again from its checkpoint; sent only on credit.
  caf::reacts_to<event_atom, std::string, std::string>,
  /// New events (bodies) of a source that cannot send them again, and its new checkpoint: answered once both are
  /// stored together, refused (an error) while the registration has no room for them or is not active.
  caf::replies_to<items_atom, std::vector<std::string>, std::string>::with<commit_atom>,
  /// The source was refused for good (status code, message): the registration is disabled.
  caf::reacts_to<disable_atom, int, std::string>,
  /// An attempt of the source failed (the error), or it works again (an empty error).
  caf::reacts_to<source_status_atom, std::string>>;

/// What preparing a registration's source found out before the registration is stored.
struct prepared_source {
  std::optional<std::string> checkpoint; ///< where the source is to start; nullopt keeps the registration's own
  std::optional<field_error> error;      ///< the parameters cannot work (e.g. no such database): the field to fix
  /// The source cannot be taken on now, whatever its parameters (this instance runs its bound of such sources): why.
  std::optional<std::string> unavailable;
};

/// A one-shot actor that prepares the source of one registration (e.g. reads where a database ends for a `changes`
/// feed with `since: now`) and quits once it answered.
using source_preparer_actor = caf::typed_actor<caf::replies_to<prepare_atom>::with<prepared_source>>;

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::prepared_source)
