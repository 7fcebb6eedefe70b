// Bad kafka parameters: each CREATE is answered 400 naming the parameter to fix, after at most one bounded request to
// the brokers.

#include <string>
#include <string_view>

#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/kafka_support.hpp"
#include "tests/support/kafka_mock.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Checks that CREATE with `body` is answered 400 naming `field`, and that nothing was registered.
void check_refused(feedrouter_process& fr, const trigger_ref& trigger, const std::string& body,
                   std::string_view field, std::string_view words = {}) {
  INFO(body);
  auto answer = fr.call(api_request("PUT", trigger_path(trigger), alice_key, body));
  INFO(answer.body);
  CHECK(answer.status == 400);
  CHECK(json_string_at(answer.body, "/field") == std::string{field});
  if (!words.empty())
    CHECK(json_string_at(answer.body, "/error").value_or("").find(words) != std::string::npos);
  CHECK(fr.call(api_request("GET", trigger_path(trigger), alice_key)).status == 404);
}

} // namespace

TEST_CASE("bad kafka parameters are refused naming the parameter", "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  const trigger_ref trigger{"alice", "bad"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  const auto brokers = kafka.bootstrap();
  check_refused(*fr, trigger, R"({"feed":"kafka","topic":"orders"})", "brokers");
  check_refused(*fr, trigger, R"({"feed":"kafka","brokers":"no space:9092","topic":"orders"})", "brokers");
  check_refused(*fr, trigger, R"({"feed":"kafka","brokers":")" + brokers + R"("})", "topic");
  check_refused(*fr, trigger, R"({"feed":"kafka","brokers":")" + brokers + R"(","topic":"a/b"})", "topic");
  check_refused(*fr, trigger, kafka_create_body(kafka, "orders", R"("isJSONData":true,"isBinaryValue":true)"),
                "isBinaryValue");
  check_refused(*fr, trigger, kafka_create_body(kafka, "orders", R"("isBinaryKey":"yes")"), "isBinaryKey");
  check_refused(*fr, trigger, kafka_create_body(kafka, "orders", R"("batchBytes":100)"), "batchBytes");
  check_refused(*fr, trigger, kafka_create_body(kafka, "orders", R"("since":"yesterday")"), "since");
  check_refused(*fr, trigger, kafka_create_body(kafka, "orders", R"("user":"u","password":"p")"), "user");
  check_refused(*fr, trigger, R"({"feed":"kafka","kafka_brokers_sasl":")" + brokers + R"(","topic":"orders"})",
                "user");
  fr->stop_cleanly();
}

TEST_CASE("a topic the brokers do not have fails CREATE naming topic, brokers nobody answers for name brokers",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  // The mock creates every topic it is asked about; an error set on it stands for a missing topic.
  kafka.set_topic_error("missing", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  const trigger_ref trigger{"alice", "nowhere"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  check_refused(*fr, trigger, kafka_create_body(kafka, "missing"), "topic", "does not exist");
  // A port of 127.0.0.1 where nothing listens: the bounded request ends before the API's own patience does.
  check_refused(*fr, trigger, R"({"feed":"kafka","brokers":"127.0.0.1:1","topic":"orders"})", "brokers",
                "no broker could be reached");
  fr->stop_cleanly();
}

TEST_CASE("brokers the egress policy refuses fail CREATE naming brokers, advertised ones as well as those given",
          "[e2e][kafka]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "fenced"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  SECTION("a broker given as a loopback address") {
    kafka_mock kafka;
    auto fr = fx.start_feedrouter_with_default_egress();
    check_refused(*fr, trigger, kafka_create_body(kafka, "orders"), "brokers", "not allowed by the egress policy");
    fr->stop_cleanly();
  }
  SECTION("a broker the cluster advertises, which the policy does not allow") {
    kafka_mock kafka{2};
    kafka.create_topic("orders", 2);
    kafka.set_leader("orders", 0, 1);
    kafka.set_leader("orders", 1, 2);
    auto bootstrap = kafka.bootstrap();
    auto first = bootstrap.substr(0, bootstrap.find(','));
    // Only the first broker may be reached; the partition led by the second one cannot be read.
    auto fr = fx.start_feedrouter_with_default_egress({"--allow-egress", first});
    check_refused(*fr, trigger, R"({"feed":"kafka","brokers":")" + first + R"(","topic":"orders"})", "brokers",
                  "not allowed by the egress policy");
    fr->stop_cleanly();
  }
}

TEST_CASE("at --max-kafka-feeds a further kafka CREATE answers 503 and registers nothing", "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  const trigger_ref first{"alice", "first"};
  const trigger_ref second{"alice", "second"};
  fx.controller().add_trigger(first, std::string{alice_key});
  fx.controller().add_trigger(second, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--max-kafka-feeds", "1"});
  REQUIRE(fr->call(api_request("PUT", trigger_path(first), alice_key, kafka_create_body(kafka, "orders"))).status
          == 201);
  auto refused = fr->call(api_request("PUT", trigger_path(second), alice_key, kafka_create_body(kafka, "orders")));
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(json_string_at(refused.body, "/error").value_or("").find("1 kafka feeds at most") != std::string::npos);
  CHECK(fr->call(api_request("GET", trigger_path(second), alice_key)).status == 404);
  // The first one's own UPDATE of its flags still works: it keeps its position and its client.
  CHECK(fr->call(api_request("PATCH", trigger_path(first), alice_key, R"({"isJSONData":true})")).status == 200);
  fr->stop_cleanly();
}
