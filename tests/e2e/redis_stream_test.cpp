// The redis-stream feed end to end: the real feedrouter process, the fake controller, and a real redis-server that
// each test starts on a free 127.0.0.1 port in a temporary directory (tests/support/redis_server.hpp).

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/auth_key.hpp"
#include "core/json.hpp"
#include "core/redis_stream_spec.hpp"
#include "store/store.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/redis_support.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/unit/net/self_signed_cert.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// Returns the entry ID the store holds as the position of `trigger`.
stream_id stored_position(const std::string& store_spec, const trigger_ref& trigger) {
  auto store = open_store(store_spec);
  for (const auto& record : store->load_all()) {
    if (record.trigger.key() != trigger.key())
      continue;
    auto members = parse_json_object(record.status.checkpoint, "checkpoint");
    REQUIRE(members);
    auto id = parse_stream_id(json_as_string(*find_member(*members, "id")).value_or(""));
    REQUIRE(id);
    return *id;
  }
  FAIL("no stored registration for " << trigger.qualified());
  return {};
}

} // namespace

TEST_CASE("start $: entries added before CREATE never fire, each later one fires once, in order, with its fields",
          "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis;
  redis.add("jobs", 3, numbered);
  const trigger_ref trigger{"alice", "jobs"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      redis_create_body(redis.url(), "jobs", R"("trigger_payload":{"team":"a"})")));
  INFO(created.body);
  REQUIRE(created.status == 201);
  constexpr int count = 300;
  auto ids = redis.add("jobs", count, numbered);
  REQUIRE(wait_for_entries(fx, trigger, count));
  CHECK(fired_ids(fx, trigger) == ids);
  auto first = fx.fires_of(trigger).front();
  CHECK(json_string_at(first.body, "/stream") == std::string{"jobs"});
  CHECK(json_string_at(first.body, "/fields/n") == std::string{"0"});
  CHECK(json_string_at(first.body, "/fields/kind") == std::string{"job"});
  CHECK(json_string_at(first.body, "/team") == std::string{"a"});
  CHECK(first.authorization == basic_authorization(alice_key));
  // The position moves past every fired entry.
  std::string view;
  CHECK(poll_until(
    [&] {
      view = read_registration(*fr, trigger);
      return json_string_at(view, "/status/checkpoint/id") == ids.back();
    },
    entry_timeout));
  INFO(view);
  CHECK(json_string_at(view, "/status/checkpoint/stream") == std::string{"jobs"});
  fr->stop_cleanly();
}

TEST_CASE("start 0 fires the whole stream, also batched, and the password is never shown",
          "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis{redis_test_server::options{"s3cret", "", ""}};
  auto before = redis.add("orders", 5, numbered);
  const trigger_ref trigger{"alice", "orders"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      redis_create_body(redis.url(), "orders", R"("start":"0","batchSize":10)")));
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.body.find("s3cret") == std::string::npos);
  auto after = redis.add("orders", 20, numbered);
  REQUIRE(wait_for_entries(fx, trigger, 25));
  auto ids = fired_ids(fx, trigger);
  CHECK(ids.size() == 25);
  CHECK(increasing(ids));
  CHECK(ids.front() == before.front());
  CHECK(ids.back() == after.back());
  auto view = read_registration(*fr, trigger);
  CHECK(view.find("s3cret") == std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("bad redis-stream parameters and servers fail CREATE naming the parameter", "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis{redis_test_server::options{"right", "", ""}};
  redis.command({"SET", "plain", "x"});
  redis.add("jobs", 1, numbered);
  const trigger_ref trigger{"alice", "bad"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  const auto port = std::to_string(redis.port());
  check_refused(*fr, trigger, R"({"feed":"redis-stream","stream":"jobs"})", "url");
  check_refused(*fr, trigger, redis_create_body("http://127.0.0.1:" + port, "jobs"), "url");
  check_refused(*fr, trigger, redis_create_body(redis.url(), ""), "stream");
  check_refused(*fr, trigger, redis_create_body(redis.url(), "jobs", R"("start":"now")"), "start");
  // The server refuses the password; one without a password is asked for it.
  check_refused(*fr, trigger, redis_create_body("redis://:wrong@127.0.0.1:" + port, "jobs"), "url");
  check_refused(*fr, trigger, redis_create_body("redis://127.0.0.1:" + port, "jobs"), "url");
  check_refused(*fr, trigger, redis_create_body(redis.url(), "plain"), "stream");
  check_refused(*fr, trigger, redis_create_body(redis.url(), "missing"), "stream");
  // Nothing listens on port 1 of 127.0.0.1.
  check_refused(*fr, trigger, redis_create_body("redis://127.0.0.1:1", "jobs"), "url");
  // A missing stream is fine with create: it is read once it exists.
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      redis_create_body(redis.url(), "missing", R"("create":true)")));
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto ids = redis.add("missing", 2, numbered);
  REQUIRE(wait_for_entries(fx, trigger, 2));
  CHECK(fired_ids(fx, trigger) == ids);
  fr->stop_cleanly();
}

