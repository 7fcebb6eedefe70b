#include "actors/trigger_env.hpp"

#include <caf/actor.hpp>

#include "actors/sources/changes.hpp"
#include "actors/sources/poll.hpp"

namespace feedrouter {

source_spawner default_source_spawner(http_client_ptr client) {
  return [client = std::move(client)](caf::local_actor* trigger, const source_args& args) -> caf::actor {
    // Only the kinds that own a connection have a source actor; make_feed_config rejects unknown kinds before any
    // spawn. An alarm's schedule runs in its trigger, and webhook events arrive through the registry.
    if (args.config.poll)
      return spawn_poll_source(trigger, *args.config.poll, args.config.fire_body, args.checkpoint, client);
    if (args.config.changes)
      return spawn_changes_source(trigger, *args.config.changes, args.config.fire_body, args.checkpoint, client);
    return caf::actor{};
  };
}

} // namespace feedrouter
