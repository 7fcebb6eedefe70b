#include "tests/e2e/mqtt_support.hpp"

#include <utility>

#include "tests/e2e/json_probe.hpp"

namespace feedrouter::test {

std::string mqtt_create_body(const mosquitto_server& broker, std::string_view topic, std::string_view more_members) {
  std::string body = R"({"feed":"mqtt","url":")" + broker.url() + R"(","topic":")" + std::string{topic} + "\"";
  if (!more_members.empty())
    body += "," + std::string{more_members};
  return body + "}";
}

void publish_numbered(mosquitto_server& broker, const std::string& topic, int first, int count) {
  std::vector<mqtt_publication> messages;
  messages.reserve(static_cast<std::size_t>(count));
  for (int i = first; i < first + count; ++i)
    messages.push_back({topic, R"({"n":)" + std::to_string(i) + "}", 1, false});
  broker.publish(messages);
}

std::vector<std::int64_t> fired_numbers(const e2e_fixture& fx, const trigger_ref& trigger) {
  std::vector<std::int64_t> numbers;
  for (const auto& fire : fx.fires_of(trigger)) {
    if (auto single = json_int_at(fire.body, "/payload/n")) {
      numbers.push_back(*single);
      continue;
    }
    for (std::size_t i = 0;; ++i) {
      auto n = json_int_at(fire.body, "/events/" + std::to_string(i) + "/payload/n");
      if (!n)
        break;
      numbers.push_back(*n);
    }
  }
  return numbers;
}

bool wait_for_numbers(const e2e_fixture& fx, const trigger_ref& trigger, std::size_t n,
                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Woken by the next fire, never by a timer.
    auto fires = fx.fires_of(trigger).size();
    if (fired_numbers(fx, trigger).size() >= n)
      return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds{0} || !fx.wait_for_fires_of(trigger, fires + 1, left))
      return fired_numbers(fx, trigger).size() >= n;
  }
}

} // namespace feedrouter::test
