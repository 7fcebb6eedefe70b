#include "actors/sources/kafka.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "core/kafka_checkpoint.hpp"
#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr char orders[] = R"({"brokers": "127.0.0.1:9092", "topic": "orders"})";
constexpr char at_zero[] = R"({"source":"127.0.0.1:9092/orders","offsets":{"0":0}})";

kafka_fault transient() {
  return {kafka_fault::kind::transient, -1, -1, "cannot reach the brokers"};
}

kafka_topic_state unreachable() {
  kafka_topic_state state;
  state.what = kafka_topic_state::kind::unreachable;
  state.field = "brokers";
  state.error = "no broker answered within 10 s";
  return state;
}

kafka_topic_state refused(std::string field, std::string error) {
  kafka_topic_state state;
  state.what = kafka_topic_state::kind::refused;
  state.field = std::move(field);
  state.error = std::move(error);
  return state;
}

} // namespace

TEST_CASE_METHOD(source_fixture, "a failure is reported once, checked after a back-off, and ends with an answer",
                 "[kafka_source]") {
  spawn_kafka(orders, at_zero);
  kafka->answer_describe(topic_with(1));
  run();
  auto& consumer = kafka->consumer();
  consumer.faults = {transient(), transient()};
  wake_kafka();
  CHECK(log->statuses == std::vector<std::string>{"cannot reach the brokers"});
  consumer.faults = {transient()};
  wake_kafka();
  CHECK(log->statuses.size() == 1);
  // The first back-off is at most a second (full jitter).
  advance(1s);
  REQUIRE(consumer.describes.size() == 1);
  kafka->answer_describe(unreachable());
  run();
  CHECK(log->statuses.back() == "no broker answered within 10 s");
  advance(2s);
  REQUIRE(consumer.describes.size() == 1);
  kafka->answer_describe(topic_with(1));
  run();
  CHECK(log->statuses.back().empty());
  CHECK(log->disables.empty());
}

TEST_CASE_METHOD(source_fixture, "a message that arrives ends a failure", "[kafka_source]") {
  spawn_kafka(orders, at_zero);
  auto& consumer = kafka->consumer();
  kafka->answer_describe(topic_with(1));
  run();
  consumer.faults = {transient()};
  grant(10);
  consumer.records = {kafka_record{0, 0, std::nullopt, std::string{"v"}}};
  wake_kafka();
  CHECK(log->statuses == std::vector<std::string>{"cannot reach the brokers", ""});
  CHECK(log->events.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "a refusal disables the registration and lets the consumer go", "[kafka_source]") {
  spawn_kafka(orders, at_zero);
  auto& consumer = kafka->consumer();
  consumer.faults = {{kafka_fault::kind::refused, -1, -1, "these credentials may not read the topic"}};
  consumer.records = {kafka_record{0, 0, std::nullopt, std::string{"v"}}};
  grant(10);
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0] == std::pair<int, std::string>{0, "these credentials may not read the topic"});
  CHECK(log->events.empty());
  CHECK(consumer.destroyed);
  // Nothing more happens until the source is released.
  advance(600s);
  CHECK(kafka->opened() == 1);
}

TEST_CASE_METHOD(source_fixture, "a topic that is gone when its partitions are asked for disables the registration",
                 "[kafka_source]") {
  spawn_kafka(orders, at_zero);
  kafka->answer_describe(refused("topic", "the topic does not exist on these brokers"));
  run();
  REQUIRE(log->disables.size() == 1);
  CHECK(log->disables[0].second == "the topic does not exist on these brokers");
}

TEST_CASE_METHOD(source_fixture, "a lost position shows in the status and the partition is read again from its start",
                 "[kafka_source]") {
  spawn_kafka(orders, R"({"source":"127.0.0.1:9092/orders","offsets":{"0":5,"1":0}})");
  auto& consumer = kafka->consumer();
  consumer.faults = {{kafka_fault::kind::offset_lost, 0, 5, "partition 0 no longer holds offset 5"}};
  grant(10);
  CHECK(consumer.restarts == std::vector<std::int32_t>{0});
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0].find("partition 0: the messages from offset 5") == 0);
  CHECK(log->disables.empty());
  // The loss stays in the status: a message that arrives does not clear it.
  consumer.records = {kafka_record{0, 9, std::nullopt, std::string{"v"}}};
  wake_kafka();
  CHECK(log->statuses.size() == 1);
  CHECK(log->events.back().second == R"({"source":"127.0.0.1:9092/orders","offsets":{"0":10,"1":0}})");
}

TEST_CASE_METHOD(source_fixture, "without room among the instance's consumers the source says so and tries again",
                 "[kafka_source]") {
  kafka->refuse_open = "this provider runs 1 kafka feeds at most (--max-kafka-feeds); waiting for one to end";
  spawn_kafka(orders, at_zero);
  CHECK(kafka->opened() == 0);
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses[0].find("--max-kafka-feeds") != std::string::npos);
  kafka->refuse_open.clear();
  advance(1s);
  REQUIRE(kafka->opened() == 1);
  CHECK(kafka->consumer().reads.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "brokers that do not answer while the baseline is read are reported and asked again",
                 "[kafka_source]") {
  spawn_kafka(orders);
  kafka->answer_probe(unreachable());
  run();
  CHECK(log->statuses == std::vector<std::string>{"no broker answered within 10 s"});
  advance(1s);
  REQUIRE(kafka->probes() == 2);
  kafka->answer_probe(topic_with(1, 0, 3));
  run();
  CHECK(log->statuses.back().empty());
  CHECK(kafka->consumer().reads.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "a probe that finds the topic gone while starting disables the registration",
                 "[kafka_source]") {
  spawn_kafka(orders);
  kafka->answer_probe(refused("topic", "the topic does not exist on these brokers"));
  run();
  REQUIRE(log->disables.size() == 1);
  CHECK(log->committed.empty());
}
