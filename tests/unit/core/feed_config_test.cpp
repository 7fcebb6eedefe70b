#include "core/feed_config.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "core/json.hpp"
#include "feed_int_params.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::documented_int_params;
using feedrouter::test::params;
using feedrouter::test::with_value;

namespace {

const sys_ms now = parse_iso8601("2026-01-15T10:00:00Z").value();

outcome<feed_config> make(std::string_view feed, const std::string& json) {
  return make_feed_config(feed, params(json), now, validation_time::request, "guest/numbers", egress_policy{});
}

/// Returns whether `table` holds a parameter called `name` with exactly the range [min, max].
template <class Table>
bool has_range(const Table& table, std::string_view name, std::int64_t min, std::int64_t max) {
  for (const auto& param : table)
    if (param.name == name)
      return param.min == min && param.max == max;
  return false;
}

} // namespace

TEST_CASE("every integer parameter is accepted at both ends and inside its documented range", "[feed_config]") {
  for (const auto& param : documented_int_params()) {
    for (auto value : {param.min, param.min + (param.max - param.min) / 2, param.max}) {
      auto json = with_value(param, std::to_string(value));
      INFO(param.feed << ": " << json);
      auto cfg = make(param.feed, json);
      INFO((cfg ? std::string{} : cfg.error().field + ": " + cfg.error().message));
      CHECK(cfg);
    }
  }
}

TEST_CASE("every integer parameter given as a string or an integral float is stored as a plain integer",
          "[feed_config]") {
  for (const auto& param : documented_int_params()) {
    const auto plain = std::to_string(param.max);
    for (auto value : {"\"" + plain + "\"", plain + ".0", plain}) {
      auto json = with_value(param, value);
      INFO(param.feed << ": " << json);
      auto cfg = make(param.feed, json);
      REQUIRE(cfg);
      const auto* stored = find_member(cfg->params, param.name);
      REQUIRE(stored != nullptr);
      CHECK(*stored == plain);
    }
  }
}

TEST_CASE("the documented ranges are the ranges the feed specs enforce", "[feed_config]") {
  for (const auto& param : documented_int_params()) {
    INFO(param.feed << " " << param.name);
    CHECK((has_range(alarm_int_params, param.name, param.min, param.max)
           || has_range(delivery_int_params, param.name, param.min, param.max)
           || has_range(poll_int_params, param.name, param.min, param.max)
           || has_range(changes_int_params, param.name, param.min, param.max)
           || has_range(kafka_int_params, param.name, param.min, param.max)
           || has_range(mqtt_int_params, param.name, param.min, param.max)));
  }
  const auto in_tables = alarm_int_params.size() + delivery_int_params.size() + poll_int_params.size()
              + changes_int_params.size() + kafka_int_params.size() + mqtt_int_params.size();
  // A parameter added to a spec without its documented range here would go untested.
  CHECK(in_tables == documented_int_params().size());
}

TEST_CASE("normalizing leaves parameters that are not integers as given", "[feed_config]") {
  auto webhook = make("webhook", R"({"hookId": "7", "secret": "12345678901234567890", "batchSize": "2", "note": "5"})");
  REQUIRE(webhook);
  CHECK(webhook->params
        == params(R"({"hookId": "7", "secret": "12345678901234567890", "batchSize": 2, "note": "5"})"));
  auto changes = make("changes", R"({"url": "https://couch.example.com", "dbname": "orders", "since": "5"})");
  REQUIRE(changes);
  CHECK(*find_member(changes->params, "since") == R"("5")");
  auto alarm = make("alarm", R"({"date": "2026-06-01T12:00:00Z", "trigger_payload": {"minutes": "5"}})");
  REQUIRE(alarm);
  CHECK(alarm->params == params(R"({"date": "2026-06-01T12:00:00Z", "trigger_payload": {"minutes": "5"}})"));
}

TEST_CASE("a kafka registration fires {\"messages\": [...]} with trigger_payload beside it, batched as OpenWhisk does",
          "[feed_config]") {
  auto kafka = make("kafka", R"({"brokers": "kafka.example.com:9092", "topic": "orders", "isJSONData": "TRUE",
                                 "batchBytes": "65536", "trigger_payload": {"team": "a"}})");
  REQUIRE(kafka);
  REQUIRE(kafka->kafka);
  CHECK(kafka->kafka->topic == "orders");
  CHECK(kafka->delivery.batch_size == 1000);
  CHECK(kafka->delivery.batch_window == std::chrono::milliseconds{0});
  CHECK(kafka->delivery.envelope.key == "messages");
  CHECK(kafka->delivery.envelope.wrap_single);
  CHECK(kafka->delivery.envelope.max_bytes == 65'536);
  CHECK(kafka->delivery.envelope.members == params(R"({"team": "a"})"));
  CHECK(*find_member(kafka->params, "isJSONData") == "true");
  CHECK(*find_member(kafka->params, "batchBytes") == "65536");
  auto own = make("kafka", R"({"brokers": "kafka.example.com:9092", "topic": "orders", "batchSize": 10})");
  REQUIRE(own);
  CHECK(own->delivery.batch_size == 10);
  CHECK(own->delivery.batch_window == std::chrono::milliseconds{0});
  CHECK(own->delivery.envelope.wrap_single);
  // Other kinds keep {"events": [...]} for batches only.
  auto changes = make("changes", R"({"url": "https://couch.example.com", "dbname": "orders", "batchSize": 2})");
  REQUIRE(changes);
  CHECK(changes->delivery.envelope.key == "events");
  CHECK_FALSE(changes->delivery.envelope.wrap_single);
  CHECK(changes->delivery.envelope.max_bytes == 0);
}

TEST_CASE("a redis-stream batch goes without a window, as kafka's does, unless batchWindowMs is given",
          "[feed_config]") {
  auto redis = make("redis-stream", R"({"url": "redis://redis.example.com", "stream": "jobs", "batchSize": 100})");
  REQUIRE(redis);
  CHECK(redis->delivery.batch_size == 100);
  CHECK(redis->delivery.batch_window == std::chrono::milliseconds{0});
  CHECK(redis->delivery.envelope.key == "events");
  auto own = make("redis-stream", R"({"url": "redis://redis.example.com", "stream": "jobs", "batchSize": 100,
                                      "batchWindowMs": 250})");
  REQUIRE(own);
  CHECK(own->delivery.batch_window == std::chrono::milliseconds{250});
  // The other kinds keep the delivery default: a partial batch waits 1 s for more events.
  auto changes = make("changes", R"({"url": "https://couch.example.com", "dbname": "orders", "batchSize": 2})");
  REQUIRE(changes);
  CHECK(changes->delivery.batch_window == std::chrono::milliseconds{1000});
}
