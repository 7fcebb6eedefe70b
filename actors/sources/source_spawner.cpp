#include "actors/sources/alarm.hpp"
#include "actors/trigger_env.hpp"

#include <caf/actor.hpp>

namespace feedrouter {

source_spawner default_source_spawner(std::function<sys_ms()> now) {
  return [now = std::move(now)](caf::local_actor* trigger, const source_args& args) -> caf::actor {
    // Each feed kind this build serves has a branch here; make_feed_config rejects the others before any spawn.
    return spawn_alarm_source(trigger, *args.config.alarm, args.anchor, args.last_occurrence, now);
  };
}

} // namespace feedrouter