TEST_CASE("rediss:// speaks TLS and verifies the server's certificate against the system's store, never --ca-file",
          "[e2e][redis]") {
  e2e_fixture fx;
  auto cert = make_self_signed_cert("", "localhost");
  struct remove_dir {
    std::string dir;
    ~remove_dir() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{cert.dir};
  redis_test_server redis{redis_test_server::options{"", cert.cert_file, cert.key_file}};
  REQUIRE(redis.url().rfind("rediss://127.0.0.1:", 0) == 0);
  const trigger_ref trigger{"alice", "tls"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto body = redis_create_body(redis.url(), "jobs", R"("create":true)");
  {
    // The system's store does not know the self-signed certificate: the handshake fails, naming url.
    auto fr = fx.start_feedrouter();
    check_refused(*fr, trigger, body, "url");
    fr->stop_cleanly();
  }
  {
    // The operator's CA file vouches for the controller only, never for a tenant's server.
    auto fr = fx.start_feedrouter({"--ca-file", cert.cert_file});
    check_refused(*fr, trigger, body, "url");
    fr->stop_cleanly();
  }
  // The certificate in the system's store, as OpenSSL reads it (SSL_CERT_FILE names the store's file): accepted.
  struct cert_file_env {
    explicit cert_file_env(const std::string& file) {
      ::setenv("SSL_CERT_FILE", file.c_str(), 1);
    }
    ~cert_file_env() {
      ::unsetenv("SSL_CERT_FILE");
    }
  } system_store{cert.cert_file};
  auto fr = fx.start_feedrouter();
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key, body));
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto ids = redis.add("jobs", 20, numbered);
  REQUIRE(wait_for_entries(fx, trigger, 20));
  CHECK(fired_ids(fx, trigger) == ids);
  fr->stop_cleanly();
}

TEST_CASE("a Redis server on an address the egress policy refuses fails CREATE naming url", "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis;
  const trigger_ref trigger{"alice", "fenced"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter_with_default_egress();
  check_refused(*fr, trigger, redis_create_body(redis.url(), "jobs", R"("create":true)"), "url");
  // A name that resolves to a loopback address is refused on the address connected to.
  auto by_name = "redis://localhost.:" + std::to_string(redis.port());
  check_refused(*fr, trigger, redis_create_body(by_name, "jobs", R"("create":true)"), "url");
  fr->stop_cleanly();
}

TEST_CASE("the server going away shows in READ, and the feed comes back by itself and fires what came meanwhile",
          "[e2e][redis]") {
  e2e_fixture fx;
  redis_test_server redis;
  const trigger_ref trigger{"alice", "outage"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                               redis_create_body(redis.url(), "jobs", R"("create":true)")))
            .status
          == 201);
  auto first = redis.add("jobs", 3, numbered);
  REQUIRE(wait_for_entries(fx, trigger, 3));

  redis.stop();
  std::string during;
  CHECK(poll_until(
    [&] {
      during = read_registration(*fr, trigger);
      return json_string_at(during, "/status/lastSourceError").has_value();
    },
    entry_timeout));
  INFO(during);
  CHECK(json_string_at(during, "/status/state") == std::string{"active"});

  // The append-only file kept the stream; entries added right after the restart fire once the feed is back.
  redis.start();
  auto later = redis.add("jobs", 4, numbered);
  REQUIRE(wait_for_entries(fx, trigger, 7));
  auto ids = fired_ids(fx, trigger);
  CHECK(ids.size() == 7);
  CHECK(increasing(ids));
  std::string after;
  CHECK(poll_until(
    [&] {
      after = read_registration(*fr, trigger);
      return !json_string_at(after, "/status/lastSourceError").has_value();
    },
    entry_timeout));
  fr->stop_cleanly();
}

