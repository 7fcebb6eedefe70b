// Time values and schedules from tenants, end to end: what is out of range is refused (or, when already stored,
// started disabled), and a registration's actor answers and stops whatever its schedule.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "store/store.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for fires of an every-second alarm; reached only when something is broken.
constexpr auto fire_timeout = 5s;

/// A CREATE the API must refuse with 400, and the field the error must name.
struct refused_create {
  std::string body;
  std::string field;
};

std::vector<refused_create> refused_creates() {
  return {
    // The reproductions: each was answered 201, and the first four then kept a core busy.
    {R"({"feed":"alarm","cron":"0 0 1 1 *","startDate":9223372036854775807})", "startDate"},
    {R"({"feed":"alarm","cron":"0 0 1 1 *","startDate":8640000000000000})", "startDate"},
    {R"({"feed":"alarm","cron":"0 0 1 1 *","startDate":"9999-12-31T23:59:59Z"})", "startDate"},
    {R"({"feed":"alarm","date":9223372036854775807})", "date"},
    {R"({"feed":"alarm","date":253402300800000})", "date"},
    {R"({"feed":"alarm","cron":"*/5 * * * *","timezone":"localtime"})", "timezone"},
    {R"({"feed":"alarm","cron":"* * * * *","maxTriggers":" 5x"})", "maxTriggers"},
    // Variations.
    {R"({"feed":"alarm","cron":"0 0 1 1 *","startDate":-1})", "startDate"},
    {R"({"feed":"alarm","minutes":5,"stopDate":"+10000-01-01T00:00:00Z"})", "stopDate"},
    {R"({"feed":"alarm","date":"10000-01-01T00:00:00Z"})", "date"},
    {R"({"feed":"alarm","cron":"0 0 30 2 *"})", "cron"},
    {R"({"feed":"alarm","cron":"0 0 29 2 *","startDate":"9997-01-01T00:00:00Z"})", "startDate"},
    {R"({"feed":"alarm","cron":"0 0 1 1 *","strict":true,"startDate":"2029-01-01T00:00:01Z",)"
     R"("stopDate":"2029-12-31T00:00:00Z"})",
     "stopDate"},
    {R"({"feed":"alarm","cron":"* * * * *","timezone":"/etc/localtime"})", "timezone"},
    {R"({"feed":"alarm","cron":"* * * * *","timezone":"posixrules"})", "timezone"},
    {R"({"feed":"alarm","cron":"* * * * *","timezone":"Factory"})", "timezone"},
    {R"({"feed":"alarm","cron":"* * * * *","timezone":"../../../etc/passwd"})", "timezone"},
    {R"({"feed":"alarm","cron":"* * * * *","maxTriggers":"-5"})", "maxTriggers"},
    {R"({"feed":"alarm","cron":"* * * * *","maxTriggers":"0x5"})", "maxTriggers"},
    {R"({"feed":"alarm","cron":"* * * * *","maxTriggers":5.5})", "maxTriggers"},
    {R"({"feed":"alarm","cron":"* * * * *","maxTriggers":"1e3"})", "maxTriggers"},
    {R"({"feed":"alarm","cron":"* * * * *","maxTriggers":1e300})", "maxTriggers"},
    {R"({"feed":"alarm","cron":"* * * * *","maxTriggers":10000000000})", "maxTriggers"},
    {R"({"feed":"alarm","minutes":5270401})", "minutes"},
    {R"({"feed":"alarm","seconds":" 30"})", "seconds"},
    {R"({"feed":"alarm","minutes":5,"batchWindowMs":60001})", "batchWindowMs"},
    {R"({"feed":"webhook","batchSize":"0x5"})", "batchSize"},
    {R"({"feed":"poll","url":"https://api.example.com/items","intervalSeconds":" 5"})", "intervalSeconds"},
    {R"({"feed":"changes","url":"https://couch.example.com","dbname":"db","heartbeatSeconds":5.5})",
     "heartbeatSeconds"},
  };
}

/// Reads `trigger` and checks that it is disabled by the provider for a stored parameter named `field`.
void check_disabled_for(feedrouter_process& fr, const trigger_ref& trigger, const std::string& field) {
  auto read = fr.call(api_request("GET", trigger_path(trigger), alice_key));
  INFO(trigger.qualified() << ": " << read.body);
  REQUIRE(read.status == 200);
  CHECK(json_string_at(read.body, "/status/state") == "disabled");
  CHECK(json_string_at(read.body, "/status/reason/kind") == "AUTO");
  CHECK_THAT(json_string_at(read.body, "/status/reason/message").value_or(""), Contains(field + ":"));
}

/// Reads `trigger`, which must be active, and returns its nextFire ("" when it has none).
std::string next_fire_of(feedrouter_process& fr, const trigger_ref& trigger) {
  auto read = fr.call(api_request("GET", trigger_path(trigger), alice_key));
  INFO(trigger.qualified() << ": " << read.body);
  REQUIRE(read.status == 200);
  CHECK(json_string_at(read.body, "/status/state") == "active");
  return json_string_at(read.body, "/status/nextFire").value_or("");
}

/// Replaces the stored parameters of `trigger` with `params_json`, as a store written by an earlier version that took
/// them would hold them. The process must not be running.
void store_params(const std::string& store_spec, const trigger_ref& trigger, const std::string& params_json) {
  auto store = open_store(store_spec);
  for (auto& record : store->load_all()) {
    if (record.trigger.key() != trigger.key())
      continue;
    record.params_json = params_json;
    store_op op;
    op.record = std::move(record);
    REQUIRE_FALSE(store->commit({op}));
    return;
  }
  FAIL("no stored registration for " << trigger.qualified());
}

} // namespace

