#include "actors/trigger_env.hpp"

#include <caf/actor.hpp>

#include "actors/sources/changes.hpp"
#include "actors/sources/changes_position.hpp"
#include "actors/sources/kafka.hpp"
#include "actors/sources/kafka_position.hpp"
#include "actors/sources/mqtt.hpp"
#include "actors/sources/mqtt_session.hpp"
#include "actors/sources/poll.hpp"
#include "actors/sources/redis_stream.hpp"

namespace feedrouter {

source_spawner default_source_spawner(http_client_ptr client, kafka_connector_ptr kafka, mqtt_connector_ptr mqtt,
                                      redis_connector_ptr redis) {
  return [client = std::move(client), kafka = std::move(kafka), mqtt = std::move(mqtt), redis = std::move(redis)](
           caf::local_actor* trigger, const source_args& args) -> source_actor {
    // Only the kinds that own a connection have a source actor; make_feed_config rejects unknown kinds before any
    // spawn. An alarm's schedule runs in its trigger, and webhook events arrive through the registry.
    if (args.config.poll)
      return spawn_poll_source(trigger, *args.config.poll, args.config.fire_body, args.checkpoint, client);
    if (args.config.changes)
      return spawn_changes_source(trigger, *args.config.changes, args.config.fire_body, args.checkpoint, client);
    if (args.config.kafka)
      return spawn_kafka_source(trigger, *args.config.kafka, args.checkpoint, kafka);
    if (args.config.mqtt)
      return spawn_mqtt_source(trigger, *args.config.mqtt, args.config.fire_body, args.checkpoint, mqtt);
    if (args.config.redis_stream)
      return spawn_redis_stream_source(trigger, *args.config.redis_stream, args.config.fire_body, args.checkpoint,
                                       redis);
    return source_actor{};
  };
}

source_preparer default_source_preparer(http_client_ptr client, kafka_connector_ptr kafka, mqtt_connector_ptr mqtt,
                                        redis_connector_ptr redis) {
  return [client = std::move(client), kafka = std::move(kafka), mqtt = std::move(mqtt), redis = std::move(redis)](
           caf::actor_system& sys, const feed_config& config, const std::string& checkpoint,
           std::chrono::milliseconds timeout) -> std::optional<source_preparer_actor> {
    // A kafka feed reads where each partition ends (or starts) unless its position is from its brokers and topic;
    // that also checks the brokers and the topic before the registration is stored.
    if (config.kafka) {
      if (!kafka || restore_kafka_offsets(checkpoint, *config.kafka))
        return std::nullopt;
      return spawn_kafka_preparer(sys, kafka, *config.kafka, timeout);
    }
    // An mqtt feed checks the login and subscribes in its broker session unless its position says that the session
    // has its subscription: from then on the broker keeps what is published, even before the source connects.
    if (config.mqtt) {
      if (!mqtt || mqtt_session_is_current(checkpoint, *config.mqtt))
        return std::nullopt;
      return spawn_mqtt_preparer(sys, mqtt, *config.mqtt, checkpoint, timeout);
    }
    // A redis-stream feed reads its baseline unless its position is from its server and stream, checking the server,
    // the credentials and the key.
    if (config.redis_stream) {
      if (!redis || restore_redis_id(checkpoint, *config.redis_stream))
        return std::nullopt;
      return spawn_redis_stream_preparer(sys, redis, *config.redis_stream, timeout);
    }
    // Only `since: now` needs a position before the registration is stored, and only when the one it has (none for a
    // new registration) is not from its database: a change written right after the answer must fire even if the
    // provider stops before the feed has connected.
    if (!client || !config.changes || config.changes->since != "now")
      return std::nullopt;
    if (restore_changes_seq(checkpoint, *config.changes))
      return std::nullopt;
    return spawn_changes_preparer(sys, client, *config.changes, timeout);
  };
}

} // namespace feedrouter