// The crash test of the issue: kill -9 in the middle of a burst of 10 000 entries. Every entry fires at least once,
// in stream order within each run of the provider, and the entries fired twice are only those after the position the
// store held at the kill.
TEST_CASE("kill -9 in a burst of 10 000 entries: every entry fires, in order, repeats only after the stored position",
          "[e2e][redis][crash]") {
  e2e_fixture fx;
  redis_test_server redis;
  const trigger_ref trigger{"alice", "burst"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key,
                                  redis_create_body(redis.url(), "burst", R"("create":true,"batchSize":50)")))
            .status
          == 201);

  constexpr int count = 10'000;
  constexpr int chunk = 500;
  // Each fire (at most 50 entries) is answered after 10 ms: the 200 fires take two seconds at least, so the kill after
  // a quarter of them lands while entries are still to fire, however fast this machine adds and reads them.
  std::vector<fake_controller::scripted_answer> slow(2 * count / 50,
                                                     fake_controller::scripted_answer::after(10ms, 202));
  fx.controller().script(trigger, slow);
  std::atomic<bool> producer_failed{false};
  std::vector<std::string> added;
  std::thread producer{[&] {
    try {
      for (int start = 0; start < count; start += chunk) {
        auto ids = redis.add("burst", chunk, [start](int i) { return numbered(start + i); });
        added.insert(added.end(), ids.begin(), ids.end());
      }
    } catch (...) {
      producer_failed = true;
    }
  }};
  // The kill lands while entries are still coming in.
  auto mid_burst = wait_for_entries(fx, trigger, count / 4);
  auto status = first->kill();
  producer.join();
  REQUIRE(mid_burst);
  REQUIRE_FALSE(producer_failed);
  CHECK(status.signal == SIGKILL);
  first.reset();
  auto before = fired_ids(fx, trigger);
  REQUIRE(before.size() < static_cast<std::size_t>(count));
  auto position = stored_position(fx.store_spec(), trigger);

  auto second = fx.start_feedrouter();
  std::set<std::string> distinct;
  REQUIRE(poll_until(
    [&] {
      auto all = fired_ids(fx, trigger);
      distinct = std::set<std::string>(all.begin(), all.end());
      return distinct.size() == static_cast<std::size_t>(count);
    },
    entry_timeout));
  auto all = fired_ids(fx, trigger);
  std::vector<std::string> after(all.begin() + static_cast<std::ptrdiff_t>(before.size()), all.end());
  CHECK(increasing(before));
  CHECK(increasing(after));
  // The second run starts right after the stored position: nothing skipped, nothing at or before it repeated.
  REQUIRE_FALSE(after.empty());
  CHECK(position < *parse_stream_id(after.front()));
  std::set<std::string> fired_before(before.begin(), before.end());
  std::size_t repeated = 0;
  for (const auto& id : after) {
    if (fired_before.count(id) == 0)
      continue;
    ++repeated;
    CHECK(position < *parse_stream_id(id));
  }
  CHECK(std::set<std::string>(added.begin(), added.end()) == distinct);
  std::cout << "redis-stream crash test: " << before.size() << " entries fired before kill -9, " << repeated
            << " fired twice, " << all.size() << " fired in all\n";
  second->stop_cleanly();
}
