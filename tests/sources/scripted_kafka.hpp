#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "actors/sources/kafka_client.hpp"

namespace feedrouter::test {

/// What a scripted consumer was asked to do, and what it hands over: tests push records and faults, then wake its
/// source as librdkafka's threads would.
struct scripted_consumer_log {
  std::vector<std::pair<std::int32_t, std::int64_t>> reads; ///< read(partition, offset), in order
  std::vector<std::int32_t> restarts;                       ///< restart_at_start(partition), in order
  std::size_t pauses = 0;
  std::size_t nudges = 0;
  bool lagging = false; ///< what lagging() answers
  std::size_t resumes = 0;
  bool paused = false;
  std::vector<std::size_t> takes; ///< the max of every take()
  std::deque<kafka_record> records;
  std::vector<kafka_fault> faults;
  /// describe() requests not answered yet; answer_describe() answers the oldest.
  std::deque<std::function<void(kafka_topic_state)>> describes;
  std::function<void()> wake;
  bool destroyed = false;
};

using scripted_consumer_log_ptr = std::shared_ptr<scripted_consumer_log>;

/// A kafka_connector whose consumers and probes the test scripts.
class scripted_kafka_connector : public kafka_connector {
public:
  // -- kafka_connector ---------------------------------------------------------

  kafka_opened open(const kafka_spec& spec, std::function<void()> wake) override;
  bool has_room() const override;
  std::size_t max_consumers() const override;
  void probe(const kafka_spec& spec, std::chrono::milliseconds timeout,
             std::function<void(kafka_topic_state)> done) override;

  // -- scripting ---------------------------------------------------------------

  /// Refuse open() with this error while it is not empty, as an instance at its bound does.
  std::string refuse_open;

  /// Returns the log of the newest consumer; requires one.
  scripted_consumer_log& consumer() const;

  /// Returns how many consumers were opened.
  std::size_t opened() const {
    return consumers_.size();
  }

  /// Returns how many probes were asked for, answered or not.
  std::size_t probes() const {
    return probes_asked_;
  }

  /// Answers the oldest unanswered probe with `state`; requires one.
  void answer_probe(kafka_topic_state state);

  /// Answers the newest consumer's oldest unanswered describe() with `state`; requires one.
  void answer_describe(kafka_topic_state state);

private:
  std::vector<scripted_consumer_log_ptr> consumers_;
  std::deque<std::function<void(kafka_topic_state)>> probes_;
  std::size_t probes_asked_ = 0;
};

/// Returns a successful answer with partitions 0..n-1, each holding [low, high).
kafka_topic_state topic_with(int partitions, std::int64_t low = 0, std::int64_t high = 0);

} // namespace feedrouter::test
