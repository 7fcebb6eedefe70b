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

/// Returns the full-jitter back-off `random` yields under a ceiling of `ceiling_ms` (as core/retry_policy computes it).
std::int64_t jitter(std::int64_t ceiling_ms, std::uint64_t random) {
  __extension__ using uint128 = unsigned __int128;
  return static_cast<std::int64_t>((static_cast<uint128>(random) * static_cast<uint128>(ceiling_ms + 1)) >> 64);
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a firer posts the body to the trigger's URL with the owner's Basic auth",
                 "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  fire(firer, 7, R"({"a":1})", now());
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
  CHECK(reports[0].report.verdict == fire_verdict::fired);
  CHECK(reports[0].report.status_code == 202);
  CHECK(reports[0].report.attempts == 1);
  CHECK(reports[0].report.error.empty());
  CHECK(backoff_reports(*log).empty());
}

TEST_CASE_METHOD(actor_fixture, "a firer percent-encodes the namespace and the trigger name in the URL", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, {"dev@example.com_ns", "my trigger"}, env->retries);
  fire(firer, 1, "{}", now());
  run();
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.destination.target
        == "/api/v1/namespaces/dev%40example.com_ns/triggers/my%20trigger");
}

TEST_CASE_METHOD(actor_fixture, "a firer reports each unit by its id as its parent hands them over one at a time",
                 "[firer]") {
  // The parent sends the next unit only after the report (the trigger's queue keeps the order).
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    fire(firer, id, R"({"n":)" + std::to_string(id) + "}", now());
    run();
    REQUIRE(client->calls().size() == id);
    CHECK(client->calls()[id - 1].request.message.body == R"({"n":)" + std::to_string(id) + "}");
    client->answer(id - 1, 200);
    run();
  }
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 3);
  CHECK(reports[0].id == 1);
  CHECK(reports[1].id == 2);
  CHECK(reports[2].id == 3);
}

TEST_CASE_METHOD(actor_fixture, "a firer whose attempts are used up reports the controller's text, and a transport "
                                "error as status 0", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto retries = env->retries;
  retries.max_attempts = 1;
  auto firer = spawn_firer_under(*this, log, t1, retries);
  fire(firer, 1, "{}", now());
  run();
  client->answer(0, 503, R"({"error":"overloaded"})");
  run();
  fire(firer, 2, "{}", now());
  run();
  client->fail(1, "connect: Connection refused");
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].report.verdict == fire_verdict::dead);
  CHECK(reports[0].report.status_code == 503);
  CHECK(reports[0].report.error == R"(HTTP 503: {"error":"overloaded"})");
  CHECK(reports[1].report.verdict == fire_verdict::dead);
  CHECK(reports[1].report.status_code == 0);
  CHECK(reports[1].report.error == "connect: Connection refused");
  CHECK(log->exits.empty()); // failures are values, not crashes
  CHECK_THAT(stats->render(), Catch::Contains("feedrouter_fires_total{outcome=\"failed\"} 2"));
  CHECK_THAT(stats->render(), Catch::Contains("feedrouter_fire_failures_total{reason=\"unavailable\"} 2"));
}

// -- retries ------------------------------------------------------------------------

TEST_CASE_METHOD(actor_fixture, "a firer retries 503 after full-jitter delays and reports the fire with its attempts",
                 "[firer][delivery]") {
  random_value = GENERATE(std::uint64_t{0}, std::uint64_t{12345}, half_random, max_random - 1, max_random);
  CAPTURE(random_value);
  auto first = jitter(500, random_value);
  auto second = jitter(1000, random_value);
  REQUIRE(first <= 500);
  REQUIRE(second <= 1000);
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  fire(firer, 4, R"({"x":1})", now());
  run();
  REQUIRE(client->calls().size() == 1);
  client->answer(0, 503, "busy");
  run();
  auto backoffs = backoff_reports(*log);
  REQUIRE(backoffs.size() == 1);
  CHECK(backoffs[0].id == 4);
  CHECK(backoffs[0].attempts == 1);
  CHECK(backoffs[0].delay_ms == first);
  if (first > 0) {
    advance(std::chrono::milliseconds{first - 1}, 1ms);
    CHECK(client->calls().size() == 1);
    advance(1ms, 1ms);
  }
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].sent == at(std::chrono::milliseconds{first}));
  CHECK(client->calls()[1].request.message.body == R"({"x":1})");
  client->answer(1, 503, "busy");
  run();
  backoffs = backoff_reports(*log);
  REQUIRE(backoffs.size() == 2);
  CHECK(backoffs[1].attempts == 2);
  CHECK(backoffs[1].delay_ms == second);
  advance(std::chrono::milliseconds{second}, 1ms);
  REQUIRE(client->calls().size() == 3);
  CHECK(client->calls()[2].sent == at(std::chrono::milliseconds{first + second}));
  CHECK(fired_reports(*log).empty());
  client->answer(2, 202);
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].id == 4);
  CHECK(reports[0].report.verdict == fire_verdict::fired);
  CHECK(reports[0].report.status_code == 202);
  CHECK(reports[0].report.attempts == 3);
  CHECK(reports[0].report.error.empty());
  advance(5s);
  CHECK(client->calls().size() == 3);
}

