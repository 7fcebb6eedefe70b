// The kafka feed end to end: the real feedrouter process, the fake controller, and librdkafka's mock cluster in this
// process (tests/support/kafka_mock.hpp).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/auth_key.hpp"
#include "core/json.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/kafka_support.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/kafka_mock.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

TEST_CASE("since now: messages produced before CREATE never fire; each later one fires once, in partition order",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 3);
  kafka.produce("orders", 0, std::string{"old"}, std::string{"before CREATE"});
  const trigger_ref trigger{"alice", "order-placed"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto created = fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                                      kafka_create_body(kafka, "orders", R"("trigger_payload":{"team":"a"})")));
  REQUIRE(created.status == 201);
  // CREATE answers once the end of every partition is stored: a message produced right after it fires.
  CHECK(json_int_at(created.body, "/status/checkpoint/offsets/0") == 1);
  CHECK(json_int_at(created.body, "/status/checkpoint/offsets/2") == 0);
  constexpr int count = 300;
  kafka.produce_many("orders", count, [](int i) { return i % 3; }, [](int i) { return "m" + std::to_string(i); });
  REQUIRE(wait_for_messages(fx, trigger, count));
  auto messages = fired_messages(fx, trigger);
  CHECK(messages.size() == static_cast<std::size_t>(count));
  check_each_once_in_order(messages);
  for (const auto& fire : fx.fires_of(trigger)) {
    CHECK(json_string_at(fire.body, "/team") == std::string{"a"});
    CHECK(json_string_at(fire.body, "/messages/0/topic") == std::string{"orders"});
    CHECK(fire.authorization == basic_authorization(alice_key));
  }
  auto first = fx.fires_of(trigger).front().body;
  CHECK(json_string_at(first, "/messages/0/key").value_or("").rfind("k", 0) == 0);
  CHECK(json_string_at(first, "/messages/0/value").value_or("").rfind("m", 0) == 0);
  // The position moves past every fired message.
  std::string view;
  CHECK(poll_until(
    [&] {
      view = read_registration(*fr, trigger);
      return json_int_at(view, "/status/checkpoint/offsets/0") == 101;
    },
    message_timeout));
  INFO(view);
  CHECK(json_int_at(view, "/status/checkpoint/offsets/1") == 100);
  CHECK(json_int_at(view, "/status/checkpoint/offsets/2") == 100);
  fr->stop_cleanly();
}
