#include "actors/trigger_env.hpp"

#include <caf/actor.hpp>

#include "actors/sources/alarm.hpp"
#include "actors/sources/changes.hpp"
#include "actors/sources/poll.hpp"

namespace feedrouter {

source_spawner default_source_spawner(std::function<sys_ms()> now, http_client_ptr client) {
  return [now = std::move(now), client = std::move(client)](caf::local_actor* trigger,
                                                             const source_args& args) -> caf::actor {
    // Each feed kind this build serves has a branch here; make_feed_config rejects the others before any spawn.
    if (args.config.poll)
      return spawn_poll_source(trigger, *args.config.poll, args.config.fire_body, args.checkpoint, client);
    if (args.config.changes)
      return spawn_changes_source(trigger, *args.config.changes, args.config.fire_body, args.checkpoint, client);
    return spawn_alarm_source(trigger, *args.config.alarm, args.anchor, args.last_occurrence, now);
  };
}

} // namespace feedrouter
