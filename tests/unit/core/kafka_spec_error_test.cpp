#include "core/kafka_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;

namespace {

/// Checks that each of `params_json` is rejected with an error naming `field`.
void check_rejected(std::string_view field, const std::vector<std::string>& params_json,
                    const egress_policy& egress = loopback_allowed()) {
  for (const auto& json : params_json) {
    INFO("params: " << json);
    auto parsed = parse_kafka_spec(params(json), egress);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == field);
    CHECK_FALSE(parsed.error().message.empty());
  }
}

std::string with(std::string_view extra) {
  return R"({"brokers": "b:9092", "topic": "t", )" + std::string{extra} + "}";
}

} // namespace

TEST_CASE("a kafka feed without valid brokers names brokers", "[kafka_spec]") {
  std::string too_many = R"({"topic": "t", "brokers": [)";
  for (int i = 0; i < 33; ++i)
    too_many += (i > 0 ? "," : "") + std::string{"\"b"} + std::to_string(i) + ":9092\"";
  too_many += "]}";
  check_rejected("brokers", {
                              R"({"topic": "t"})",
                              R"({"topic": "t", "brokers": []})",
                              R"({"topic": "t", "brokers": ""})",
                              R"({"topic": "t", "brokers": " , "})",
                              R"({"topic": "t", "brokers": 9092})",
                              R"({"topic": "t", "brokers": [9092]})",
                              R"({"topic": "t", "brokers": "b:0"})",
                              R"({"topic": "t", "brokers": "b:65536"})",
                              R"({"topic": "t", "brokers": "b:"})",
                              R"({"topic": "t", "brokers": "b:9092x"})",
                              R"({"topic": "t", "brokers": "PLAINTEXT://b:9092"})",
                              R"({"topic": "t", "brokers": "b:9092/x"})",
                              R"({"topic": "t", "brokers": "b c:9092"})",
                              R"({"topic": "t", "brokers": "[::1"})",
                              R"({"topic": "t", "brokers": "[127.0.0.1]:9092"})",
                              R"({"topic": "t", "brokers": "[::1]x"})",
                              too_many,
                            });
}

TEST_CASE("both broker parameters, or SASL parameters with plaintext brokers, are refused", "[kafka_spec]") {
  check_rejected("kafka_brokers_sasl", {R"({"topic": "t", "brokers": "b:9092", "kafka_brokers_sasl": "b:9093",
                                          "user": "u", "password": "p"})"});
  check_rejected("user", {with(R"("user": "u", "password": "p")")});
  check_rejected("password", {with(R"("password": "p")")});
  check_rejected("saslMechanism", {with(R"("saslMechanism": "PLAIN")")});
}

TEST_CASE("kafka_brokers_sasl needs a user and a password, and a known mechanism", "[kafka_spec]") {
  check_rejected("user", {
                           R"({"topic": "t", "kafka_brokers_sasl": "b:9093", "password": "p"})",
                           R"({"topic": "t", "kafka_brokers_sasl": "b:9093", "user": "", "password": "p"})",
                           R"({"topic": "t", "kafka_brokers_sasl": "b:9093", "user": 5, "password": "p"})",
                         });
  check_rejected("password", {
                               R"({"topic": "t", "kafka_brokers_sasl": "b:9093", "user": "u"})",
                               R"({"topic": "t", "kafka_brokers_sasl": "b:9093", "user": "u", "password": ""})",
                             });
  check_rejected("saslMechanism", {
                                    R"({"topic": "t", "kafka_brokers_sasl": "b:9093", "user": "u", "password": "p",
                                        "saslMechanism": "GSSAPI"})",
                                    R"({"topic": "t", "kafka_brokers_sasl": "b:9093", "user": "u", "password": "p",
                                        "saslMechanism": "plain"})",
                                  });
  check_rejected("kafka_brokers_sasl", {R"({"topic": "t", "kafka_brokers_sasl": [], "user": "u", "password": "p"})"});
}

TEST_CASE("a missing or malformed topic names topic", "[kafka_spec]") {
  check_rejected("topic", {
                            R"({"brokers": "b:9092"})",
                            R"({"brokers": "b:9092", "topic": ""})",
                            R"({"brokers": "b:9092", "topic": 5})",
                            R"({"brokers": "b:9092", "topic": "a b"})",
                            R"({"brokers": "b:9092", "topic": "a/b"})",
                            R"({"brokers": "b:9092", "topic": "."})",
                            R"({"brokers": "b:9092", "topic": ".."})",
                            R"({"brokers": "b:9092", "topic": ")" + std::string(250, 'x') + "\"}",
                          });
}

TEST_CASE("a flag that is not true or false names the flag, isJSONData with isBinaryValue names isBinaryValue",
          "[kafka_spec]") {
  for (std::string_view flag : kafka_flag_params) {
    for (std::string_view value : {"1", "0", R"("yes")", R"("")", "null", "[]"}) {
      check_rejected(flag, {with("\"" + std::string{flag} + "\": " + std::string{value})});
    }
  }
  check_rejected("isBinaryValue", {
                                    with(R"("isJSONData": true, "isBinaryValue": true)"),
                                    with(R"("isJSONData": "true", "isBinaryValue": " TRUE")"),
                                  });
}

TEST_CASE("since is now or earliest, batchBytes lies in its range", "[kafka_spec]") {
  check_rejected("since", {with(R"("since": "latest")"), with(R"("since": 0)"), with(R"("since": "")")});
  check_rejected("batchBytes", {with(R"("batchBytes": 1023)"), with(R"("batchBytes": 900001)"),
                                with(R"("batchBytes": "lots")"), with(R"("batchBytes": 1.5)")});
}

TEST_CASE("a broker the egress policy refuses without resolving it names the brokers' parameter", "[kafka_spec]") {
  const egress_policy strict;
  check_rejected("brokers", {R"({"brokers": "b:9092,127.0.0.1:9092", "topic": "t"})",
                             R"({"brokers": "localhost:9092", "topic": "t"})",
                             R"({"brokers": "[::1]:9092", "topic": "t"})",
                             R"({"brokers": "10.0.0.8:9092", "topic": "t"})"},
                 strict);
  check_rejected("kafka_brokers_sasl",
                 {R"({"kafka_brokers_sasl": "169.254.169.254:9093", "user": "u", "password": "p", "topic": "t"})"},
                 strict);
  auto refused = parse_kafka_spec(params(R"({"brokers": "127.0.0.1:9092", "topic": "t"})"), strict);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find(egress_refusal_text) == 0);
  // A name is judged when the provider connects to the addresses it resolves to.
  CHECK(parse_kafka_spec(params(R"({"brokers": "kafka.example.com:9092", "topic": "t"})"), strict));
}
