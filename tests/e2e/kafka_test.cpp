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

TEST_CASE("since now: messages produced before CREATE never fire, each later one fires once, in partition order",
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

TEST_CASE("PAUSE stops reading and keeps the position, UNPAUSE fires what was produced meanwhile, each once",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 2);
  const trigger_ref paused{"alice", "paused-orders"};
  const trigger_ref witness{"alice", "witness"};
  fx.controller().add_trigger(paused, std::string{alice_key});
  fx.controller().add_trigger(witness, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(paused), alice_key, kafka_create_body(kafka, "orders"))).status
          == 201);
  REQUIRE(fr->call(api_request("PUT", trigger_path(witness), alice_key, kafka_create_body(kafka, "orders"))).status
          == 201);
  kafka.produce_many("orders", 10, [](int i) { return i % 2; }, [](int i) { return std::to_string(i); });
  REQUIRE(wait_for_messages(fx, paused, 10));
  REQUIRE(wait_for_messages(fx, witness, 10));
  // The controller has a fire as soon as its request arrives, but the position moves past its messages only once the
  // answer is back at the trigger: a fire answered after the PAUSE still moves it. The position is taken once it is
  // past all ten (five per partition), so that only reading while paused could move it further.
  std::string before;
  REQUIRE(poll_until(
    [&] {
      before = read_registration(*fr, paused);
      return json_int_at(before, "/status/checkpoint/offsets/0") == 5
             && json_int_at(before, "/status/checkpoint/offsets/1") == 5;
    },
    message_timeout));
  REQUIRE(fr->call(api_request("POST", trigger_path(paused) + "/pause", alice_key)).status == 200);

  kafka.produce_many("orders", 6, [](int i) { return i % 2; }, [](int i) { return "later-" + std::to_string(i); });
  // Once the other registration on the topic fired these, the paused one would have too had it been reading.
  REQUIRE(wait_for_messages(fx, witness, 16));
  CHECK(fired_messages(fx, paused).size() == 10);
  auto during = read_registration(*fr, paused);
  CHECK(json_string_at(during, "/status/state") == std::string{"paused"});
  CHECK(json_at(during, "/status/checkpoint") == json_at(before, "/status/checkpoint"));

  REQUIRE(fr->call(api_request("POST", trigger_path(paused) + "/resume", alice_key)).status == 200);
  REQUIRE(wait_for_messages(fx, paused, 16));
  auto messages = fired_messages(fx, paused);
  CHECK(messages.size() == 16);
  check_each_once_in_order(messages);
  fr->stop_cleanly();
}

TEST_CASE("a message larger than batchBytes is dead-lettered with its offset, the messages around it fire",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  const trigger_ref trigger{"alice", "big-orders"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                               kafka_create_body(kafka, "orders", R"("batchBytes":2000)")))
            .status
          == 201);
  kafka.produce("orders", 0, std::string{"a"}, std::string{"small-1"});
  kafka.produce("orders", 0, std::string{"b"}, std::string(5000, 'x'));
  kafka.produce("orders", 0, std::string{"c"}, std::string{"small-2"});
  REQUIRE(wait_for_messages(fx, trigger, 2));
  auto messages = fired_messages(fx, trigger);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].offset == 0);
  CHECK(messages[1].offset == 2);
  std::string letters;
  REQUIRE(poll_until(
    [&] {
      letters = read_dead_letters(*fr, trigger);
      return json_int_at(letters, "/count") == 1;
    },
    message_timeout));
  INFO(letters);
  CHECK(json_int_at(letters, "/deadLetters/0/payload/offset") == 1);
  CHECK(json_int_at(letters, "/deadLetters/0/payload/partition") == 0);
  CHECK(json_string_at(letters, "/deadLetters/0/payload/key") == std::string{"b"});
  CHECK(json_string_at(letters, "/deadLetters/0/error").value_or("").find("2000 bytes") != std::string::npos);
  std::string view;
  CHECK(poll_until(
    [&] {
      view = read_registration(*fr, trigger);
      return json_int_at(view, "/status/checkpoint/offsets/0") == 3;
    },
    message_timeout));
  INFO(view);
  CHECK(json_int_at(view, "/status/deadLetters") == 1);
  fr->stop_cleanly();
}

