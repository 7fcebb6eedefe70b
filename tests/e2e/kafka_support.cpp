#include "tests/e2e/kafka_support.hpp"

#include <map>
#include <set>
#include <utility>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "tests/e2e/json_probe.hpp"

namespace feedrouter::test {

std::string kafka_create_body(const kafka_mock& kafka, std::string_view topic, std::string_view more_members) {
  std::string body = R"({"feed":"kafka","brokers":")" + kafka.bootstrap() + R"(","topic":")" + std::string{topic}
                     + "\"";
  if (!more_members.empty())
    body += "," + std::string{more_members};
  return body + "}";
}

std::vector<fired_message> fired_messages(const e2e_fixture& fx, const trigger_ref& trigger) {
  std::vector<fired_message> messages;
  for (const auto& fire : fx.fires_of(trigger)) {
    for (std::size_t i = 0;; ++i) {
      auto at = "/messages/" + std::to_string(i);
      auto partition = json_int_at(fire.body, at + "/partition");
      if (!partition)
        break;
      fired_message message;
      message.partition = static_cast<std::int32_t>(*partition);
      message.offset = json_int_at(fire.body, at + "/offset").value_or(-1);
      message.key = json_string_at(fire.body, at + "/key").value_or("");
      message.value = json_string_at(fire.body, at + "/value").value_or("");
      messages.push_back(std::move(message));
    }
  }
  return messages;
}

bool wait_for_messages(const e2e_fixture& fx, const trigger_ref& trigger, std::size_t n,
                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Woken by the next fire, never by a timer.
    auto fires = fx.fires_of(trigger).size();
    if (fired_messages(fx, trigger).size() >= n)
      return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds{0} || !fx.wait_for_fires_of(trigger, fires + 1, left))
      return fired_messages(fx, trigger).size() >= n;
  }
}

void check_each_once_in_order(const std::vector<fired_message>& messages) {
  std::set<std::pair<std::int32_t, std::int64_t>> seen;
  std::map<std::int32_t, std::int64_t> last;
  for (const auto& message : messages) {
    INFO("partition " << message.partition << " offset " << message.offset);
    CHECK(seen.insert({message.partition, message.offset}).second);
    auto previous = last.find(message.partition);
    if (previous != last.end())
      CHECK(message.offset > previous->second);
    last[message.partition] = message.offset;
  }
}

} // namespace feedrouter::test
