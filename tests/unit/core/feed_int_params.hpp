#pragma once

// The integer parameters of every feed kind with the ranges the docs give them, for the feed config tests.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace feedrouter::test {

/// An integer parameter as documented: its feed kind, the other members a valid request needs, and its range.
struct documented_int_param {
  std::string_view feed;
  std::string_view base; ///< JSON members without braces, the parameter itself left out
  std::string_view name;
  std::int64_t min;
  std::int64_t max;
  /// Also taken in the string forms OpenWhisk's `minutes` check takes (" 5 ", "+5", "5.0"): the alarm parameters
  /// OpenWhisk users pass that way (docs/alarm-feed.md).
  bool openwhisk_strings = false;
};

/// What the registry adds to every webhook CREATE before it is validated.
constexpr std::string_view webhook_base = R"("hookId": "h-numbers", "secret": "0123456789abcdef")";

/// Every integer parameter of every feed kind (docs/alarm-feed.md, delivery.md, poll-feed.md, changes-feed.md,
/// kafka-feed.md, mqtt-feed.md).
inline const std::vector<documented_int_param>& documented_int_params() {
  static const std::vector<documented_int_param> all = {
    {"alarm", "", "minutes", 1, 5'270'400, true},
    {"alarm", "", "seconds", 1, 316'224'000},
    {"alarm", R"("cron": "* * * * *")", "maxTriggers", -1, 1'000'000'000, true},
    {"webhook", webhook_base, "batchSize", 1, 1000},
    {"webhook", webhook_base, "batchWindowMs", 0, 60'000},
    {"webhook", webhook_base, "retryAttempts", 1, 100},
    {"webhook", webhook_base, "retryMaxAgeSeconds", 1, 604'800},
    {"poll", R"("url": "https://api.example.com/items")", "intervalSeconds", 1, 86'400},
    {"poll", R"("url": "https://api.example.com/items", "intervalSeconds": 60)", "timeoutSeconds", 1, 300},
    {"poll", R"("url": "https://api.example.com/items", "intervalSeconds": 60)", "failuresBeforeDisable", 1, 100},
    {"changes", R"("url": "https://couch.example.com", "dbname": "orders")", "heartbeatSeconds", 1, 300},
    {"changes", R"("host": "couch.example.com", "dbname": "orders")", "port", 1, 65535},
    {"changes", R"("url": "https://couch.example.com", "dbname": "orders")", "maxTriggers", -1, 1'000'000'000},
    {"kafka", R"("brokers": "kafka.example.com:9092", "topic": "orders")", "batchBytes", 1'024, 900'000},
    {"mqtt", R"("url": "mqtts://broker.example.com", "topic": "sensors/#")", "qos", 0, 1},
  };
  return all;
}

/// Returns the JSON object of `param`'s base members with `param` set to the raw JSON `value`.
inline std::string with_value(const documented_int_param& param, std::string_view value) {
  std::string json = "{";
  if (!param.base.empty()) {
    json += param.base;
    json += ", ";
  }
  json += '"';
  json += param.name;
  json += "\": ";
  json += value;
  json += '}';
  return json;
}

} // namespace feedrouter::test
