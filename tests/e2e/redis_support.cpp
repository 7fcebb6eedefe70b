#include "tests/e2e/redis_support.hpp"

#include <catch2/catch.hpp>

#include "core/redis_stream_spec.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/json_probe.hpp"

namespace feedrouter::test {

std::string redis_create_body(const std::string& url, std::string_view stream, std::string_view more_members) {
  std::string body = R"({"feed":"redis-stream","url":")" + url + R"(","stream":")" + std::string{stream} + "\"";
  if (!more_members.empty())
    body += "," + std::string{more_members};
  return body + "}";
}

std::vector<std::string> fired_ids(const e2e_fixture& fx, const trigger_ref& trigger) {
  std::vector<std::string> ids;
  for (const auto& fire : fx.fires_of(trigger)) {
    if (auto id = json_string_at(fire.body, "/id")) {
      ids.push_back(*id);
      continue;
    }
    for (std::size_t i = 0;; ++i) {
      auto id = json_string_at(fire.body, "/events/" + std::to_string(i) + "/id");
      if (!id)
        break;
      ids.push_back(*id);
    }
  }
  return ids;
}

bool wait_for_entries(const e2e_fixture& fx, const trigger_ref& trigger, std::size_t n) {
  auto deadline = std::chrono::steady_clock::now() + entry_timeout;
  for (;;) {
    // Woken by the next fire, never by a timer.
    auto fires = fx.fires_of(trigger).size();
    if (fired_ids(fx, trigger).size() >= n)
      return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds{0} || !fx.wait_for_fires_of(trigger, fires + 1, left))
      return fired_ids(fx, trigger).size() >= n;
  }
}

bool increasing(const std::vector<std::string>& ids) {
  for (std::size_t i = 1; i < ids.size(); ++i) {
    auto before = parse_stream_id(ids[i - 1]);
    auto after = parse_stream_id(ids[i]);
    if (!before || !after || !(*before < *after))
      return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> numbered(int i) {
  return {{"n", std::to_string(i)}, {"kind", "job"}};
}

void check_refused(feedrouter_process& fr, const trigger_ref& trigger, const std::string& body, std::string_view field,
                   int status) {
  INFO(body);
  auto answer = fr.call(api_request("PUT", trigger_path(trigger), alice_key, body));
  INFO(answer.body);
  CHECK(answer.status == status);
  if (!field.empty())
    CHECK(json_string_at(answer.body, "/field") == std::string{field});
  CHECK(fr.call(api_request("GET", trigger_path(trigger), alice_key)).status == 404);
}

} // namespace feedrouter::test
