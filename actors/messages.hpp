#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/registration.hpp"
#include "core/status_json.hpp"
#include "core/trigger_ref.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// What the control API asks the registry to do; one per lifecycle route.
enum class api_op { create, read, update, remove, pause, resume, list, dead_letters, replay };

/// One lifecycle request, already parsed and checked for form by the control API.
struct api_command {
  api_op op = api_op::read;
  trigger_ref trigger;  ///< for list only `ns` is set
  std::string auth_key; ///< the caller's "uuid:key"
  std::string feed;     ///< create: the feed kind
  json_members params;  ///< create: all feed parameters; update: those to change
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

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::http_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::client_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::feed_config)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::registration_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::registration_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::sys_ms)
