#include "tests/support/kafka_mock.hpp"

#include <algorithm>
#include <string>

#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>

using namespace feedrouter::test;

TEST_CASE("the mock cluster listens on 127.0.0.1 and numbers the messages of each partition from 0",
          "[kafka_mock]") {
  kafka_mock kafka{3};
  auto bootstrap = kafka.bootstrap();
  CHECK(bootstrap.rfind("127.0.0.1:", 0) == 0);
  CHECK(std::count(bootstrap.begin(), bootstrap.end(), ',') == 2);
  kafka.create_topic("orders", 2);
  CHECK(kafka.produce("orders", 1, std::string{"k"}, std::string{"v"}) == 0);
  CHECK(kafka.produce("orders", 1, std::nullopt, std::nullopt) == 1);
  CHECK(kafka.produce("orders", 0, std::nullopt, std::string{"v"}) == 0);
  kafka.produce_many("orders", 10, [](int i) { return i % 2; }, [](int i) { return std::to_string(i); });
  CHECK(kafka.watermarks("orders", 0) == std::pair<std::int64_t, std::int64_t>{0, 6});
  CHECK(kafka.watermarks("orders", 1) == std::pair<std::int64_t, std::int64_t>{0, 7});
}

TEST_CASE("a partition keeps 5 MiB: older messages are deleted as retention would", "[kafka_mock]") {
  kafka_mock kafka;
  kafka.create_topic("big", 1);
  const std::string value(100'000, 'x');
  kafka.produce_many("big", 80, [](int) { return 0; }, [&](int) { return value; });
  auto [low, high] = kafka.watermarks("big", 0);
  CHECK(high == 80);
  CHECK(low > 0);
}

TEST_CASE("a topic error makes the cluster answer that the topic does not exist", "[kafka_mock]") {
  kafka_mock kafka;
  kafka.set_topic_error("missing", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  CHECK_THROWS(kafka.watermarks("missing", 0));
}