TEST_CASE("isJSONData, isBinaryKey and isBinaryValue shape the fired messages, an UPDATE of them keeps the position",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  const trigger_ref trigger{"alice", "shaped"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key,
                               kafka_create_body(kafka, "orders", R"("isJSONData":"true","isBinaryKey":true)")))
            .status
          == 201);
  kafka.produce("orders", 0, std::string{"\x01\x02"}, std::string{R"({"total": 12})"});
  kafka.produce("orders", 0, std::nullopt, std::string{"not json"});
  REQUIRE(wait_for_messages(fx, trigger, 2));
  auto fires = fx.fires_of(trigger);
  std::vector<std::string> bodies;
  for (const auto& fire : fires)
    bodies.push_back(fire.body);
  auto all = fired_messages(fx, trigger);
  REQUIRE(all.size() == 2);
  CHECK(all[0].key == "AQI=");
  CHECK(all[1].value == "not json");
  // The JSON value is fired as JSON.
  bool found = false;
  for (const auto& body : bodies)
    for (int i = 0; i < 2; ++i)
      if (json_int_at(body, "/messages/" + std::to_string(i) + "/value/total") == 12)
        found = true;
  CHECK(found);
  CHECK(json_at(read_registration(*fr, trigger), "/config/isJSONData") == std::string{"true"});

  auto updated = fr->call(api_request("PATCH", trigger_path(trigger), alice_key,
                                      R"({"isJSONData":false,"isBinaryValue":true})"));
  REQUIRE(updated.status == 200);
  CHECK(json_int_at(updated.body, "/status/checkpoint/offsets/0") == 2);
  kafka.produce("orders", 0, std::string{"k"}, std::string{"\xff"});
  REQUIRE(wait_for_messages(fx, trigger, 3));
  all = fired_messages(fx, trigger);
  REQUIRE(all.size() == 3);
  CHECK(all[2].offset == 2);
  CHECK(all[2].value == "/w==");
  fr->stop_cleanly();
}

TEST_CASE("an UPDATE to another topic starts where that one ends, since earliest fires what a topic holds",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  kafka.create_topic("archive", 2);
  kafka.produce("archive", 0, std::nullopt, std::string{"old-0"});
  kafka.produce("archive", 1, std::nullopt, std::string{"old-1"});
  const trigger_ref moved{"alice", "moved"};
  const trigger_ref everything{"alice", "everything"};
  fx.controller().add_trigger(moved, std::string{alice_key});
  fx.controller().add_trigger(everything, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(moved), alice_key, kafka_create_body(kafka, "orders"))).status
          == 201);
  kafka.produce("orders", 0, std::nullopt, std::string{"o-1"});
  REQUIRE(wait_for_messages(fx, moved, 1));
  auto patched = fr->call(api_request("PATCH", trigger_path(moved), alice_key, R"({"topic":"archive"})"));
  REQUIRE(patched.status == 200);
  CHECK(json_string_at(patched.body, "/status/checkpoint/source").value_or("").find("/archive") != std::string::npos);
  CHECK(json_int_at(patched.body, "/status/checkpoint/offsets/1") == 1);
  kafka.produce("archive", 1, std::nullopt, std::string{"new-1"});
  REQUIRE(wait_for_messages(fx, moved, 2));
  auto messages = fired_messages(fx, moved);
  REQUIRE(messages.size() == 2);
  CHECK(messages[1].value == "new-1");

  REQUIRE(fr->call(api_request("PUT", trigger_path(everything), alice_key,
                               kafka_create_body(kafka, "archive", R"("since":"earliest")")))
            .status
          == 201);
  REQUIRE(wait_for_messages(fx, everything, 3));
  std::multiset<std::string> values;
  for (const auto& message : fired_messages(fx, everything))
    values.insert(message.value);
  CHECK(values == std::multiset<std::string>{"old-0", "old-1", "new-1"});
  fr->stop_cleanly();
}

TEST_CASE("messages retention deleted before they were read show in the status, reading goes on from the oldest left",
          "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  const trigger_ref trigger{"alice", "lagging"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, kafka_create_body(kafka, "orders"))).status
          == 201);
  REQUIRE(fr->call(api_request("POST", trigger_path(trigger) + "/pause", alice_key)).status == 200);
  // The mock keeps 5 MiB per partition: 7 MB push the first messages out.
  const std::string value(100'000, 'x');
  kafka.produce_many("orders", 70, [](int) { return 0; }, [&](int) { return value; });
  auto [low, high] = kafka.watermarks("orders", 0);
  REQUIRE(low > 0);
  REQUIRE(fr->call(api_request("POST", trigger_path(trigger) + "/resume", alice_key)).status == 200);
  REQUIRE(wait_for_messages(fx, trigger, static_cast<std::size_t>(high - low)));
  auto messages = fired_messages(fx, trigger);
  CHECK(messages.size() == static_cast<std::size_t>(high - low));
  CHECK(messages.front().offset == low);
  check_each_once_in_order(messages);
  auto view = read_registration(*fr, trigger);
  INFO(view);
  CHECK(json_string_at(view, "/status/lastSourceError").value_or("").find("from offset 0") != std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("the feed-action protocol creates a kafka registration as the REST route does", "[e2e][kafka]") {
  e2e_fixture fx;
  kafka_mock kafka;
  kafka.create_topic("orders", 1);
  const trigger_ref trigger{"alice", "from-wsk"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto created = fr->call(lifecycle_request("CREATE", trigger, alice_key,
                                            R"("feed":"kafka","brokers":[")" + kafka.bootstrap()
                                              + R"("],"topic":"orders","isBinaryValue":"true")"));
  REQUIRE(created.status == 201);
  kafka.produce("orders", 0, std::nullopt, std::string{"hi"});
  REQUIRE(wait_for_messages(fx, trigger, 1));
  CHECK(fired_messages(fx, trigger)[0].value == "aGk=");
  fr->stop_cleanly();
}
