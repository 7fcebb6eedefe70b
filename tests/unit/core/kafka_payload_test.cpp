#include "core/kafka_payload.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;

namespace {

kafka_spec spec_with(std::string_view extra = {}) {
  std::string json = R"({"brokers": "b:9092", "topic": "orders")";
  if (!extra.empty())
    json += ", " + std::string{extra};
  json += "}";
  auto spec = parse_kafka_spec(params(json), loopback_allowed());
  REQUIRE(spec);
  return *spec;
}

kafka_record record(std::optional<std::string> key, std::optional<std::string> value) {
  return kafka_record{3, 421760, std::move(key), std::move(value)};
}

} // namespace

TEST_CASE("a message is fired as OpenWhisk fires it: topic, partition, offset, key and value as text",
          "[kafka_payload]") {
  CHECK(kafka_message_body(spec_with(), record(std::string{"k-1"}, std::string{R"({"a": 1})"}))
        == R"({"topic":"orders","partition":3,"offset":421760,"key":"k-1","value":"{\"a\": 1}"})");
}

TEST_CASE("a message without key or value has nulls", "[kafka_payload]") {
  CHECK(kafka_message_body(spec_with(R"("isBinaryKey": true, "isBinaryValue": true)"), record({}, {}))
        == R"({"topic":"orders","partition":3,"offset":421760,"key":null,"value":null})");
}

TEST_CASE("isJSONData fires a value that is JSON as that JSON, of any type, and anything else as the string",
          "[kafka_payload]") {
  auto spec = spec_with(R"("isJSONData": true)");
  auto value_of = [&](std::string value) {
    auto body = kafka_message_body(spec, record({}, std::move(value)));
    auto at = body.find(R"("value":)");
    return body.substr(at + 8, body.size() - at - 9);
  };
  CHECK(value_of(R"({"a": [1, 2]})") == R"({"a": [1, 2]})");
  CHECK(value_of("[1,2]") == "[1,2]");
  CHECK(value_of("42") == "42");
  CHECK(value_of(R"("text")") == R"("text")");
  CHECK(value_of("null") == "null");
  CHECK(value_of(" true ") == " true ");
  CHECK(value_of("hello") == R"("hello")");
  CHECK(value_of(R"({"a": )") == R"("{\"a\": ")");
  CHECK(value_of("NaN") == R"("NaN")");
  CHECK(value_of("1 2") == R"("1 2")");
  // The key is never parsed.
  CHECK(kafka_message_body(spec, record(std::string{"5"}, {})).find(R"("key":"5")") != std::string::npos);
}

TEST_CASE("isBinaryKey and isBinaryValue fire base64 without line breaks", "[kafka_payload]") {
  std::string bytes(100, '\xff');
  bytes[0] = '\0';
  auto body = kafka_message_body(spec_with(R"("isBinaryKey": true, "isBinaryValue": true)"),
                                 record(std::string{"\x01\x02"}, bytes));
  CHECK(body.find(R"("key":"AQI=")") != std::string::npos);
  auto value = body.substr(body.find(R"("value":")") + 9);
  value = value.substr(0, value.find('"'));
  CHECK(value.size() == 136);
  CHECK(value.find('\n') == std::string::npos);
  CHECK(value.rfind("AP//", 0) == 0);
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD, valid text stays as it is", "[kafka_payload]") {
  CHECK(replace_invalid_utf8("plain") == "plain");
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  CHECK(replace_invalid_utf8(text) == text);
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(replace_invalid_utf8("a\xFF" "b") == "a" + fffd + "b");
  CHECK(replace_invalid_utf8("\xC0\xAF") == fffd + fffd);           // overlong '/'
  CHECK(replace_invalid_utf8("\xED\xA0\x80") == fffd + fffd + fffd); // a surrogate
  CHECK(replace_invalid_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd); // beyond U+10FFFF
  CHECK(replace_invalid_utf8("\xE2\x82") == fffd + fffd);           // cut short
  CHECK(replace_invalid_utf8(std::string{"a\0b", 3}) == std::string{"a\0b", 3});
  auto body = kafka_message_body(spec_with(), record(std::string{"k\xFF"}, std::string{"v\x80"}));
  CHECK(body.find("\"key\":\"k" + fffd + "\"") != std::string::npos);
  CHECK(body.find("\"value\":\"v" + fffd + "\"") != std::string::npos);
}
