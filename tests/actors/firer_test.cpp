#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "firer_harness.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};

} // namespace

TEST_CASE_METHOD(actor_fixture, "a firer posts the body to the trigger's URL with the owner's Basic auth",
                 "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1);
  fire(firer, 7, R"({"a":1})");
  run();
  REQUIRE(client->calls().size() == 1);
  const auto& req = client->calls()[0].request;
  CHECK(req.destination.scheme == "http");
  CHECK(req.destination.host == "controller.test");
  CHECK(req.destination.port == 3233);
  CHECK(req.destination.target == "/api/v1/namespaces/guest/triggers/t1");
  CHECK(req.message.method == "POST");
  CHECK(req.message.field("Authorization") == owner_authorization);
  CHECK(req.message.field("Content-Type") == "application/json");
  CHECK(req.message.body == R"({"a":1})");
  CHECK(fired_reports(*log).empty());
  client->answer(0, 202);
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].id == 7);
  CHECK(reports[0].outcome.status_code == 202);
  CHECK(reports[0].outcome.error.empty());
  CHECK_FALSE(reports[0].outcome.retry_after);
  CHECK_THAT(stats->render(), Catch::Contains("feedrouter_fires_total{outcome=\"ok\"} 1"));
}

TEST_CASE_METHOD(actor_fixture, "a firer percent-encodes the namespace and the trigger name in the URL", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, {"dev@example.com_ns", "my trigger"});
  fire(firer, 1, "{}");
  run();
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.destination.target
        == "/api/v1/namespaces/dev%40example.com_ns/triggers/my%20trigger");
}

TEST_CASE_METHOD(actor_fixture, "a firer sends every unit it gets at once and reports each answer by its id as it "
                                "arrives", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1);
  for (std::uint64_t id = 1; id <= 3; ++id)
    fire(firer, id, R"({"n":)" + std::to_string(id) + "}");
  run();
  REQUIRE(client->calls().size() == 3);
  CHECK(client->bodies() == std::vector<std::string>{R"({"n":1})", R"({"n":2})", R"({"n":3})"});
  client->answer(2, 200);
  client->answer(0, 503);
  client->answer(1, 204);
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 3);
  CHECK(reports[0].id == 3);
  CHECK(reports[1].id == 1);
  CHECK(reports[1].outcome.status_code == 503);
  CHECK(reports[2].id == 2);
  CHECK(client->calls().size() == 3); // a firer never retries on its own
}

TEST_CASE_METHOD(actor_fixture, "a firer reports the controller's status, its text and Retry-After", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1);
  for (std::uint64_t id = 1; id <= 3; ++id)
    fire(firer, id, "{}");
  run();
  client->answer(0, 429, "slow down", {{"Retry-After", "3"}});
  // A Retry-After as an HTTP-date counts from now.
  client->answer(1, 503, R"({"error":"overloaded"})", {{"Retry-After", "Thu, 01 Jan 2026 00:00:10 GMT"}});
  client->answer(2, 404, R"({"error":"The requested resource does not exist."})");
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 3);
  CHECK(reports[0].outcome.status_code == 429);
  CHECK(reports[0].outcome.error == "HTTP 429: slow down");
  CHECK(reports[0].outcome.retry_after == std::chrono::milliseconds{3000});
  CHECK(reports[1].outcome.error == R"(HTTP 503: {"error":"overloaded"})");
  CHECK(reports[1].outcome.retry_after == std::chrono::milliseconds{10'000});
  CHECK(reports[2].outcome.status_code == 404);
  CHECK(reports[2].outcome.error == R"(HTTP 404: {"error":"The requested resource does not exist."})");
  CHECK_FALSE(reports[2].outcome.retry_after);
  CHECK(log->exits.empty()); // failures are values, not crashes
  CHECK_THAT(stats->render(), Catch::Contains("feedrouter_fires_total{outcome=\"failed\"} 3"));
  CHECK_THAT(stats->render(), Catch::Contains("feedrouter_fire_failures_total{reason=\"unavailable\"} 2"));
  CHECK_THAT(stats->render(), Catch::Contains("feedrouter_fire_failures_total{reason=\"refused\"} 1"));
}

TEST_CASE_METHOD(actor_fixture, "the firers of one namespace keep to its fire rate, measured on the actor clock",
                 "[firer][rate]") {
  // Two per second with no burst: the sends of one namespace are 500 ms apart, whichever registration makes them;
  // another namespace is not held back.
  env->namespace_limiter = std::make_shared<rate_limiter>(2.0, 1.0);
  client->answer_all(202);
  auto log1 = std::make_shared<parent_log>();
  auto log2 = std::make_shared<parent_log>();
  auto log3 = std::make_shared<parent_log>();
  auto first = spawn_firer_under(*this, log1, {"guest", "t1"});
  auto second = spawn_firer_under(*this, log2, {"guest", "t2"});
  auto other = spawn_firer_under(*this, log3, {"other", "t3"});
  for (std::uint64_t id = 1; id <= 3; ++id) {
    fire(first, id, R"({"t":1})");
    fire(second, id, R"({"t":2})");
  }
  fire(other, 1, R"({"t":3})");
  run();
  advance(3s, 10ms);
  std::vector<sys_ms> guest;
  for (const auto& call : client->calls()) {
    if (call.request.message.body == R"({"t":3})")
      CHECK(call.sent == at(0s));
    else
      guest.push_back(call.sent);
  }
  CHECK(guest == every(at(0s), 500ms, 6));
  CHECK(fired_reports(*log1).size() == 3);
  CHECK(fired_reports(*log2).size() == 3);
}
