// Issue 11, part 4: what one tenant can make the provider hold or do is bounded. Memory for events waiting for a slow
// controller (--max-buffered-bytes), registrations per namespace (--max-registrations-per-namespace), the size of a
// list answer (pages), 429s that say when to come back, and lifecycle requests that do not queue behind fires.

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/time_format.hpp"
#include "store/store.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t mib = 1024 * 1024;

/// The memory budget of the memory test, and what the process may grow beyond it: buffers of requests in progress
/// (each 900 KB event is copied a few times on its way into the store), SQLite's page cache and what the allocator
/// keeps of freed blocks. Without the budget the same events took 270 MB.
constexpr std::size_t test_budget = 16 * mib;
constexpr std::size_t rss_slack = 48 * mib;

/// Returns the line `field` of /proc/PID/status (e.g. "VmRSS") in bytes.
std::size_t status_bytes(pid_t pid, const std::string& field) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  auto prefix = field + ':';
  while (std::getline(status, line))
    if (line.rfind(prefix, 0) == 0)
      return std::stoull(line.substr(prefix.size())) * 1024;
  FAIL("no " << field << " in /proc/" << pid << "/status");
  return 0;
}

/// Returns the resident memory of process `pid` in bytes.
std::size_t resident_bytes(pid_t pid) {
  return status_bytes(pid, "VmRSS");
}

/// Returns the most resident memory process `pid` has had, in bytes: where a passing peak shows.
std::size_t peak_resident_bytes(pid_t pid) {
  return status_bytes(pid, "VmHWM");
}

/// Returns the numbers 1 to `n`.
std::vector<long long> one_to(int n) {
  std::vector<long long> result;
  for (int i = 1; i <= n; ++i)
    result.push_back(i);
  return result;
}

/// Returns the value of the Prometheus sample `name` in `metrics`, or -1 when it is missing.
long long sample(const std::string& metrics, const std::string& name) {
  auto at = metrics.find('\n' + name + ' ');
  if (at == std::string::npos)
    return -1;
  return std::stoll(metrics.substr(at + name.size() + 2));
}

/// Returns the numbers of the events {"n":N,...} in the fire bodies, in order.
std::vector<long long> numbers_of(const std::vector<fake_controller::fire>& fires) {
  std::vector<long long> result;
  for (const auto& fire : fires)
    result.push_back(json_int_at(fire.body, "/n").value_or(-1));
  return result;
}

/// Returns a CREATE body of an alarm that fires once an hour.
std::string hourly_alarm() {
  return R"({"feed":"alarm","minutes":60})";
}

/// Returns the trigger names a list answer shows, in order.
std::vector<std::string> listed_names(const std::string& body) {
  std::vector<std::string> names;
  for (int i = 0;; ++i) {
    auto name = json_string_at(body, "/triggers/" + std::to_string(i) + "/config/triggerName");
    if (!name)
      return names;
    names.push_back(*name);
  }
}

std::string list_target(const std::string& query) {
  return "/v1/triggers/alice" + (query.empty() ? std::string{} : '?' + query);
}

} // namespace

TEST_CASE("300 webhook events of 900 KB waiting for a held controller stay within the memory budget, also after a "
          "restart, and all fire in order once it answers", "[e2e][limits]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "big-events"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--max-buffered-bytes", "16MiB"});
  auto pid = fr->process().pid();
  auto hook = create_webhook(*fr, trigger);
  fx.controller().hold(trigger, 503);
  auto before = resident_bytes(pid);
  constexpr int events = 300;
  const std::string pad(900 * 1000, 'x');
  for (int n = 1; n <= events; ++n)
    post_event(*fr, hook, R"({"n":)" + std::to_string(n) + R"(,"pad":")" + pad + R"("})");
  auto after = resident_bytes(pid);
  INFO("RSS " << before / mib << " MiB before, " << after / mib << " MiB after " << events << " events");
  CHECK(after < before + test_budget + rss_slack);
  auto metrics = fr->call(api_request("GET", "/metrics")).body;
  CHECK(sample(metrics, "feedrouter_buffered_bytes_limit") == static_cast<long long>(test_budget));
  CHECK(sample(metrics, "feedrouter_buffered_bytes") >= 0);
  CHECK(sample(metrics, "feedrouter_buffered_bytes") <= static_cast<long long>(test_budget));
  CHECK(json_int_at(read_registration(*fr, trigger), "/status/pendingEvents") == events);
  // After a restart the events are read from the store once; the registration holds them within the budget again.
  fr->stop_cleanly();
  fr = fx.start_feedrouter({"--max-buffered-bytes", "16MiB"});
  // Answered by the registration itself: it runs, and has taken its pending events.
  CHECK(json_int_at(read_registration(*fr, trigger), "/status/pendingEvents") == events);
  auto restarted = resident_bytes(fr->process().pid());
  INFO("RSS " << restarted / mib << " MiB after the restart");
  CHECK(restarted < before + test_budget + rss_slack);
  // Nothing was lost by keeping the events in the store only: once the controller answers, all of them fire, in the
  // order they were accepted.
  fx.controller().release(trigger);
  REQUIRE(fx.wait_for_fires_of(trigger, events, 120s));
  std::vector<long long> expected;
  for (int n = 1; n <= events; ++n)
    expected.push_back(n);
  CHECK(numbers_of(fx.fires_of(trigger)) == expected);
  fr->stop_cleanly();
}

