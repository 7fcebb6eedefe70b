// The mqtt feed across a kill -9: a QoS 1 message is acknowledged to the broker only once stored, so nothing the
// broker handed over is lost, and repeats are bounded by what was in flight.

#include <algorithm>
#include <atomic>
#include <fstream>
#include <cstdint>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/e2e/mqtt_support.hpp"
#include "tests/support/mosquitto_server.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Returns the resident memory of process `pid` in KiB.
std::int64_t resident_kib(pid_t pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoll(line.substr(6));
  return -1;
}

} // namespace

TEST_CASE("kill -9 in a burst of 10 000 messages: every message fires, in order before the kill, repeats are bounded",
          "[e2e][mqtt][crash]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref trigger{"alice", "burst"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key,
                                  mqtt_create_body(broker, "burst", R"("batchSize":50)")))
            .status
          == 201);

  constexpr int count = 10'000;
  std::atomic<bool> publisher_failed{false};
  std::thread publisher{[&] {
    try {
      for (int start = 0; start < count; start += 500)
        publish_numbered(broker, "burst", start, 500);
    } catch (...) {
      publisher_failed = true;
    }
  }};
  // The kill lands while messages are still streaming in.
  auto mid_burst = wait_for_numbers(fx, trigger, count / 4);
  first->kill();
  auto fired_before_kill = fx.fires_of(trigger).size();
  publisher.join();
  REQUIRE(mid_burst);
  REQUIRE_FALSE(publisher_failed);

  auto second = fx.start_feedrouter();
  auto distinct_fired = [&] {
    auto numbers = fired_numbers(fx, trigger);
    return std::set<std::int64_t>{numbers.begin(), numbers.end()};
  };
  // Woken by fires; a fire without a new number (a repeat) just waits for the next. The fires are counted before the
  // numbers are read, so that one arriving in between is not waited for twice.
  for (;;) {
    auto fires = fx.fires_of(trigger).size();
    if (distinct_fired().size() == static_cast<std::size_t>(count)
        || !fx.wait_for_fires_of(trigger, fires + 1, mqtt_message_timeout))
      break;
  }
  auto distinct = distinct_fired();
  CHECK(distinct.size() == static_cast<std::size_t>(count));
  CHECK(*distinct.begin() == 0);
  CHECK(*distinct.rbegin() == count - 1);

  // Before the kill the messages fired in the order they were published.
  auto fires = fx.fires_of(trigger);
  std::int64_t last = -1;
  for (std::size_t i = 0; i < fired_before_kill; ++i)
    for (std::size_t j = 0;; ++j) {
      auto n = json_int_at(fires[i].body, "/events/" + std::to_string(j) + "/payload/n");
      if (!n)
        break;
      CHECK(*n == last + 1);
      last = *n;
    }
  // Repeats are messages stored but not acknowledged at the kill (at most the broker's 20 in flight, sent again by
  // the broker) and fires whose outcome was not stored yet (at most the registration's --max-buffered-events, 1000).
  auto numbers = fired_numbers(fx, trigger);
  auto repeated = numbers.size() - distinct.size();
  std::cout << "mqtt crash test: " << fired_before_kill << " fires before kill -9, " << repeated
            << " messages fired twice, " << numbers.size() << " fired in all\n";
  CHECK(repeated <= 20 + 1000);
  second->stop_cleanly();
}

TEST_CASE("a backlog while the controller answers 503 keeps the provider's memory bounded, it all fires afterwards",
          "[e2e][mqtt][memory]") {
  e2e_fixture fx;
  mosquitto_server broker;
  const trigger_ref trigger{"alice", "backlog"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, mqtt_create_body(broker, "backlog"))).status
          == 201);
  fx.controller().hold(trigger, 503);
  const auto pid = fr->process().pid();
  const auto rss_before = resident_kib(pid);

  constexpr int count = 5'000;
  const std::string padding(4'000, 'v');
  std::vector<mqtt_publication> messages;
  for (int i = 0; i < count; ++i)
    messages.push_back({"backlog", R"({"n":)" + std::to_string(i) + R"(,"pad":")" + padding + "\"}", 1, false});
  broker.publish(messages);
  // Retries of the same fire back off 0.5, 1, 2, 4 s: by the sixth attempt the source has had 7 s to fill memory.
  std::int64_t rss_max = rss_before;
  REQUIRE(poll_until(
    [&] {
      rss_max = std::max(rss_max, resident_kib(pid));
      return fx.controller().attempt_count(trigger) >= 6;
    },
    mqtt_message_timeout));
  std::cout << "mqtt memory test: " << count * padding.size() / 1'000'000 << " MB published, RSS "
            << rss_before / 1024 << " MiB before, at most " << rss_max / 1024
            << " MiB while the controller answered 503\n";
  // At most --max-buffered-events (1000) messages of 4 KB and one read of 32 messages are held; the broker keeps the
  // rest.
  CHECK(rss_max - rss_before < 48 * 1024);
  auto view = read_registration(*fr, trigger);
  CHECK(json_string_at(view, "/status/state") == std::string{"active"});

  fx.controller().release(trigger);
  REQUIRE(wait_for_numbers(fx, trigger, count));
  auto numbers = fired_numbers(fx, trigger);
  CHECK(std::is_sorted(numbers.begin(), numbers.end()));
  CHECK(std::set<std::int64_t>(numbers.begin(), numbers.end()).size() == static_cast<std::size_t>(count));
  fr->stop_cleanly();
}
