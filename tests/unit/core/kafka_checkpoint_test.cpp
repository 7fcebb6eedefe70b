#include "core/kafka_checkpoint.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;

namespace {

kafka_spec spec_of(std::string_view json) {
  auto spec = parse_kafka_spec(params(json), loopback_allowed());
  REQUIRE(spec);
  return *spec;
}

} // namespace

TEST_CASE("a checkpoint holds the source and the next offset of each partition, and restores them",
          "[kafka_checkpoint]") {
  auto spec = spec_of(R"({"brokers": "b2:9092,b1:9092", "topic": "orders"})");
  kafka_offsets offsets{{0, 335}, {1, 12}, {2, 0}};
  auto text = to_kafka_checkpoint(spec, offsets);
  CHECK(text == R"({"source":"b1:9092,b2:9092/orders","offsets":{"0":335,"1":12,"2":0}})");
  CHECK(restore_kafka_offsets(text, spec) == offsets);
  // An UPDATE of the flags keeps the position; the same brokers in another order too.
  auto flags = spec_of(R"({"brokers": "b1:9092,b2:9092", "topic": "orders", "isJSONData": true})");
  CHECK(restore_kafka_offsets(text, flags) == offsets);
}

TEST_CASE("a checkpoint of other brokers or another topic is not resumed from", "[kafka_checkpoint]") {
  auto spec = spec_of(R"({"brokers": "b1:9092", "topic": "orders"})");
  auto text = to_kafka_checkpoint(spec, {{0, 5}});
  CHECK_FALSE(restore_kafka_offsets(text, spec_of(R"({"brokers": "b1:9092", "topic": "invoices"})")));
  CHECK_FALSE(restore_kafka_offsets(text, spec_of(R"({"brokers": "b3:9092", "topic": "orders"})")));
  CHECK_FALSE(restore_kafka_offsets("", spec));
}

TEST_CASE("an unreadable checkpoint is not resumed from", "[kafka_checkpoint]") {
  auto spec = spec_of(R"({"brokers": "b1:9092", "topic": "orders"})");
  const std::string source = R"("source":"b1:9092/orders")";
  std::string too_many = "{" + source + R"(,"offsets":{)";
  for (std::size_t p = 0; p <= kafka_max_partitions; ++p)
    too_many += (p > 0 ? "," : "") + std::string{"\""} + std::to_string(p % 256) + std::to_string(p) + "\":1";
  too_many += "}}";
  for (const auto& text : {std::string{"not json"}, std::string{R"({"seq":"5"})"},
                           "{" + source + "}",
                           "{" + source + R"(,"offsets":[1]})",
                           "{" + source + R"(,"offsets":{"x":1}})",
                           "{" + source + R"(,"offsets":{"-1":1}})",
                           "{" + source + R"(,"offsets":{"256":1}})",
                           "{" + source + R"(,"offsets":{"0":-1}})",
                           "{" + source + R"(,"offsets":{"0":"1"}})",
                           "{" + source + R"(,"offsets":{"0":1.5}})",
                           too_many}) {
    INFO(text);
    CHECK_FALSE(restore_kafka_offsets(text, spec));
  }
}
