#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/sources/changes_position.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/registration.hpp"
#include "core/status_json.hpp"
#include "store/store.hpp"
#include "core/retry_policy.hpp"
#include "core/trigger_ref.hpp"
#include "net/http_client.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

/// What the control API asks the registry to do; one per lifecycle route.
enum class api_op { create, read, update, remove, pause, resume, list, dead_letters, replay, hook };

/// One lifecycle request, already parsed and checked for form by the control API.
struct api_command {
  api_op op = api_op::read;
  trigger_ref trigger;  ///< for list only `ns` is set
  std::string auth_key; ///< the caller's "uuid:key"
  std::string feed;     ///< create: the feed kind
  json_members params;  ///< create: all feed parameters; update: those to change
  std::string hook_id;  ///< hook: the id in the hook URL
  http_fields fields;   ///< hook: the request's headers (signature, event kind)
  std::string body;     ///< hook: the raw request body
};

/// The registry's answer: an HTTP status and a JSON body (empty for 204).
struct api_reply {
  int status = 200;
  std::string body;
};

/// What a trigger actor reports about itself.
struct trigger_snapshot {
  registration_status status;
  live_status live;
};

/// The result of one call to the OpenWhisk controller: a fire, or an authKey check.
struct http_outcome {
  int status_code = 0; ///< HTTP status, 0 when no response arrived
  std::string error;   ///< transport error or the controller's error text; empty on 2xx

  bool ok() const noexcept {
    return status_code >= 200 && status_code < 300;
  }
};

/// One event on its way through a trigger: what to fire, and what finishing it (fired or dead-lettered) means.
struct feed_event {
  stored_event event;
  bool stored = false;    ///< pending in the store: erased there once the event is done
  std::string checkpoint; ///< the source position to persist once this event is done; empty when none
};

/// One fire handed to the firer: a single event's body, or a batch's {"events": [...]}.
struct fire_unit {
  std::uint64_t id = 0;
  std::string body;
  sys_ms oldest_accepted{}; ///< retries stop once the oldest event in the unit is older than the age limit
};

/// Keeps one fire counted as in flight (metrics::fires_in_flight, which shutdown waits on) for as long as it lives.
///
/// It travels with the fire's outcome from the HTTP completion to the trigger, which lets it go only once it has
/// handed the outcome's store changes to the store actor: a shutdown that flushes the store after the count reached
/// zero then also commits them. A message that is dropped (its actor is gone) lets it go as well.
struct wire_token {
  std::shared_ptr<const void> hold;
};

/// How a fire ended, as the firer reports it once it stops trying.
struct fire_report {
  fire_verdict verdict = fire_verdict::fired;
  int status_code = 0; ///< the last HTTP status, 0 when no response arrived
  std::string error;   ///< the last transport error or the controller's error text; empty when fired
  int attempts = 0;
  wire_token in_flight; ///< the last attempt, still counted as in flight
};

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::http_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::client_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::stream_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::changes_end)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::wire_token)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::feed_config)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::registration_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::registration_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::sys_ms)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::fire_unit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::fire_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::stored_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::dead_letter)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::dead_letter>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::store_op>)
