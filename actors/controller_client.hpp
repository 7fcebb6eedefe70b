#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "core/trigger_ref.hpp"
#include "core/url.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// Spawns the actor that asks the OpenWhisk controller about triggers on the registry's behalf.
///
/// Protocol: `(verify_atom, trigger_ref, std::string auth_key)` answers an http_outcome for
/// `GET {api_host}/api/v1/namespaces/{ns}/triggers/{name}` with that key: status 200 means the key may use the
/// trigger; 0 means the controller could not be reached (error says why).
/// `(namespaces_atom, std::string auth_key)` answers (http_outcome, std::string ns) for `GET {api_host}/api/v1/namespaces`:
/// the first namespace the key owns, which is what OpenWhisk means by "_".
caf::actor spawn_controller_client(caf::actor_system& sys, http_client_ptr client, url api_host,
                                   std::chrono::milliseconds timeout);

/// Returns the URL of a trigger's REST resource below `api_host`.
url trigger_url(const url& api_host, const trigger_ref& trigger);

} // namespace feedrouter
