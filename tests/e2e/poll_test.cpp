#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/item_list_server.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a poll cycle may take to show (1 s interval); reached only when something is broken.
constexpr auto poll_timeout = 10s;

std::vector<std::int64_t> fired_ids(const e2e_fixture& fx, const trigger_ref& trigger) {
  std::vector<std::int64_t> ids;
  for (const auto& fire : fx.fires_of(trigger))
    ids.push_back(json_int_at(fire.body, "/id").value_or(-1));
  return ids;
}

/// Waits until the server answered `n` more polls than `before`: polls are the only signal the source gives, and they
/// come from another process, so this polls the counter in short steps.
bool wait_for_polls(const item_list_server& server, int before, int n) {
  return poll_until([&] { return server.polls() >= before + n; }, poll_timeout);
}

} // namespace

TEST_CASE("a poll registration fires exactly the new items and none twice across a restart", "[e2e][poll]") {
  e2e_fixture fx;
  item_list_server server;
  server.add(1);
  const trigger_ref trigger{"alice", "new-items"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  auto body = R"({"feed":"poll","url":")" + server.url()
              + R"(","intervalSeconds":1,"itemsPointer":"/items","idPointer":"/id"})";
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key, body)).status == 201);
  // The first poll sets the baseline: item 1 existed before the registration and is not news.
  REQUIRE(wait_for_polls(server, 0, 1));
  server.add(2);
  server.add(3);
  REQUIRE(fx.wait_for_fires_of(trigger, 2, poll_timeout));
  CHECK(fired_ids(fx, trigger) == std::vector<std::int64_t>{2, 3});

  first->stop_cleanly();
  first.reset();
  server.add(4);
  auto second = fx.start_feedrouter();
  REQUIRE(fx.wait_for_fires_of(trigger, 3, poll_timeout));
  // Two more polls of the same list fire nothing: the seen ids survived the restart.
  REQUIRE(wait_for_polls(server, server.polls(), 2));
  CHECK(fired_ids(fx, trigger) == std::vector<std::int64_t>{2, 3, 4});
  // The counter moves once the fire's answer is processed, after the controller recorded the fire: poll the READ.
  std::string view;
  auto counted = poll_until(
    [&] {
      view = read_registration(*second, trigger);
      return json_int_at(view, "/status/fires") == 3;
    },
    poll_timeout);
  INFO("READ: " << view);
  CHECK(counted);
  second->stop_cleanly();
}

// Poll items are stored with the poll's position in one transaction before they fire (delivery rule 5.1): killed
// between the two, the provider fires them after the restart, and its next polls do not take them as new again.
TEST_CASE("items polled and stored but not yet fired at kill -9 fire after the restart, none twice",
          "[e2e][poll][crash]") {
  e2e_fixture fx;
  item_list_server server;
  server.add(1);
  const trigger_ref trigger{"alice", "stored-items"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto first = fx.start_feedrouter();
  auto body = R"({"feed":"poll","url":")" + server.url()
              + R"(","intervalSeconds":1,"itemsPointer":"/items","idPointer":"/id"})";
  REQUIRE(first->call(api_request("PUT", trigger_path(trigger), alice_key, body)).status == 201);
  REQUIRE(wait_for_polls(server, 0, 1));
  // The controller refuses every fire (503 is retried): the new items are polled and stored, and none fires.
  fx.controller().hold(trigger, 503);
  server.add(2);
  server.add(3);
  std::string read;
  REQUIRE(poll_until(
    [&] {
      read = read_registration(*first, trigger);
      return json_int_at(read, "/status/pendingEvents") == 2;
    },
    poll_timeout));
  INFO("READ before the kill: " << read);
  CHECK(fx.controller().attempt_count(trigger) >= 1);
  first->kill();
  first.reset();
  CHECK(fx.fires_of(trigger).empty());

  fx.controller().release(trigger);
  auto second = fx.start_feedrouter();
  REQUIRE(fx.wait_for_fires_of(trigger, 2, poll_timeout));
  // Two polls after the restart: the second starts only once what the first found is stored, so when nothing is
  // pending after it, anything the polls took in has fired too.
  REQUIRE(wait_for_polls(server, server.polls(), 2));
  CHECK(poll_until(
    [&] {
      read = read_registration(*second, trigger);
      return json_int_at(read, "/status/pendingEvents") == 0;
    },
    poll_timeout));
  INFO("READ after the restart: " << read);
  CHECK(fired_ids(fx, trigger) == std::vector<std::int64_t>{2, 3});
  CHECK(json_int_at(read, "/status/fires") == 2);
  second->stop_cleanly();
}