TEST_CASE("times, intervals and schedules out of range are refused at CREATE, naming the field", "[e2e][schedule]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "out-of-range"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  for (const auto& bad : refused_creates()) {
    INFO(bad.body);
    auto answer = fr->call(api_request("PUT", trigger_path(trigger), alice_key, bad.body));
    INFO("answer: " << answer.body);
    CHECK(answer.status == 400);
    CHECK(json_string_at(answer.body, "/field") == bad.field);
  }
  // The feed action's CREATE goes through the same validation.
  auto action = fr->call(lifecycle_request("CREATE", trigger, alice_key,
                                           R"("feed":"alarm","cron":"0 0 1 1 *","startDate":9223372036854775807)"));
  CHECK(action.status == 400);
  CHECK(json_string_at(action.body, "/field") == "startDate");
  CHECK(fr->call(api_request("GET", trigger_path(trigger), alice_key)).status == 404);
  fr->stop_cleanly();
}

TEST_CASE("integers given as strings or integral floats are accepted and shown normalized, also after a restart",
          "[e2e][schedule]") {
  e2e_fixture fx;
  const trigger_ref as_string{"alice", "max-as-string"};
  const trigger_ref as_float{"alice", "max-as-float"};
  fx.controller().add_trigger(as_string, std::string{alice_key});
  fx.controller().add_trigger(as_float, std::string{alice_key});
  auto first = fx.start_feedrouter();
  auto created = first->call(api_request("PUT", trigger_path(as_string), alice_key,
                                         R"({"feed":"alarm","cron":"0 0 1 1 *","maxTriggers":"5"})"));
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(json_at(created.body, "/config/maxTriggers") == "5");
  CHECK(json_int_at(created.body, "/status/triggersLeft") == 5);
  created = first->call(api_request("PUT", trigger_path(as_float), alice_key,
                                    R"({"feed":"alarm","minutes":"60","maxTriggers":1000.0})"));
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(json_at(created.body, "/config/maxTriggers") == "1000");
  CHECK(json_at(created.body, "/config/minutes") == "60");
  first->stop_cleanly();
  first.reset();

  auto second = fx.start_feedrouter();
  auto read = second->call(api_request("GET", trigger_path(as_float), alice_key));
  INFO(read.body);
  CHECK(json_string_at(read.body, "/status/state") == "active");
  CHECK(json_at(read.body, "/config/maxTriggers") == "1000");
  CHECK(json_at(read.body, "/config/minutes") == "60");
  second->stop_cleanly();
}

