// The kafka feed across restarts and crashes, broker outages and a slow controller: nothing is lost, repeats come only
// after the stored position, and memory stays bounded.

#include <atomic>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "core/kafka_checkpoint.hpp"
#include "store/store.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/kafka_support.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/kafka_mock.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long the feed may take to come back after the brokers do: librdkafka reconnects after at most 10 s.
constexpr auto recovery_timeout = 60s;

/// Returns the offsets stored for `trigger` in the store at `store_spec`.
kafka_offsets stored_offsets(const std::string& store_spec, const trigger_ref& trigger) {
  auto store = open_store(store_spec);
  for (const auto& record : store->load_all()) {
    if (record.trigger.key() != trigger.key())
      continue;
    auto params = parse_json_object(record.params_json, "params");
    REQUIRE(params);
    auto spec = parse_kafka_spec(*params, egress_policy{{*parse_egress_rule("127.0.0.1", "rule")}, {}});
    REQUIRE(spec);
    auto offsets = restore_kafka_offsets(record.status.checkpoint, *spec);
    REQUIRE(offsets);
    return *offsets;
  }
  FAIL("no stored registration for " << trigger.qualified());
  return {};
}

/// Returns the resident memory of process `pid` in KiB.
std::int64_t resident_kib(pid_t pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoll(line.substr(6));
  return -1;
}

bool increasing_per_partition(const std::vector<fired_message>& messages) {
  std::map<std::int32_t, std::int64_t> last;
  for (const auto& message : messages) {
    auto previous = last.find(message.partition);
    if (previous != last.end() && message.offset <= previous->second)
      return false;
    last[message.partition] = message.offset;
  }
  return true;
}

std::set<std::pair<std::int32_t, std::int64_t>> distinct(const std::vector<fired_message>& messages) {
  std::set<std::pair<std::int32_t, std::int64_t>> set;
  for (const auto& message : messages)
    set.insert({message.partition, message.offset});
  return set;
}

} // namespace

TEST_CASE("a restart resumes after the last fired message: what was produced while down fires, nothing twice",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 2);
  const trigger_ref trigger{"alice", "restarted"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key, kafka_create_body(kafka, "orders"))).status
          == 201);
  kafka.produce_many("orders", 20, [](int i) { return i % 2; }, [](int i) { return std::to_string(i); });
  REQUIRE(wait_for_messages(fx, trigger, 20));
  first->stop_cleanly();
  first.reset();
  CHECK(stored_offsets(fx.store_spec(), trigger) == kafka_offsets{{0, 10}, {1, 10}});

  kafka.produce_many("orders", 10, [](int i) { return i % 2; },
                     [](int i) { return "while-down-" + std::to_string(i); });
  auto second = fx.start_feedrouter();
  REQUIRE(wait_for_messages(fx, trigger, 30));
  auto messages = fired_messages(fx, trigger);
  CHECK(messages.size() == 30);
  check_each_once_in_order(messages);
  second->stop_cleanly();
}

// The crash test of the issue: kill -9 in the middle of a burst of 10 000 messages. Every message fires at least
// once, in offset order within each partition and each run of the provider, and the messages fired twice are only
// those at or after the position the store held at the kill.
TEST_CASE("kill -9 in a burst of 10 000 messages: every message fires, in order, repeats only after the stored "
          "position",
          "[e2e][kafka][crash]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("burst", 4);
  const trigger_ref trigger{"alice", "burst"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key,
                                  kafka_create_body(kafka, "burst", R"("batchSize":50)")))
            .status
          == 201);

  constexpr int count = 10'000;
  std::atomic<bool> producer_failed{false};
  std::thread producer{[&] {
    try {
      for (int start = 0; start < count; start += 500)
        kafka.produce_many("burst", 500, [start](int i) { return (start + i) % 4; },
                           [start](int i) { return "m" + std::to_string(start + i); });
    } catch (...) {
      producer_failed = true;
    }
  }};
  // The kill lands while messages are still streaming in.
  auto mid_burst = wait_for_messages(fx, trigger, count / 4);
  auto status = first->kill();
  producer.join();
  REQUIRE(mid_burst);
  REQUIRE_FALSE(producer_failed);
  CHECK(status.signal == SIGKILL);
  first.reset();
  auto before = fired_messages(fx, trigger);
  auto position = stored_offsets(fx.store_spec(), trigger);

  auto second = fx.start_feedrouter();
  REQUIRE(poll_until([&] { return distinct(fired_messages(fx, trigger)).size() == static_cast<std::size_t>(count); },
                     message_timeout));
  auto all = fired_messages(fx, trigger);
  std::vector<fired_message> after(all.begin() + static_cast<std::ptrdiff_t>(before.size()), all.end());
  CHECK(increasing_per_partition(before));
  CHECK(increasing_per_partition(after));
  // The second run starts each partition right at its stored position: nothing between is skipped, nothing before
  // repeated.
  std::map<std::int32_t, std::int64_t> first_after;
  for (const auto& message : after)
    first_after.emplace(message.partition, message.offset);
  for (const auto& [partition, offset] : first_after) {
    INFO("partition " << partition);
    CHECK(offset == position[partition]);
  }
  auto fired_before = distinct(before);
  std::size_t repeated = 0;
  for (const auto& message : after) {
    if (fired_before.count({message.partition, message.offset}) == 0)
      continue;
    ++repeated;
    CHECK(message.offset >= position[message.partition]);
  }
  CHECK(distinct(all).size() == static_cast<std::size_t>(count));
  std::cout << "kafka crash test: " << before.size() << " messages fired before kill -9, " << repeated
            << " fired twice, " << all.size() << " fired in all\n";
  second->stop_cleanly();
}

