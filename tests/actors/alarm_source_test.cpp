#include <catch2/catch.hpp>

#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/sources/alarm.hpp"
#include "core/alarm_spec.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref alarm_trigger{"guest", "tick"};

std::int64_t ms(sys_ms t) {
  return t.time_since_epoch().count();
}

alarm_spec spec_of(std::string_view params_json, sys_ms now, validation_time when = validation_time::request) {
  auto spec = parse_alarm_spec(params(params_json), now, when, alarm_trigger.key());
  REQUIRE(spec);
  return *spec;
}

/// One `(occur_atom, occurrence_ms, next_ms)` as the parent received it.
struct occurrence_report {
  std::int64_t occurrence;
  std::int64_t next;
  sys_ms received;
};

std::vector<occurrence_report> occurrences(const parent_log& log) {
  std::vector<occurrence_report> result;
  for (auto i : log.find(occur_atom::value))
    result.push_back({log.messages[i].get_as<std::int64_t>(1), log.messages[i].get_as<std::int64_t>(2),
                      log.received[i]});
  return result;
}

std::vector<std::int64_t> announced_next(const parent_log& log) {
  std::vector<std::int64_t> result;
  for (auto i : log.find(next_atom::value))
    result.push_back(log.messages[i].get_as<std::int64_t>(1));
  return result;
}

caf::actor spawn_source_under(actor_fixture& f, const parent_log_ptr& log, alarm_spec spec, sys_ms anchor,
                              std::optional<sys_ms> last, std::function<sys_ms()> now) {
  return f.spawn_parent(log, [spec, anchor, last, now](caf::event_based_actor* self) {
    return spawn_alarm_source(self, spec, anchor, last, now);
  });
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "an alarm source announces its first occurrence and reports each one when it falls due",
                 "[alarm_source]") {
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec_of(R"({"seconds": 2})", now()), now(), std::nullopt, env->now);
  CHECK(announced_next(*log) == std::vector<std::int64_t>{ms(at(2s))});
  CHECK(occurrences(*log).empty());
  advance(1900ms, 10ms);
  CHECK(occurrences(*log).empty());
  advance(100ms, 10ms);
  auto seen = occurrences(*log);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].occurrence == ms(at(2s)));
  CHECK(seen[0].next == ms(at(4s)));
  CHECK(seen[0].received == at(2s));
  advance(2s, 10ms);
  seen = occurrences(*log);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].occurrence == ms(at(4s)));
  CHECK(seen[1].next == ms(at(6s)));
  CHECK(seen[1].received == at(4s));
  CHECK(log->find(ended_atom::value).empty());
  CHECK(log->exits.empty());
}

TEST_CASE_METHOD(actor_fixture, "an alarm source skips the occurrences that passed before it started",
                 "[alarm_source]") {
  // Created 35 s ago with a 10 s interval: occurrences at -25 s, -15 s, -5 s and +5 s; the last taken was -15 s.
  auto anchor = at(-35s);
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec_of(R"({"seconds": 10})", anchor), anchor, at(-15s), env->now);
  CHECK(announced_next(*log) == std::vector<std::int64_t>{ms(at(5s))});
  advance(6s);
  auto seen = occurrences(*log);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].occurrence == ms(at(5s)));
  CHECK(seen[0].received == at(5s));
}

TEST_CASE_METHOD(actor_fixture, "an alarm source restarted in the instant of its last occurrence does not repeat it",
                 "[alarm_source]") {
  auto spec = spec_of(R"({"seconds": 5})", now());
  auto anchor = now();
  advance(5s);
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec, anchor, at(5s), env->now);
  CHECK(announced_next(*log) == std::vector<std::int64_t>{ms(at(10s))});
  advance(1s);
  CHECK(occurrences(*log).empty());
}

TEST_CASE_METHOD(actor_fixture, "a one-shot alarm source reports its occurrence, then that it ended, and quits",
                 "[alarm_source]") {
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec_of(R"({"date": "2026-01-01T00:00:03Z"})", now()), now(), std::nullopt,
                     env->now);
  CHECK(announced_next(*log) == std::vector<std::int64_t>{ms(at(3s))});
  advance(10s);
  auto seen = occurrences(*log);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].occurrence == ms(at(3s)));
  CHECK(seen[0].next == -1);
  auto ended = log->find(ended_atom::value);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0] > log->find(occur_atom::value)[0]);
  REQUIRE(log->exits.size() == 1);
  CHECK_FALSE(log->exits[0]); // a normal exit, not a crash
}

TEST_CASE_METHOD(actor_fixture, "an alarm source whose one-shot date has passed reports at once that it ended",
                 "[alarm_source]") {
  // As after a restart of the service: the stored date lies in the past.
  auto spec = spec_of(R"({"date": "2025-12-31T23:59:00Z"})", now(), validation_time::restore);
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec, at(-1h), std::nullopt, env->now);
  CHECK(announced_next(*log).empty());
  CHECK(log->find(ended_atom::value).size() == 1);
  REQUIRE(log->exits.size() == 1);
  CHECK_FALSE(log->exits[0]);
  advance(2min, 1s);
  CHECK(occurrences(*log).empty());
}

TEST_CASE_METHOD(actor_fixture, "an alarm source stops at stopDate", "[alarm_source]") {
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec_of(R"({"seconds": 1, "stopDate": "2026-01-01T00:00:02.500Z"})", now()),
                     now(), std::nullopt, env->now);
  advance(5s);
  auto seen = occurrences(*log);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].occurrence == ms(at(1s)));
  CHECK(seen[0].next == ms(at(2s)));
  CHECK(seen[1].occurrence == ms(at(2s)));
  CHECK(seen[1].next == -1);
  CHECK(log->find(ended_atom::value).size() == 1);
  CHECK(log->exits.size() == 1);
}

TEST_CASE_METHOD(actor_fixture, "a late alarm tick fires the occurrence it woke up for and the latest one, no burst",
                 "[alarm_source]") {
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec_of(R"({"seconds": 1})", now()), now(), std::nullopt, env->now);
  // The machine stalls for 5 s: the tick due at +1 s arrives at +5 s.
  advance(5s, 5s);
  auto seen = occurrences(*log);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].occurrence == ms(at(1s)));
  CHECK(seen[0].next == ms(at(5s)));
  CHECK(seen[1].occurrence == ms(at(5s)));
  CHECK(seen[1].next == ms(at(6s)));
  advance(1s, 100ms);
  seen = occurrences(*log);
  REQUIRE(seen.size() == 3);
  CHECK(seen[2].occurrence == ms(at(6s)));
  CHECK(seen[2].received == at(6s));
}

TEST_CASE_METHOD(actor_fixture, "an alarm source waits when the wall clock lags behind its timer", "[alarm_source]") {
  auto lag = std::make_shared<std::chrono::milliseconds>(0);
  auto lagging_now = [this, lag] { return now() - *lag; };
  auto log = std::make_shared<parent_log>();
  spawn_source_under(*this, log, spec_of(R"({"seconds": 1})", now()), now(), std::nullopt, lagging_now);
  *lag = 300ms;
  advance(1200ms, 100ms);
  CHECK(occurrences(*log).empty());
  advance(100ms, 100ms);
  auto seen = occurrences(*log);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].occurrence == ms(at(1s)));
  CHECK(seen[0].received == at(1300ms));
}
