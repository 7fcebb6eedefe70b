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

TEST_CASE_METHOD(actor_fixture, "a firer gives up after max_attempts with the last status, error and attempts",
                 "[firer][delivery]") {
  client->answer_all(503, "still busy");
  auto retries = env->retries;
  retries.max_attempts = 3;
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, retries);
  fire(firer, 9, "{}", now());
  run();
  advance(1min, 10ms);
  CHECK(client->sent_times() == std::vector<sys_ms>{at(0ms), at(250ms), at(750ms)});
  CHECK(backoff_reports(*log).size() == 2);
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].id == 9);
  CHECK(reports[0].received == at(750ms));
  CHECK(reports[0].report.verdict == fire_verdict::dead);
  CHECK(reports[0].report.status_code == 503);
  CHECK(reports[0].report.error == "HTTP 503: still busy");
  CHECK(reports[0].report.attempts == 3);
}

TEST_CASE_METHOD(actor_fixture, "a firer whose last attempt got no response reports status 0 and the transport error",
                 "[firer][delivery]") {
  auto retries = env->retries;
  retries.max_attempts = 2;
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, retries);
  fire(firer, 1, "{}", now());
  run();
  client->answer(0, 500, "oops");
  run();
  advance(250ms, 10ms);
  REQUIRE(client->calls().size() == 2);
  client->fail(1, "read: Connection reset by peer");
  advance(10s);
  CHECK(client->calls().size() == 2);
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].report.verdict == fire_verdict::dead);
  CHECK(reports[0].report.status_code == 0);
  CHECK(reports[0].report.error == "read: Connection reset by peer");
  CHECK(reports[0].report.attempts == 2);
}

TEST_CASE_METHOD(actor_fixture, "a firer gives up once the next retry would be later than the age limit",
                 "[firer][delivery]") {
  client->answer_all(503);
  auto retries = env->retries;
  retries.max_age = 2s;
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, retries);
  SECTION("counted from the unit's oldest event") {
    fire(firer, 1, "{}", now());
    run();
    advance(1min, 10ms);
    // Back-offs of 250, 500 and 1000 ms; the fourth (2000 ms at +1.75 s) would end after +2 s.
    CHECK(client->sent_times() == std::vector<sys_ms>{at(0ms), at(250ms), at(750ms), at(1750ms)});
    auto reports = fired_reports(*log);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].received == at(1750ms));
    CHECK(reports[0].report.verdict == fire_verdict::dead);
    CHECK(reports[0].report.attempts == 4);
  }
  SECTION("an event that arrived long ago is not retried at all") {
    advance(1900ms);
    fire(firer, 1, "{}", at(0ms));
    run();
    advance(1min, 10ms);
    CHECK(client->sent_times() == std::vector<sys_ms>{at(1900ms)});
    auto reports = fired_reports(*log);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].report.verdict == fire_verdict::dead);
    CHECK(reports[0].report.attempts == 1);
  }
}

TEST_CASE_METHOD(actor_fixture, "a firer ignores answers and timers of a unit it no longer holds", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1, env->retries);
  fire(firer, 1, R"({"n":1})", now());
  run();
  client->answer(0, 503);
  run();
  REQUIRE(backoff_reports(*log).size() == 1);
  // The parent took the unit back (e.g. after an update) and hands over the next one before the retry falls due.
  fire(firer, 2, R"({"n":2})", now());
  run();
  REQUIRE(client->calls().size() == 2);
  client->answer(1, 202);
  advance(5s);
  CHECK(client->calls().size() == 2);
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].id == 2);
  CHECK(reports[0].report.attempts == 1);
}
