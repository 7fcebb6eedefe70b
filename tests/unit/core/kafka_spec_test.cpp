#include "core/kafka_spec.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;

namespace {

kafka_spec parsed(std::string_view json) {
  auto spec = parse_kafka_spec(params(json), loopback_allowed());
  INFO(json << ": " << (spec ? std::string{} : spec.error().field + ": " + spec.error().message));
  REQUIRE(spec);
  return *spec;
}

std::vector<std::string> broker_texts(const kafka_spec& spec) {
  std::vector<std::string> texts;
  for (const auto& broker : spec.brokers)
    texts.push_back(broker.text());
  return texts;
}

/// Returns the value of `name` among `props`, or "" when it is not set.
std::string property(const std::vector<std::pair<std::string, std::string>>& props, std::string_view name) {
  for (const auto& [key, value] : props)
    if (key == name)
      return value;
  return {};
}

bool has_property(const std::vector<std::pair<std::string, std::string>>& props, std::string_view name) {
  return std::any_of(props.begin(), props.end(), [&](const auto& p) { return p.first == name; });
}

} // namespace

TEST_CASE("kafkaFeed parameters: brokers as an array, a topic, OpenWhisk's defaults", "[kafka_spec]") {
  auto spec = parsed(R"({"brokers": ["kafka-1.example.com:9093", "kafka-2.example.com"], "topic": "orders"})");
  CHECK(broker_texts(spec) == std::vector<std::string>{"kafka-1.example.com:9093", "kafka-2.example.com:9092"});
  CHECK(spec.brokers_field == "brokers");
  CHECK(spec.topic == "orders");
  CHECK_FALSE(spec.json_data);
  CHECK_FALSE(spec.binary_key);
  CHECK_FALSE(spec.binary_value);
  CHECK_FALSE(spec.uses_sasl());
  CHECK(spec.since == "now");
  CHECK(spec.batch_bytes == 900'000);
}

TEST_CASE("brokers as a comma-separated string (blanks trimmed), duplicates dropped, IPv6 in brackets",
          "[kafka_spec]") {
  auto spec = parsed(R"({"brokers": " 127.0.0.1:9092, [2606:4700::1]:9093 ,127.0.0.1:9092,[2606:4700::2]",
                         "topic": "t"})");
  CHECK(broker_texts(spec)
        == std::vector<std::string>{"127.0.0.1:9092", "[2606:4700::1]:9093", "[2606:4700::2]:9092"});
  CHECK(spec.brokers[1].host == "2606:4700::1");
}

TEST_CASE("messageHubFeed parameters: kafka_brokers_sasl, user and password mean SASL PLAIN over TLS",
          "[kafka_spec]") {
  auto spec = parsed(R"({"kafka_brokers_sasl": ["broker-0.eventstreams.example.com:9093"], "user": "token",
                         "password": "s3cret", "topic": "events"})");
  CHECK(spec.brokers_field == "kafka_brokers_sasl");
  CHECK(spec.uses_sasl());
  CHECK(spec.user == "token");
  CHECK(spec.password == "s3cret");
  CHECK(spec.sasl_mechanism == "PLAIN");
  auto scram = parsed(R"({"kafka_brokers_sasl": "b:9093", "user": "u", "password": "p", "topic": "t",
                          "saslMechanism": "SCRAM-SHA-512"})");
  CHECK(scram.sasl_mechanism == "SCRAM-SHA-512");
}

TEST_CASE("the flags are read as OpenWhisk reads them: booleans, and strings true or false in any case",
          "[kafka_spec]") {
  auto spec = parsed(R"({"brokers": "b:9092", "topic": "t", "isJSONData": " TRUE ", "isBinaryKey": true,
                         "isBinaryValue": "false"})");
  CHECK(spec.json_data);
  CHECK(spec.binary_key);
  CHECK_FALSE(spec.binary_value);
  auto binary = parsed(R"({"brokers": "b:9092", "topic": "t", "isJSONData": false, "isBinaryValue": "True"})");
  CHECK(binary.binary_value);
}

TEST_CASE("the flags are stored as JSON booleans, other parameters as given", "[kafka_spec]") {
  auto normalized = normalize_kafka_flags(params(R"({"isJSONData": " True", "isBinaryKey": "false",
                                                     "isBinaryValue": false, "topic": "true"})"));
  CHECK(normalized == params(R"({"isJSONData": true, "isBinaryKey": false, "isBinaryValue": false,
                                 "topic": "true"})"));
}