TEST_CASE_METHOD(actor_fixture, "a firer with the default jitter source retries after 250 ms and then 500 ms",
                 "[firer][delivery]") {
  // half_random: half of the 500 ms and 1000 ms ceilings.
  client->respond_with([](const client_request&, std::size_t index) {
    return index < 2 ? http_answer(503) : http_answer(202);
  });
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  fire(firer, 1, "{}", now());
  run();
  advance(2s, 1ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(0ms), at(250ms), at(750ms)});
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].received == at(750ms));
  CHECK(reports[0].report.attempts == 3);
}

TEST_CASE_METHOD(actor_fixture, "a firer honours Retry-After: the next attempt is not sent before it",
                 "[firer][delivery]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  fire(firer, 1, "{}", now());
  run();
  client->answer(0, 429, "slow down", {{"Retry-After", "3"}});
  run();
  auto backoffs = backoff_reports(*log);
  REQUIRE(backoffs.size() == 1);
  CHECK(backoffs[0].delay_ms == 3000);
  advance(2999ms, 1ms);
  CHECK(client->calls().size() == 1);
  advance(1ms, 1ms);
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].sent == at(3s));
  // A Retry-After as an HTTP-date counts from now.
  client->answer(1, 503, "", {{"Retry-After", "Thu, 01 Jan 2026 00:00:10 GMT"}});
  run();
  backoffs = backoff_reports(*log);
  REQUIRE(backoffs.size() == 2);
  CHECK(backoffs[1].delay_ms == 7000);
  advance(7s, 100ms);
  REQUIRE(client->calls().size() == 3);
  CHECK(client->calls()[2].sent == at(10s));
  client->answer(2, 200);
  run();
  REQUIRE(fired_reports(*log).size() == 1);
  CHECK(fired_reports(*log)[0].report.attempts == 3);
}

TEST_CASE_METHOD(actor_fixture, "a firer retries transport errors and 408, 409, 429 and 5xx", "[firer][delivery]") {
  auto status = GENERATE(0, 408, 409, 429, 500, 502, 503, 504);
  CAPTURE(status);
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  fire(firer, 1, "{}", now());
  run();
  if (status == 0)
    client->fail(0, "timeout");
  else
    client->answer(0, status);
  run();
  CHECK(fired_reports(*log).empty());
  REQUIRE(backoff_reports(*log).size() == 1);
  advance(250ms, 10ms);
  REQUIRE(client->calls().size() == 2);
  client->answer(1, 204);
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].report.verdict == fire_verdict::fired);
  CHECK(reports[0].report.status_code == 204);
  CHECK(reports[0].report.attempts == 2);
}

TEST_CASE_METHOD(actor_fixture, "a firer does not retry what retrying cannot fix", "[firer][delivery]") {
  struct verdict_case {
    int status;
    fire_verdict verdict;
  };
  auto c = GENERATE(values<verdict_case>({
    {400, fire_verdict::disable},
    {401, fire_verdict::disable},
    {403, fire_verdict::disable},
    {404, fire_verdict::disable},
    {413, fire_verdict::too_large},
    {410, fire_verdict::dead},
    {422, fire_verdict::dead},
  }));
  CAPTURE(c.status);
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  fire(firer, 1, "{}", now());
  run();
  client->answer(0, c.status, R"({"error":"no"})");
  advance(10s);
  CHECK(client->calls().size() == 1);
  CHECK(backoff_reports(*log).empty());
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].report.verdict == c.verdict);
  CHECK(reports[0].report.status_code == c.status);
  CHECK(reports[0].report.attempts == 1);
  CHECK(reports[0].report.error == "HTTP " + std::to_string(c.status) + R"(: {"error":"no"})");
}
