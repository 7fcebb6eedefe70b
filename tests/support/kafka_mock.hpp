#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace feedrouter::test {

/// A Kafka cluster for tests: librdkafka's mock cluster (rdkafka_mock.h) in this process, its brokers listening on
/// 127.0.0.1 and free ports, with a producer of its own. Each partition keeps at most 5 MiB (and 100 000 message
/// sets) of messages: older ones are deleted as retention would. What it cannot do is in docs/kafka-feed.md
/// ("Testing"): no SASL, no TLS, no offsets for times, no growing a topic, and it creates every unknown topic it is
/// asked about (a missing topic is an error set on it).
class kafka_mock {
public:
  /// Starts a cluster of `brokers` brokers.
  explicit kafka_mock(int brokers = 1);
  ~kafka_mock();

  kafka_mock(const kafka_mock&) = delete;
  kafka_mock& operator=(const kafka_mock&) = delete;

  /// Returns the bootstrap list "127.0.0.1:P1,127.0.0.1:P2".
  std::string bootstrap() const;

  /// Creates `topic` with `partitions` partitions.
  void create_topic(const std::string& topic, int partitions);

  /// Produces one message to `partition` of `topic` and waits until the cluster has it; returns its offset.
  std::int64_t produce(const std::string& topic, std::int32_t partition, std::optional<std::string> key,
                       std::optional<std::string> value);

  /// Produces `count` messages, message i to `partition_of(i)` with `value_of(i)` and the key "k<i>", as fast as the
  /// cluster takes them, and waits until it has them all.
  void produce_many(const std::string& topic, int count, const std::function<std::int32_t(int)>& partition_of,
                    const std::function<std::string(int)>& value_of);

  /// Returns the offsets `partition` holds: [low, high).
  std::pair<std::int64_t, std::int64_t> watermarks(const std::string& topic, std::int32_t partition);

  /// Makes broker `broker` (1 to the number of brokers) the leader of `partition`: the one a consumer reads it from.
  void set_leader(const std::string& topic, std::int32_t partition, int broker);

  /// Makes every broker refuse connections (and closes those open), or accept them again.
  void set_brokers_down();
  void set_brokers_up();

  /// Makes the cluster answer every request about `topic` with `error` (an rd_kafka_resp_err_t), such as
  /// RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART for a topic that does not exist; 0 clears it.
  void set_topic_error(const std::string& topic, int error);

private:
  int brokers_;
  rd_kafka_s* host_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  rd_kafka_s* producer_ = nullptr;
  std::string bootstrap_;
};

} // namespace feedrouter::test