TEST_CASE("a store holding 300 pending events of 900 KB starts within the memory budget, not even a passing peak "
          "beyond it, and every event fires once, in order", "[e2e][limits]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "big-backlog"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--max-buffered-bytes", "16MiB"});
  create_webhook(*fr, trigger);
  auto idle = resident_bytes(fr->process().pid());
  fr->stop_cleanly();
  // The backlog a slow controller leaves behind, written straight into the store (faster than 300 hook requests).
  constexpr int events = 300;
  const std::string pad(900 * 1000, 'x');
  {
    auto db = open_store(fx.store_spec());
    constexpr int per_commit = 30;
    for (int first = 1; first <= events; first += per_commit) {
      std::vector<store_op> ops;
      for (int n = first; n < first + per_commit; ++n) {
        store_op op;
        op.op = store_op::kind::put_event;
        op.record.trigger = trigger;
        op.event = {static_cast<std::uint64_t>(n), R"({"n":)" + std::to_string(n) + R"(,"pad":")" + pad + R"("})",
                    now_ms()};
        ops.push_back(std::move(op));
      }
      REQUIRE_FALSE(db->commit(ops));
    }
  }
  fx.controller().hold(trigger, 503);
  fr = fx.start_feedrouter({"--max-buffered-bytes", "16MiB"});
  CHECK(json_int_at(read_registration(*fr, trigger), "/status/pendingEvents") == events);
  auto metrics = fr->call(api_request("GET", "/metrics")).body;
  CHECK(sample(metrics, "feedrouter_buffered_bytes") <= static_cast<long long>(test_budget));
  // The registration knows its events by seq and count: their bodies stay in the store, read back within the budget.
  auto peak = peak_resident_bytes(fr->process().pid());
  INFO("RSS " << idle / mib << " MiB idle; " << peak / mib << " MiB at most since the start with " << events
              << " events pending");
  CHECK(peak < idle + test_budget + rss_slack);
  fx.controller().release(trigger);
  REQUIRE(fx.wait_for_fires_of(trigger, events, 120s));
  CHECK(numbers_of(fx.fires_of(trigger)) == one_to(events));
  CHECK(sample(fr->call(api_request("GET", "/metrics")).body, "feedrouter_buffered_bytes") == 0);
  fr->stop_cleanly();
}