TEST_CASE("since earliest and batchBytes within their range", "[kafka_spec]") {
  auto spec = parsed(R"({"brokers": "b:9092", "topic": "a.b_c-D9", "since": "earliest", "batchBytes": "65536"})");
  CHECK(spec.since == "earliest");
  CHECK(spec.batch_bytes == 65'536);
  CHECK(spec.topic == "a.b_c-D9");
  CHECK(parsed(R"({"brokers": "b:9092", "topic": "t", "since": "now"})").since == "now");
}

TEST_CASE("a position's source is the sorted broker list and the topic", "[kafka_spec]") {
  auto spec = parsed(R"({"brokers": ["b2:9092", "b1:9092"], "topic": "orders"})");
  CHECK(kafka_source(spec) == "b1:9092,b2:9092/orders");
  // The same brokers in another order are the same cluster: the position stays.
  CHECK(kafka_source(parsed(R"({"brokers": "b1:9092,b2:9092", "topic": "orders"})")) == kafka_source(spec));
  CHECK(kafka_source(parsed(R"({"brokers": "b1:9092,b2:9092", "topic": "other"})")) != kafka_source(spec));
}

// -- the client's configuration -----------------------------------------------------------------

TEST_CASE("a kafkaFeed client is plaintext, commits nothing, reports lost offsets and bounds its buffers",
          "[kafka_spec]") {
  auto spec = parsed(R"({"brokers": ["b1:9092", "b2:9093"], "topic": "t"})");
  kafka_fetch_bounds bounds{512, 65'536, 1'048'576, 2'097'664, 100};
  auto props = kafka_client_properties(spec, {}, bounds);
  CHECK(property(props, "bootstrap.servers") == "b1:9092,b2:9093");
  CHECK(property(props, "security.protocol") == "plaintext");
  CHECK_FALSE(has_property(props, "sasl.username"));
  CHECK_FALSE(has_property(props, "ssl.ca.location"));
  CHECK(property(props, "enable.auto.commit") == "false");
  CHECK(property(props, "enable.auto.offset.store") == "false");
  CHECK(property(props, "auto.offset.reset") == "error");
  CHECK(property(props, "enable.partition.eof") == "false");
  CHECK(property(props, "queued.max.messages.kbytes") == "512");
  CHECK(property(props, "fetch.message.max.bytes") == "65536");
  CHECK(property(props, "fetch.max.bytes") == "1048576");
  CHECK(property(props, "receive.message.max.bytes") == "2097664");
  CHECK(property(props, "fetch.wait.max.ms") == "100");
  CHECK(property(props, "isolation.level") == "read_uncommitted");
}

// The mock cluster of the tests has neither SASL nor TLS: these paths are checked on the configuration only.
TEST_CASE("a messageHubFeed client uses SASL over TLS and verifies certificates with the provider's CA options",
          "[kafka_spec]") {
  auto spec = parsed(R"({"kafka_brokers_sasl": "b:9093", "user": "token", "password": "s3cret", "topic": "t",
                         "saslMechanism": "SCRAM-SHA-256"})");
  SECTION("the system's CA store, host names checked") {
    auto props = kafka_client_properties(spec, {}, {});
    CHECK(property(props, "security.protocol") == "sasl_ssl");
    CHECK(property(props, "sasl.mechanisms") == "SCRAM-SHA-256");
    CHECK(property(props, "sasl.username") == "token");
    CHECK(property(props, "sasl.password") == "s3cret");
    CHECK_FALSE(has_property(props, "ssl.ca.location"));
    CHECK(property(props, "enable.ssl.certificate.verification") == "true");
    CHECK(property(props, "ssl.endpoint.identification.algorithm") == "https");
  }
  SECTION("--ca-file") {
    auto props = kafka_client_properties(spec, {"/etc/feedrouter/ca.pem", false}, {});
    CHECK(property(props, "ssl.ca.location") == "/etc/feedrouter/ca.pem");
    CHECK(property(props, "enable.ssl.certificate.verification") == "true");
  }
  SECTION("--insecure-skip-verify") {
    auto props = kafka_client_properties(spec, {"", true}, {});
    CHECK(property(props, "enable.ssl.certificate.verification") == "false");
    CHECK(property(props, "ssl.endpoint.identification.algorithm") == "none");
  }
}

TEST_CASE("the host of a broker as librdkafka names it", "[kafka_spec]") {
  CHECK(kafka_broker_host("kafka-1.example.com:9092") == "kafka-1.example.com");
  CHECK(kafka_broker_host("[::1]:9092") == "::1");
  CHECK(kafka_broker_host("127.0.0.1:9092/bootstrap") == "127.0.0.1");
  CHECK(kafka_broker_host("kafka-1.example.com:9092/1") == "kafka-1.example.com");
  CHECK(kafka_broker_host("sasl_ssl://broker.example.com:9093/0") == "broker.example.com");
  CHECK(kafka_broker_host("[::1]:9092/2") == "::1");
  CHECK(kafka_broker_host("ssl://[2001:db8::1]:9093/bootstrap") == "2001:db8::1");
  CHECK(kafka_broker_host("") == "");
}
