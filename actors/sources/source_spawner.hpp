#pragma once

#include <functional>

#include "actors/trigger_env.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// Returns the spawner that starts the source of each feed kind this build serves; poll sources send their requests
/// through `client` (normally trigger_env::client).
///
/// The one-argument default_source_spawner() (trigger_env.hpp) has no client: its poll sources report every poll as
/// failed.
source_spawner default_source_spawner(std::function<sys_ms()> now, http_client_ptr client);

} // namespace feedrouter