TEST_CASE("registrations stored with times out of range start disabled naming the field, answer and can be deleted",
          "[e2e][schedule]") {
  e2e_fixture fx;
  struct stored_case {
    trigger_ref trigger;
    std::string params_json;
    std::string field;
  };
  const std::vector<stored_case> cases = {
    {{"alice", "start-int64-max"}, R"({"cron":"0 0 1 1 *","startDate":9223372036854775807})", "startDate"},
    {{"alice", "start-js-max"}, R"({"cron":"0 0 1 1 *","startDate":8640000000000000})", "startDate"},
    {{"alice", "date-int64-max"}, R"({"date":9223372036854775807})", "date"},
    {{"alice", "local-zone"}, R"({"cron":"* * * * *","timezone":"localtime"})", "timezone"},
  };
  const trigger_ref healthy{"alice", "every-second"};
  fx.controller().add_trigger(healthy, std::string{alice_key});
  auto first = fx.start_feedrouter();
  for (const auto& c : cases) {
    fx.controller().add_trigger(c.trigger, std::string{alice_key});
    auto body = alarm_body(yearly, "{}");
    REQUIRE(first->call(api_request("PUT", trigger_path(c.trigger), alice_key, body)).status == 201);
  }
  REQUIRE(first->call(api_request("PUT", trigger_path(healthy), alice_key, alarm_body(every_second, "{}"))).status
          == 201);
  first->stop_cleanly();
  first.reset();
  // What an earlier version accepted and stored; on its restart each of these spun a core again.
  for (const auto& c : cases)
    store_params(fx.store_spec(), c.trigger, c.params_json);

  auto second = fx.start_feedrouter();
  for (const auto& c : cases)
    check_disabled_for(*second, c.trigger, c.field);
  // The process goes on with its other work.
  auto fired = fx.fires_of(healthy).size();
  CHECK(fx.wait_for_fires_of(healthy, fired + 2, fire_timeout));
  for (const auto& c : cases) {
    INFO(c.trigger.qualified());
    CHECK(second->call(api_request("DELETE", trigger_path(c.trigger), alice_key)).status == 204);
    CHECK(second->call(api_request("GET", trigger_path(c.trigger), alice_key)).status == 404);
  }
  second->stop_cleanly();
}

TEST_CASE("alarms far in the future are read, replaced and deleted at once, and SIGTERM stops them",
          "[e2e][schedule]") {
  e2e_fixture fx;
  const trigger_ref last_year{"alice", "last-year"};
  const trigger_ref leap_day{"alice", "last-leap-day"};
  const trigger_ref healthy{"alice", "every-second"};
  for (const auto& trigger : {last_year, leap_day, healthy})
    fx.controller().add_trigger(trigger, std::string{alice_key});
  const std::string last_year_body
    = R"({"feed":"alarm","cron":"0 0 1 1 *","strict":true,"startDate":"9999-01-01T00:00:00Z"})";
  const std::string leap_day_body
    = R"({"feed":"alarm","cron":"0 0 29 2 *","timezone":"America/New_York","startDate":"9996-01-01T00:00:00Z"})";

  auto first = fx.start_feedrouter();
  REQUIRE(first->call(api_request("PUT", trigger_path(last_year), alice_key, last_year_body)).status == 201);
  REQUIRE(first->call(api_request("PUT", trigger_path(leap_day), alice_key, leap_day_body)).status == 201);
  REQUIRE(first->call(api_request("PUT", trigger_path(healthy), alice_key, alarm_body(every_second, "{}"))).status
          == 201);
  CHECK(next_fire_of(*first, last_year) == "9999-01-01T00:00:00.000Z");
  CHECK_THAT(next_fire_of(*first, leap_day), Contains("9996-02-29T"));
  auto fired = fx.fires_of(healthy).size();
  CHECK(fx.wait_for_fires_of(healthy, fired + 2, fire_timeout));

  // Replaced by another schedule just as far away, then by itself again.
  auto replaced = first->call(api_request("PUT", trigger_path(last_year), alice_key,
                                          R"({"feed":"alarm","date":"9999-12-31T23:59:59.999Z"})"));
  INFO(replaced.body);
  CHECK(replaced.status == 200);
  CHECK(next_fire_of(*first, last_year) == "9999-12-31T23:59:59.999Z");
  CHECK(first->call(api_request("PUT", trigger_path(last_year), alice_key, last_year_body)).status == 200);
  CHECK(first->call(api_request("DELETE", trigger_path(leap_day), alice_key)).status == 204);
  CHECK(first->call(api_request("GET", trigger_path(leap_day), alice_key)).status == 404);
  first->stop_cleanly();
  first.reset();

  // Restored, it waits again, and goes as readily.
  auto second = fx.start_feedrouter();
  CHECK(next_fire_of(*second, last_year) == "9999-01-01T00:00:00.000Z");
  CHECK(second->call(api_request("DELETE", trigger_path(last_year), alice_key)).status == 204);
  second->stop_cleanly();
}
