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

kafka_spec orders_spec() {
  auto members = parse_json_object(orders, "params");
  auto spec = parse_kafka_spec(*members, egress_policy{{*parse_egress_rule("127.0.0.1", "rule")}, {}});
  return *spec;
}

std::string orders_at(const kafka_offsets& offsets) {
  return to_kafka_checkpoint(orders_spec(), offsets);
}

kafka_record record(std::int32_t partition, std::int64_t offset) {
  return kafka_record{partition, offset, std::nullopt, "v" + std::to_string(partition) + "-" + std::to_string(offset)};
}

using partition_reads = std::vector<std::pair<std::int32_t, std::int64_t>>;

partition_reads reads(std::initializer_list<std::pair<std::int32_t, std::int64_t>> x) {
  return x;
}

} // namespace

TEST_CASE_METHOD(source_fixture, "with a position from its brokers and topic the source reads each partition from it",
                 "[kafka_source]") {
  spawn_kafka(orders, orders_at({{0, 5}, {1, 7}}));
  REQUIRE(kafka->opened() == 1);
  CHECK(kafka->consumer().reads == reads({{0, 5}, {1, 7}}));
  CHECK(kafka->probes() == 0);
  CHECK(log->committed.empty());
  // The topic's partitions are asked for, to read partitions added since.
  CHECK(kafka->consumer().describes.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "without a position the source has where each partition ends stored before it reads",
                 "[kafka_source]") {
  log->hold_items = true;
  SECTION("a position of no checkpoint") {
    spawn_kafka(orders);
  }
  SECTION("a position of another topic") {
    spawn_kafka(orders, R"({"source":"127.0.0.1:9092/invoices","offsets":{"0":4}})");
  }
  REQUIRE(kafka->probes() == 1);
  CHECK(kafka->consumer().reads.empty());
  kafka->answer_probe(topic_with(2, 3, 10));
  run();
  CHECK(log->held == 1);
  CHECK(kafka->consumer().reads.empty());
  release_items();
  REQUIRE(log->committed.size() == 1);
  CHECK(log->committed[0].empty());
  CHECK(log->checkpoints == std::vector<std::string>{orders_at({{0, 10}, {1, 10}})});
  CHECK(kafka->consumer().reads == reads({{0, 10}, {1, 10}}));
  CHECK(log->statuses.empty());
}

TEST_CASE_METHOD(source_fixture, "since earliest stores where each partition starts", "[kafka_source]") {
  spawn_kafka(R"({"brokers": "127.0.0.1:9092", "topic": "orders", "since": "earliest"})");
  kafka->answer_probe(topic_with(1, 3, 10));
  run();
  REQUIRE(log->checkpoints.size() == 1);
  CHECK(kafka->consumer().reads == reads({{0, 3}}));
}

TEST_CASE_METHOD(source_fixture,
                 "a kafka baseline the parent refuses is read and offered again a second later, without an error",
                 "[kafka_source]") {
  log->refuse_items = true;
  spawn_kafka(orders);
  kafka->answer_probe(topic_with(1, 0, 4));
  run();
  CHECK(log->refused == 1);
  log->refuse_items = false;
  advance(999ms);
  CHECK(kafka->probes() == 1);
  advance(1ms);
  REQUIRE(kafka->probes() == 2);
  kafka->answer_probe(topic_with(1, 0, 6));
  run();
  CHECK(log->checkpoints == std::vector<std::string>{orders_at({{0, 6}})});
  CHECK(kafka->consumer().reads == reads({{0, 6}}));
  CHECK(log->statuses.empty());
}

TEST_CASE_METHOD(source_fixture, "messages go to the parent only on credit and in order, the last of each hand-over "
                                 "carries the position of every partition",
                 "[kafka_source]") {
  spawn_kafka(orders, orders_at({{0, 5}, {1, 7}}));
  auto& consumer = kafka->consumer();
  consumer.records = {record(0, 5), record(1, 7), record(0, 6), record(1, 8)};
  wake_kafka();
  CHECK(log->events.empty());
  CHECK(consumer.takes.back() == 0);
  grant(3);
  REQUIRE(log->events.size() == 3);
  CHECK(log->event_bodies()[0]
        == R"({"topic":"orders","partition":0,"offset":5,"key":null,"value":"v0-5"})");
  CHECK(log->event_checkpoints() == std::vector<std::string>{"", "", orders_at({{0, 7}, {1, 8}})});
  grant(10);
  REQUIRE(log->events.size() == 4);
  CHECK(log->events[3].second == orders_at({{0, 7}, {1, 9}}));
}

TEST_CASE_METHOD(source_fixture, "without credit for 100 ms the partitions are paused, and credit resumes them",
                 "[kafka_source]") {
  spawn_kafka(orders, orders_at({{0, 0}}));
  auto& consumer = kafka->consumer();
  consumer.records = {record(0, 0), record(0, 1), record(0, 2)};
  grant(2);
  CHECK(log->events.size() == 2);
  advance(99ms);
  CHECK(consumer.pauses == 0);
  advance(1ms);
  CHECK(consumer.pauses == 1);
  CHECK(consumer.paused);
  grant(5);
  CHECK(consumer.resumes == 1);
  CHECK_FALSE(consumer.paused);
  CHECK(log->events.size() == 3);
}

TEST_CASE_METHOD(source_fixture, "credit that comes back within the grace keeps the partitions reading",
                 "[kafka_source]") {
  spawn_kafka(orders, orders_at({{0, 0}}));
  auto& consumer = kafka->consumer();
  consumer.records = {record(0, 0), record(0, 1)};
  grant(1);
  advance(50ms);
  grant(1);
  advance(60ms);
  CHECK(consumer.pauses == 0);
  CHECK(log->events.size() == 2);
  advance(40ms);
  CHECK(consumer.pauses == 1);
}

TEST_CASE_METHOD(source_fixture, "partitions the position does not hold are read from their start and enter it with "
                                 "their first message",
                 "[kafka_source]") {
  spawn_kafka(orders, orders_at({{0, 4}}));
  auto& consumer = kafka->consumer();
  kafka->answer_describe(topic_with(3));
  run();
  CHECK(consumer.reads == reads({{0, 4}, {1, kafka_start_of_partition}, {2, kafka_start_of_partition}}));
  consumer.records = {record(2, 0)};
  grant(10);
  REQUIRE(log->events.size() == 1);
  CHECK(log->events[0].second == orders_at({{0, 4}, {2, 1}}));
}

TEST_CASE_METHOD(source_fixture, "the topic's partitions are asked for again every five minutes", "[kafka_source]") {
  spawn_kafka(orders, orders_at({{0, 4}}));
  auto& consumer = kafka->consumer();
  kafka->answer_describe(topic_with(1));
  run();
  advance(299s);
  CHECK(consumer.describes.empty());
  advance(1s);
  REQUIRE(consumer.describes.size() == 1);
  kafka->answer_describe(topic_with(2));
  run();
  CHECK(consumer.reads == reads({{0, 4}, {1, kafka_start_of_partition}}));
  CHECK(log->statuses.empty());
}

TEST_CASE_METHOD(source_fixture, "an empty queue while a partition holds more has it fetched after 20 ms, unless a "
                                 "message comes first",
                 "[kafka_source]") {
  spawn_kafka(orders, orders_at({{0, 0}}));
  auto& consumer = kafka->consumer();
  consumer.records = {record(0, 0)};
  consumer.lagging = true;
  grant(10);
  CHECK(log->events.size() == 1);
  advance(19ms);
  CHECK(consumer.nudges == 0);
  advance(1ms);
  CHECK(consumer.nudges == 1);
  // A queue that fills again in time needs no nudge.
  consumer.records = {record(0, 1)};
  consumer.lagging = false;
  wake_kafka();
  advance(50ms);
  CHECK(consumer.nudges == 1);
  CHECK(log->events.size() == 2);
}
