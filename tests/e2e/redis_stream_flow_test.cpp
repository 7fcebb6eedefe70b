// The redis-stream feed when things change under it: PAUSE and UNPAUSE, credentials refused after CREATE, a controller
// answering 503 over a large backlog, and the instance's bound of connections.

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/redis_support.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/redis_server.hpp"

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

TEST_CASE("PAUSE closes the connection and keeps the position, UNPAUSE fires what was added meanwhile, each once",
          "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis;
  const trigger_ref paused{"alice", "paused-jobs"};
  const trigger_ref witness{"alice", "witness"};
  fx.controller().add_trigger(paused, std::string{alice_key});
  fx.controller().add_trigger(witness, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  for (const auto& trigger : {paused, witness})
    REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                 redis_create_body(redis.url(), "jobs", R"("create":true)")))
              .status
            == 201);
  auto ids = redis.add("jobs", 10, numbered);
  REQUIRE(wait_for_entries(fx, paused, 10));
  REQUIRE(wait_for_entries(fx, witness, 10));
  // The controller has a fire as soon as its request arrives, but the position moves past its entries only once the
  // answer is back at the trigger: a fire answered after the PAUSE still moves it. The position is taken once it is
  // past all ten, so that only reading while paused could move it further.
  std::string before;
  REQUIRE(poll_until(
    [&] {
      before = read_registration(*fr, paused);
      return json_string_at(before, "/status/checkpoint/id") == ids.back();
    },
    entry_timeout));
  REQUIRE(fr->call(api_request("POST", trigger_path(paused) + "/pause", alice_key)).status == 200);

  redis.add("jobs", 6, numbered);
  // Once the other registration on the stream fired these, the paused one would have too had it been reading.
  REQUIRE(wait_for_entries(fx, witness, 16));
  CHECK(fired_ids(fx, paused).size() == 10);
  auto during = read_registration(*fr, paused);
  CHECK(json_string_at(during, "/status/state") == std::string{"paused"});
  CHECK(json_at(during, "/status/checkpoint") == json_at(before, "/status/checkpoint"));

  REQUIRE(fr->call(api_request("POST", trigger_path(paused) + "/resume", alice_key)).status == 200);
  REQUIRE(wait_for_entries(fx, paused, 16));
  auto fired = fired_ids(fx, paused);
  CHECK(fired.size() == 16);
  CHECK(increasing(fired));
  CHECK(fired == fired_ids(fx, witness));
  fr->stop_cleanly();
}

TEST_CASE("credentials the server refuses after CREATE disable the registration, naming url", "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis;
  const trigger_ref trigger{"alice", "locked-out"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                               redis_create_body(redis.url(), "jobs", R"("create":true)")))
            .status
          == 201);
  redis.add("jobs", 2, numbered);
  REQUIRE(wait_for_entries(fx, trigger, 2));
  // The server now wants a password, and drops the connections it has: the feed's next login is refused.
  redis.commands({{"CONFIG", "SET", "requirepass", "new-password"}, {"CLIENT", "KILL", "TYPE", "normal"}});
  std::string view;
  CHECK(poll_until(
    [&] {
      view = read_registration(*fr, trigger);
      return json_string_at(view, "/status/state") == std::string{"disabled"};
    },
    entry_timeout));
  INFO(view);
  CHECK(json_string_at(view, "/status/reason/kind") == std::string{"AUTO"});
  CHECK(json_string_at(view, "/status/reason/message").value_or("").find("url: ") != std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("a backlog while the controller answers 503 stays in Redis: memory bounded, position put, then all fire",
          "[e2e][redis][memory]") {
  e2e_fixture fx;
  redis_test_server redis;
  const trigger_ref trigger{"alice", "backlog"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  // redis-stream's default of no batch window matters here: the source's credit (at most 64 KiB of events in flight)
  // never fills a batch of 100, and with a window every fire would wait it out.
  const auto body = redis_create_body(redis.url(), "backlog", R"("create":true,"batchSize":100)");
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key, body));
  REQUIRE(created.status == 201);
  fx.controller().hold(trigger, 503);
  const auto pid = fr->process().pid();
  const auto rss_before = resident_kib(pid);

  constexpr int count = 25'000;
  constexpr int chunk = 1'000;
  const std::string value(4'000, 'v');
  for (int start = 0; start < count; start += chunk) {
    redis.add("backlog", chunk, [&](int i) {
      return std::vector<std::pair<std::string, std::string>>{{"n", std::to_string(start + i)}, {"blob", value}};
    });
  }
  // Retries of the same fire back off 0.5, 1, 2, 4 s: by the sixth attempt the source has had 7 s to fill memory.
  std::int64_t rss_max = rss_before;
  REQUIRE(poll_until(
    [&] {
      rss_max = std::max(rss_max, resident_kib(pid));
      return fx.controller().attempt_count(trigger) >= 6;
    },
    entry_timeout));
  INFO("RSS before " << rss_before << " KiB, at most " << rss_max << " KiB during the hold");
  std::cout << "redis-stream memory test: " << count * value.size() / 1'000'000 << " MB backlog, RSS "
            << rss_before / 1024 << " MiB before, at most " << rss_max / 1024
            << " MiB while the controller answered 503\n";
  // At most max-buffered-events (1000) entries of 4 KB, a fire of 100 of them and one XREAD reply (at most 8 MiB) are
  // held.
  CHECK(rss_max - rss_before < 48 * 1024);
  auto view = read_registration(*fr, trigger);
  CHECK(json_string_at(view, "/status/checkpoint/id") == std::string{"0-0"});

  // Once released the backlog fires from its first entry on, in order. The provider is then killed, not stopped: a
  // clean stop would wait out its shutdown grace while the rest of the backlog keeps firing.
  fx.controller().release(trigger);
  auto released = wait_for_entries(fx, trigger, 2'000);
  INFO(fired_ids(fx, trigger).size() << " entries fired, " << fx.controller().attempt_count(trigger) << " attempts; "
                                     << read_registration(*fr, trigger));
  REQUIRE(released);
  auto ids = fired_ids(fx, trigger);
  CHECK(json_string_at(fx.fires_of(trigger).front().body, "/events/0/fields/n") == std::string{"0"});
  CHECK(increasing(ids));
  fr->kill();
}

TEST_CASE("at --max-redis-feeds a further redis-stream CREATE answers 503 and registers nothing", "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis;
  const trigger_ref first{"alice", "first"};
  const trigger_ref second{"alice", "second"};
  fx.controller().add_trigger(first, std::string{alice_key});
  fx.controller().add_trigger(second, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--max-redis-feeds", "1"});
  const auto body = redis_create_body(redis.url(), "jobs", R"("create":true)");
  REQUIRE(fr->call(api_request("PUT", trigger_path(first), alice_key, body)).status == 201);
  redis.add("jobs", 1, numbered);
  // Once the first one fired, its connection is the one the bound allows.
  REQUIRE(wait_for_entries(fx, first, 1));
  check_refused(*fr, second, body, "", 503);
  // The first one's UPDATE of its batch size keeps its position and its connection.
  CHECK(fr->call(api_request("PATCH", trigger_path(first), alice_key, R"({"batchSize":5})")).status == 200);
  fr->stop_cleanly();
}