TEST_CASE("the brokers going away shows in READ, and the feed comes back by itself", "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  const trigger_ref trigger{"alice", "outage"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, kafka_create_body(kafka, "orders"))).status
          == 201);
  kafka.produce("orders", 0, std::nullopt, std::string{"a1"});
  REQUIRE(wait_for_messages(fx, trigger, 1));

  kafka.set_brokers_down();
  std::string during;
  CHECK(poll_until(
    [&] {
      during = read_registration(*fr, trigger);
      return json_string_at(during, "/status/lastSourceError").has_value();
    },
    message_timeout));
  INFO(during);
  CHECK(json_string_at(during, "/status/state") == std::string{"active"});
  CHECK(json_int_at(during, "/status/sourceErrors").value_or(0) >= 1);

  kafka.set_brokers_up();
  kafka.produce("orders", 0, std::nullopt, std::string{"a2"});
  REQUIRE(wait_for_messages(fx, trigger, 2, recovery_timeout));
  auto messages = fired_messages(fx, trigger);
  CHECK(messages.size() == 2);
  CHECK(messages.back().value == "a2");
  std::string after;
  CHECK(poll_until(
    [&] {
      after = read_registration(*fr, trigger);
      return !json_string_at(after, "/status/lastSourceError").has_value();
    },
    message_timeout));
  fr->stop_cleanly();
}

// The mock keeps 5 MiB per partition: 24 partitions hold the 100 MB backlog of the issue.
TEST_CASE("a 100 MB backlog while the controller answers 503 keeps the provider's memory bounded and its position put",
          "[e2e][kafka][memory]") {
  e2e_fixture fx;
  kafka_mock kafka;
  constexpr int partitions = 24;
  kafka.create_topic("backlog", partitions);
  const trigger_ref trigger{"alice", "backlog"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, kafka_create_body(kafka, "backlog"))).status
          == 201);
  fx.controller().hold(trigger, 503);
  const auto pid = fr->process().pid();
  const auto rss_before = resident_kib(pid);

  constexpr int count = 24'000;
  const std::string value(4'200, 'v');
  kafka.produce_many("backlog", count, [](int i) { return i % partitions; }, [&](int) { return value; });
  std::int64_t backlog_bytes = 0;
  for (int p = 0; p < partitions; ++p) {
    auto [low, high] = kafka.watermarks("backlog", p);
    CHECK(low == 0);
    backlog_bytes += (high - low) * static_cast<std::int64_t>(value.size());
  }
  CHECK(backlog_bytes >= 100'000'000);
  // Retries of the same fire back off 0.5, 1, 2, 4 s: by the sixth attempt the source has had 7 s to fill memory.
  std::int64_t rss_max = rss_before;
  REQUIRE(poll_until(
    [&] {
      rss_max = std::max(rss_max, resident_kib(pid));
      return fx.controller().attempt_count(trigger) >= 6;
    },
    message_timeout));
  INFO("RSS before " << rss_before << " KiB, at most " << rss_max << " KiB during the hold");
  std::cout << "kafka memory test: " << backlog_bytes / 1'000'000 << " MB backlog, RSS " << rss_before / 1024
            << " MiB before, at most " << rss_max / 1024 << " MiB while the controller answered 503\n";
  // At most max-buffered-events (1000) messages of 4 KB, one fire of 900 KB and librdkafka's bounded queue are held.
  CHECK(rss_max - rss_before < 48 * 1024);
  auto view = read_registration(*fr, trigger);
  for (int p = 0; p < partitions; ++p)
    CHECK(json_int_at(view, "/status/checkpoint/offsets/" + std::to_string(p)) == 0);

  fx.controller().release(trigger);
  REQUIRE(wait_for_messages(fx, trigger, 2'000));
  check_each_once_in_order(fired_messages(fx, trigger));
  fr->stop_cleanly();
}
