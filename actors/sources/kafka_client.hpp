#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/egress_policy.hpp"
#include "core/kafka_checkpoint.hpp"
#include "core/kafka_payload.hpp"
#include "core/kafka_spec.hpp"

namespace feedrouter {

// The Kafka client as the kafka source and its preparer see it: a consumer per registration that never blocks its
// caller, and requests whose answers come back through a callback on another thread. The implementation on
// librdkafka is in kafka_client.cpp (docs/kafka-feed.md, "Threads and memory"); tests script their own.

/// The offset that means "the first message the partition holds", for a partition without a position yet.
inline constexpr std::int64_t kafka_start_of_partition = -2;

/// Something that went wrong while reading, as the source acts on it.
struct kafka_fault {
  enum class kind {
    transient,   ///< the brokers cannot be reached or a request failed: the client retries by itself
    offset_lost, ///< a partition no longer holds the position to read from: the topic's retention deleted it
    refused,     ///< credentials, authorization, the egress policy or a topic that is gone: retrying cannot help
  };
  kind what = kind::transient;
  std::int32_t partition = -1; ///< offset_lost: the partition
  std::int64_t offset = -1;    ///< offset_lost: the position it no longer holds
  std::string text;            ///< what the registration's owner is shown: the provider's words, never a broker's
};

/// What waited for the source: messages, in order within each partition, and the faults met since the last take.
struct kafka_take {
  std::vector<kafka_record> records;
  std::vector<kafka_fault> faults;
};

/// A partition of the topic and the offsets it holds: [low, high) (high is the offset the next message gets).
struct kafka_partition {
  std::int32_t id = 0;
  std::int64_t low = -1;  ///< negative when not known
  std::int64_t high = -1; ///< negative when not known
};

/// What one bounded request for the topic's partitions found.
struct kafka_topic_state {
  enum class kind {
    ok,          ///< `partitions` holds every partition of the topic
    unreachable, ///< no broker answered in time: possibly temporary
    refused,     ///< the parameter `field` is wrong: the topic does not exist, the credentials or the egress policy
  };
  kind what = kind::ok;
  std::vector<kafka_partition> partitions;
  std::string field; ///< unreachable, refused: the parameter to fix (brokers, topic, user)
  std::string error; ///< unreachable, refused: what the tenant is shown
  std::string detail; ///< the client's own words, for the operator's debug log

  bool ok() const noexcept {
    return what == kind::ok;
  }
};

/// One registration's consumer: reads the partitions it is told to from the offsets it is given, holds what it
/// fetched within its bounds (kafka_fetch_bounds) and hands it over on take(). Used from one actor at a time; its
/// `wake` and `done` callbacks run on the client's own threads.
class kafka_consumer {
public:
  virtual ~kafka_consumer() = default;

  /// Reads `partition` from `offset` (the next message to read, or kafka_start_of_partition) on.
  virtual void read(std::int32_t partition, std::int64_t offset) = 0;

  /// Returns at most `max` messages waiting now, and the faults met since the last take; never blocks. Once a take
  /// found nothing, `wake` is called when something arrives.
  virtual kafka_take take(std::size_t max) = 0;

  /// Stops fetching: the source has no credit. Messages fetched but not taken are dropped and fetched again.
  virtual void pause() = 0;

  /// Fetches again after pause(), from the message after the last one taken of each partition.
  virtual void resume() = 0;

  /// Returns whether nothing waits to be taken although a partition holds messages after the last one taken, as the
  /// brokers' last answer said. librdkafka 2.0 stops fetching while its queue is full and looks at it again only a
  /// second later: a source that emptied the queue and finds this true a little later calls nudge().
  virtual bool lagging() = 0;

  /// Has the lagging partitions fetched at once, from the message after the last one taken.
  virtual void nudge() = 0;

  /// Reads `partition` again from the first message it holds, after an offset_lost fault.
  virtual void restart_at_start(std::int32_t partition) = 0;

  /// Asks the brokers, within the client's request time-out, for the topic's partitions (without their offsets);
  /// `done` is called once, on another thread.
  virtual void describe(std::function<void(kafka_topic_state)> done) = 0;
};

using kafka_consumer_ptr = std::unique_ptr<kafka_consumer>;

/// What every consumer of an instance shares.
struct kafka_connector_options {
  /// The brokers a tenant names, and those they advertise, are checked on every address connected to.
  std::shared_ptr<const egress_policy> egress = std::make_shared<const egress_policy>();
  kafka_tls_options tls;
  /// Consumers open at once at most (--max-kafka-feeds): each runs librdkafka threads of its own.
  std::size_t max_consumers = 200;
  /// How long a request for a topic's partitions and offsets may take.
  std::chrono::milliseconds request_timeout{10'000};
};

/// A consumer, or why none was opened.
struct kafka_opened {
  kafka_consumer_ptr consumer;
  std::string error; ///< set when `consumer` is null: the instance runs its bound of consumers, or the client failed
};

/// Opens consumers and asks brokers about topics, within the instance's bound of consumers.
class kafka_connector {
public:
  virtual ~kafka_connector() = default;

  /// Returns a consumer for `spec`'s brokers and topic that reads nothing yet, or why there is none: the instance
  /// already runs its bound of consumers. `wake` is called from the client's threads (it must only send a message).
  virtual kafka_opened open(const kafka_spec& spec, std::function<void()> wake) = 0;

  /// Returns whether another consumer may be opened now.
  virtual bool has_room() const = 0;

  /// Returns the bound of consumers.
  virtual std::size_t max_consumers() const = 0;

  /// Asks `spec`'s brokers, within `timeout`, for the topic's partitions and where each ends (`since: now`: `high`) or
  /// starts (`since: earliest`: `low`), with a client of its own that is gone afterwards; `done` is called once, on
  /// another thread.
  virtual void probe(const kafka_spec& spec, std::chrono::milliseconds timeout,
                     std::function<void(kafka_topic_state)> done) = 0;
};

using kafka_connector_ptr = std::shared_ptr<kafka_connector>;

/// Returns the connector on librdkafka.
kafka_connector_ptr make_kafka_connector(kafka_connector_options options);

} // namespace feedrouter