TEST_CASE("a webhook sender gets 429 with Retry-After once its registration holds --max-buffered-events events",
          "[e2e][limits]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "full-hook"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--max-buffered-events", "5"});
  auto hook = create_webhook(*fr, trigger);
  fx.controller().hold(trigger, 503);
  for (int n = 1; n <= 5; ++n)
    post_event(*fr, hook, R"({"n":)" + std::to_string(n) + "}");
  auto full = fr->call(signed_hook(hook.hook_target, hook.secret, R"({"n":6})"));
  CHECK(full.status == 429);
  CHECK(full.field("Retry-After") == "1");
  CHECK(json_string_at(full.body, "/error").value_or("").find("retry later") != std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("a namespace at --max-registrations-per-namespace refuses another CREATE with 429 naming the limit and the "
          "namespace, through the REST route and the feed-action route alike", "[e2e][limits]") {
  e2e_fixture fx;
  for (const auto* name : {"a", "b", "c", "d"})
    fx.controller().add_trigger({"alice", name}, std::string{alice_key});
  fx.controller().add_trigger({"bob", "a"}, std::string{bob_key});
  auto fr = fx.start_feedrouter({"--max-registrations-per-namespace", "3"});
  for (const auto* name : {"a", "b", "c"})
    REQUIRE(fr->call(api_request("PUT", trigger_path({"alice", name}), alice_key, hourly_alarm())).status == 201);
  auto refused = fr->call(api_request("PUT", trigger_path({"alice", "d"}), alice_key, hourly_alarm()));
  CHECK(refused.status == 429);
  auto error = json_string_at(refused.body, "/error").value_or("");
  CHECK(error.find("namespace: alice has 3 registrations") != std::string::npos);
  CHECK(error.find("--max-registrations-per-namespace") != std::string::npos);
  CHECK(json_string_at(refused.body, "/field") == "namespace");
  CHECK(refused.field("Retry-After") == "60");
  auto feed_action = fr->call(lifecycle_request("CREATE", {"alice", "d"}, alice_key, R"("feed":"alarm","minutes":60)"));
  CHECK(feed_action.status == 429);
  CHECK(feed_action.field("Retry-After") == "60");
  CHECK(fr->call(api_request("GET", trigger_path({"alice", "d"}), alice_key)).status == 404);
  // Replacing one of the three is no new registration; another namespace has a quota of its own.
  CHECK(fr->call(api_request("PUT", trigger_path({"alice", "a"}), alice_key, hourly_alarm())).status == 200);
  CHECK(fr->call(api_request("PUT", trigger_path({"bob", "a"}), bob_key, hourly_alarm())).status == 201);
  REQUIRE(fr->call(api_request("DELETE", trigger_path({"alice", "b"}), alice_key)).status == 204);
  CHECK(fr->call(api_request("PUT", trigger_path({"alice", "d"}), alice_key, hourly_alarm())).status == 201);
  fr->stop_cleanly();
}

TEST_CASE("GET /v1/triggers/{ns} answers in pages whose cursor holds across creates and deletes between them",
          "[e2e][limits]") {
  e2e_fixture fx;
  auto name_of = [](int i) { return std::string{"t"} + (i < 10 ? "0" : "") + std::to_string(i); };
  for (int i = 1; i <= 30; ++i)
    fx.controller().add_trigger({"alice", name_of(i)}, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  for (int i = 2; i <= 30; i += 2)
    REQUIRE(fr->call(api_request("PUT", trigger_path({"alice", name_of(i)}), alice_key, hourly_alarm())).status
            == 201);
  // 15 registrations: t02, t04, ..., t30.
  auto everything = fr->call(api_request("GET", list_target(""), alice_key));
  CHECK(listed_names(everything.body).size() == 15);
  CHECK_FALSE(json_string_at(everything.body, "/next"));
  auto first = fr->call(api_request("GET", list_target("limit=6"), alice_key));
  REQUIRE(first.status == 200);
  CHECK(listed_names(first.body)
        == std::vector<std::string>{"/alice/t02", "/alice/t04", "/alice/t06", "/alice/t08", "/alice/t10",
                                    "/alice/t12"});
  auto cursor = json_string_at(first.body, "/next");
  REQUIRE(cursor);
  // Between the pages: the last one shown and one not yet shown are deleted, one is created before the cursor and
  // one after it.
  for (const auto& name : {name_of(12), name_of(16)})
    REQUIRE(fr->call(api_request("DELETE", trigger_path({"alice", name}), alice_key)).status == 204);
  for (const auto& name : {name_of(3), name_of(13)})
    REQUIRE(fr->call(api_request("PUT", trigger_path({"alice", name}), alice_key, hourly_alarm())).status == 201);
  std::vector<std::string> rest;
  while (cursor) {
    auto page = fr->call(api_request("GET", list_target("limit=6&cursor=" + *cursor), alice_key));
    REQUIRE(page.status == 200);
    auto names = listed_names(page.body);
    CHECK(names.size() <= 6);
    rest.insert(rest.end(), names.begin(), names.end());
    cursor = json_string_at(page.body, "/next");
  }
  CHECK(rest
        == std::vector<std::string>{"/alice/t13", "/alice/t14", "/alice/t18", "/alice/t20", "/alice/t22",
                                    "/alice/t24", "/alice/t26", "/alice/t28", "/alice/t30"});
  // Bounds, naming the parameter.
  for (const auto* query : {"limit=0", "limit=1001", "limit=many"}) {
    auto bad = fr->call(api_request("GET", list_target(query), alice_key));
    CHECK(bad.status == 400);
    CHECK(json_string_at(bad.body, "/field") == "limit");
  }
  auto bad_cursor = fr->call(api_request("GET", list_target("cursor=not-a-cursor"), alice_key));
  CHECK(bad_cursor.status == 400);
  CHECK(json_string_at(bad_cursor.body, "/field") == "cursor");
  fr->stop_cleanly();
}

TEST_CASE("a CREATE is verified with the controller at once while fires to it queue by the hundred",
          "[e2e][limits]") {
  e2e_fixture fx;
  // The controller takes a minute to answer a fire: the provider's connections to it fill up with fires and more
  // wait for a connection. The authKey check of a CREATE must not wait behind them.
  fx.controller().answer_fires_after(60s);
  constexpr int alarms = 150;
  for (int i = 0; i < alarms; ++i)
    fx.controller().add_trigger({"alice", "tick" + std::to_string(i)}, std::string{alice_key});
  const trigger_ref late{"alice", "late"};
  fx.controller().add_trigger(late, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--fire-timeout", "120"});
  for (int i = 0; i < alarms; ++i)
    REQUIRE(fr->call(api_request("PUT", trigger_path({"alice", "tick" + std::to_string(i)}), alice_key,
                                 alarm_body(every_second, "{}")))
              .status
            == 201);
  // Every alarm has a fire on its way: 64 on the connections, the others waiting for one.
  REQUIRE(poll_until(
    [&] {
      std::size_t attempts = 0;
      for (int i = 0; i < alarms; ++i)
        attempts += fx.controller().attempt_count({"alice", "tick" + std::to_string(i)});
      return attempts >= 64;
    },
    10s));
  auto created = fr->try_call(api_request("PUT", trigger_path(late), alice_key, hourly_alarm()));
  INFO("transport: " << created.error);
  REQUIRE(created.ok());
  CHECK(created.response.status == 201);
  auto read = fr->try_call(api_request("GET", trigger_path(late), alice_key));
  REQUIRE(read.ok());
  CHECK(read.response.status == 200);
  fx.controller().answer_fires_after(0s);
  fr->kill();
}
