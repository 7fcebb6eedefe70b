#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "scripted_http_client.hpp"
#include "scripted_kafka.hpp"
#include "scripted_mqtt.hpp"
#include "scripted_redis.hpp"

namespace feedrouter::test {

/// What the stand-in parent of a source received, and how it answers.
struct parent_log {
  // -- what arrived ---------------------------------------------------------------------

  std::vector<std::vector<std::string>> committed; ///< bodies of each items request it answered with commit
  std::vector<std::string> checkpoints;            ///< the checkpoint of each committed request
  std::size_t refused = 0;                         ///< items requests answered with an error
  std::vector<std::string> statuses;               ///< errors of (source_status_atom, error); "" for recovery
  std::vector<std::pair<int, std::string>> disables;
  /// (body, checkpoint) of each (event_atom, body, checkpoint), in the order they came.
  std::vector<std::pair<std::string, std::string>> events;
  std::size_t held = 0; ///< items requests waiting for release_items() while hold_items is set

  // -- how it answers ----------------------------------------------------------------

  bool refuse_items = false; ///< answer items requests with an error, as a busy or paused trigger does
  /// Refuse items requests with more bodies than this, as a trigger does whose buffer bound they would exceed.
  std::size_t max_bodies = std::numeric_limits<std::size_t>::max();
  /// Leave items requests unanswered until source_fixture::release_items(), as a trigger whose store is slow does.
  bool hold_items = false;

  /// Returns every committed body, in order.
  std::vector<std::string> bodies() const;

  /// Returns the body of every event, in order.
  std::vector<std::string> event_bodies() const;

  /// Returns the checkpoint of every event, in order.
  std::vector<std::string> event_checkpoints() const;

  /// Returns the newest committed checkpoint, or "" when none.
  std::string checkpoint() const {
    return checkpoints.empty() ? std::string{} : checkpoints.back();
  }
};

using parent_log_ptr = std::shared_ptr<parent_log>;

/// A config that runs actors on CAF's testing scheduler, with simulated time.
struct testing_config : caf::actor_system_config {
  testing_config();
};

/// An actor system on the testing scheduler, a scripted HTTP client, and a stand-in parent for sources.
class source_fixture {
public:
  source_fixture();
  ~source_fixture();

  /// Spawns a stand-in trigger that starts a poll source with `params_json` (validated by parse_poll_spec), starting
  /// from `checkpoint`, and runs until the source waits for something. Its log is `log`.
  caf::actor spawn_poll(std::string_view params_json, std::string checkpoint = {}, std::string fire_body = "{}");

  /// Spawns a poll source as spawn_poll() does, but without an HTTP client.
  caf::actor spawn_poll_without_client(std::string_view params_json);

  /// Spawns a stand-in trigger that starts a changes source with `params_json` (validated by parse_changes_spec),
  /// starting from `checkpoint`, and runs until the source waits for something. The parent grants no credit of its
  /// own: call grant().
  caf::actor spawn_changes(std::string_view params_json, std::string checkpoint = {}, std::string fire_body = "{}");

  /// Spawns a changes source as spawn_changes() does, but without an HTTP client.
  caf::actor spawn_changes_without_client(std::string_view params_json);

  /// Spawns a stand-in trigger that starts a kafka source with `params_json` (validated by parse_kafka_spec with
  /// 127.0.0.1 allowed), starting from `checkpoint`, with `kafka` as its connector, and runs until the source waits for
  /// something. The parent grants no credit of its own: call grant().
  caf::actor spawn_kafka(std::string_view params_json, std::string checkpoint = {});

  /// Spawns a stand-in trigger that starts a redis-stream source with `params_json` (validated by
  /// parse_redis_stream_spec with 127.0.0.1 allowed), starting from `checkpoint`, with `redis` as its connector, and
  /// runs until the source waits for something. The parent grants no credit of its own: call grant().
  caf::actor spawn_redis_stream(std::string_view params_json, std::string checkpoint = {},
                                std::string fire_body = "{}");

  /// Has the newest kafka consumer wake its source, as librdkafka's threads do when messages arrive, then runs what
  /// follows.
  void wake_kafka();

  /// Spawns a stand-in trigger that starts an mqtt source with `params_json` (validated by parse_mqtt_spec for trigger
  /// "guest/t"), starting from `checkpoint`, with `mqtt` as its connector, and runs until the source waits.
  caf::actor spawn_mqtt(std::string_view params_json, std::string checkpoint = {});

  /// Hands `update` to the newest MQTT connection's owner, then runs what follows.
  void mqtt_deliver(mqtt_update update);

  /// Has the newest parent grant its source `n` more events, then runs what follows.
  void grant(std::int64_t n);

  /// Has the newest parent answer the items requests it holds (see parent_log::hold_items) with commit.
  void release_items();

  /// Returns the newest stream; requires one.
  scripted_stream& stream() const;

  /// Sends the newest stream's response head, then runs what follows.
  void stream_head(int status, std::string body = {});

  /// Answers the newest stream's pending read with `lines` (and the end when `ended`), then runs what follows.
  void stream_lines(std::vector<std::string> lines, bool ended = false);

  /// Fails the newest stream with the transport error `error` of kind `kind`, then runs what follows.
  void stream_fail(std::string error, transport_failure kind = transport_failure::no_response);

  /// Stops `parent` and with it its source, as a registration being paused or the service stopping does.
  void stop(const caf::actor& parent);

  /// Runs every message that is due.
  void run();

  /// Moves simulated time forward by `d`, then runs what became due.
  void advance(caf::timespan d);

  /// Answers the oldest request with `status`, `body` and `fields`, then runs what follows.
  void respond(int status, std::string body = {}, http_fields fields = {});

  testing_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<scripted_http_client> client;
  std::shared_ptr<scripted_kafka_connector> kafka;
  std::shared_ptr<scripted_mqtt_connector> mqtt;
  std::shared_ptr<scripted_redis_connector> redis;
  parent_log_ptr log;

private:
  caf::actor spawn_parent(std::string_view params_json, std::string checkpoint, std::string fire_body,
                          http_client_ptr with);

  caf::actor spawn_changes_parent(std::string_view params_json, std::string checkpoint, std::string fire_body,
                                  http_client_ptr with);

  /// Spawns a stand-in parent that starts its source with `start`.
  caf::actor spawn_stand_in(std::function<caf::actor(caf::local_actor*)> start);

  caf::actor newest_parent() const;

  std::vector<caf::actor> parents_;
};

} // namespace feedrouter::test
