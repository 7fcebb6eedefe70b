// Cluster mode end to end (docs/cluster.md): several feedrouter processes on one PostgreSQL database, each running
// the shards whose leases it holds. The tests wait for conditions (the cluster's own answers, the fake controller's
// fires, the lease rows), never for a time; the lease TTL only sets how soon those conditions come.

#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/shard.hpp"
#include "core/url.hpp"
#include "net/http_client.hpp"
#include "net/io_runtime.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/e2e_postgres.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/fake_github.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// The lease TTL of the tests that kill or freeze an instance: short, so that takeovers come soon.
constexpr std::string_view short_ttl = "3";

/// The lease TTL of the test of a graceful handover: far longer than the test waits, so only a release explains it.
constexpr std::string_view long_ttl = "120";

/// How long a test waits for a condition of the whole cluster (balanced, taken over, fired) before it fails.
constexpr std::chrono::milliseconds cluster_wait{60'000};

/// How many times each counted alarm fires (maxTriggers): enough to span a takeover in the middle.
constexpr std::int64_t counted_fires = 20;

/// The admin key of the tests that give their instances one.
constexpr std::string_view admin_key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";

/// Returns `req` carrying the admin key.
http_request as_operator(http_request req) {
  req.fields.emplace_back("Authorization", "Bearer " + std::string{admin_key});
  return req;
}

/// A cluster of feedrouter processes on one fresh PostgreSQL database.
class test_cluster {
public:
  /// Whether the instances have an admin key: then GET /v1/cluster is the operators' alone.
  enum class admin { none, key };

  /// A cluster whose instances run with `--lease-ttl ttl` and `extra_args`, and with admin_key when `with` says so.
  test_cluster(e2e_fixture& fx, std::string_view ttl, std::vector<std::string> extra_args = {},
               admin with = admin::none)
    : fx_(fx), store_(postgres_store_args(fx)), admin_(with) {
    store_.insert(store_.end(), {"--lease-ttl", std::string{ttl}});
    store_.insert(store_.end(), extra_args.begin(), extra_args.end());
    if (with == admin::key) {
      auto key_file = fx.file("admin.key");
      std::ofstream{key_file} << admin_key << '\n';
      REQUIRE(::chmod(key_file.c_str(), 0600) == 0);
      store_.insert(store_.end(), {"--admin-key-file", key_file});
    }
    // "postgresql://feedrouter@127.0.0.1:PORT/DB"
    db_ = store_[1].substr(store_[1].rfind('/') + 1);
    // GET /v1/cluster takes any key the controller knows.
    fx.controller().add_trigger({"alice", "cluster-probe"}, std::string{alice_key});
  }

  /// Starts one more instance; returns its index.
  std::size_t start() {
    instances_.push_back(fx_.start_feedrouter(store_));
    return instances_.size() - 1;
  }

  feedrouter_process& at(std::size_t i) {
    return *instances_.at(i);
  }

  std::size_t size() const noexcept {
    return instances_.size();
  }

  /// Returns the request GET /v1/cluster as this cluster's instances take it: with the admin key when they have one,
  /// otherwise with alice's key.
  http_request cluster_request() const {
    if (admin_ == admin::key)
      return as_operator(api_request("GET", "/v1/cluster"));
    return api_request("GET", "/v1/cluster", alice_key);
  }

  /// Returns instance i's id, as it answers GET /v1/cluster.
  std::string id_of(std::size_t i) {
    auto res = at(i).call(cluster_request());
    REQUIRE(res.status == 200);
    auto id = json_string_at(res.body, "/instance");
    REQUIRE(id);
    return *id;
  }

  /// Returns the value of the lease and registration query `sql` on the cluster's database.
  std::string query(const std::string& sql) const {
    return shared_postgres().query_value(db_, sql);
  }

  /// Returns the id of the instance whose lease on `shard` is valid now, or "" when none is.
  std::string owner_of(std::uint32_t shard) const {
    return query("SELECT coalesce(max(owner), '') FROM shard_lease WHERE shard = " + std::to_string(shard)
                 + " AND owner IS NOT NULL AND expires_at > now()");
  }

  /// Returns how many shards `id` holds a valid lease on.
  int shards_of(const std::string& id) const {
    return std::stoi(query("SELECT count(*) FROM shard_lease WHERE owner = '" + id + "' AND expires_at > now()"));
  }

  /// Returns whether each instance in `ids` holds a share of the shards (at least the fair share rounded down less
  /// one, as balancing leaves it) and every shard has a valid lease.
  bool balanced_over(const std::vector<std::string>& ids) const {
    auto least = static_cast<int>(shard_count / ids.size()) - 1;
    int total = 0;
    for (const auto& id : ids) {
      auto held = shards_of(id);
      if (held < least)
        return false;
      total += held;
    }
    return total == static_cast<int>(shard_count);
  }

  /// Returns the first `n` names "PREFIX-K" of alice's triggers whose shard `owner` holds.
  std::vector<trigger_ref> names_owned_by(const std::string& owner, const std::string& prefix, std::size_t n) const {
    std::vector<trigger_ref> result;
    for (int k = 0; result.size() < n; ++k) {
      trigger_ref trigger{"alice", prefix + "-" + std::to_string(k)};
      if (owner_of(shard_of(trigger)) == owner)
        result.push_back(trigger);
    }
    return result;
  }

  /// Returns the registrations table as text, every column of every row: what a write would change.
  std::string registrations_text() const {
    return query("SELECT coalesce(string_agg(r::text, '|' ORDER BY namespace, name), '') FROM registrations r");
  }

private:
  e2e_fixture& fx_;
  std::vector<std::string> store_;
  std::string db_;
  admin admin_;
  std::vector<feedrouter_process_ptr> instances_;
};

/// Returns a CREATE body of an alarm that fires every second, at most `max_triggers` times (-1: no limit).
std::string per_second_alarm(std::int64_t max_triggers) {
  return R"({"feed":"alarm","cron":"* * * * * *","maxTriggers":)" + std::to_string(max_triggers)
         + R"(,"trigger_payload":{"tick":true}})";
}

/// Creates an alarm of alice for `trigger` through `fr` with `body`; requires 201.
void create_alarm(e2e_fixture& fx, feedrouter_process& fr, const trigger_ref& trigger, const std::string& body) {
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto res = fr.call(api_request("PUT", trigger_path(trigger), alice_key, body));
  INFO(res.body);
  REQUIRE(res.status == 201);
}

/// Returns the fire counts of `triggers`, in their order.
std::vector<std::size_t> fire_counts(const e2e_fixture& fx, const std::vector<trigger_ref>& triggers) {
  std::vector<std::size_t> result;
  for (const auto& trigger : triggers)
    result.push_back(fx.fires_of(trigger).size());
  return result;
}

/// Waits until each of `triggers` fired `more` times beyond `since` (its counts, in the same order).
bool wait_for_more_fires(const e2e_fixture& fx, const std::vector<trigger_ref>& triggers,
                         const std::vector<std::size_t>& since, std::size_t more) {
  for (std::size_t i = 0; i < triggers.size(); ++i)
    if (!fx.wait_for_fires_of(triggers[i], since[i] + more, cluster_wait))
      return false;
  return true;
}

/// Returns the trigger names a list answer shows, in order.
std::vector<std::string> listed_names(const std::string& body) {
  std::vector<std::string> names;
  for (int i = 0;; ++i) {
    auto name = json_string_at(body, "/triggers/" + std::to_string(i) + "/config/name");
    if (!name)
      return names;
    names.push_back(*name);
  }
}

std::vector<trigger_ref> joined(std::vector<trigger_ref> a, const std::vector<trigger_ref>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

} // namespace

TEST_CASE("a cluster spreads its shards and registrations over the instances, and any instance answers for any "
          "registration as its owner does",
          "[e2e][pg][cluster]") {
  e2e_fixture fx;
  test_cluster cluster{fx, short_ttl};
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  // Registrations land wherever their names hash to, whichever instance received the CREATE.
  constexpr int registrations = 30;
  std::vector<trigger_ref> triggers;
  for (int k = 0; k < registrations; ++k) {
    triggers.push_back({"alice", "spread-" + std::to_string(k)});
    create_alarm(fx, cluster.at(k % 3), triggers.back(), alarm_body(yearly, R"({"k":)" + std::to_string(k) + "}"));
  }
  std::map<std::string, std::int64_t> expected;
  for (const auto& trigger : triggers)
    ++expected[cluster.owner_of(shard_of(trigger))];
  REQUIRE(expected.size() == 3);
  auto res = cluster.at(0).call(api_request("GET", "/v1/cluster", alice_key));
  REQUIRE(res.status == 200);
  INFO(res.body);
  CHECK(json_string_at(res.body, "/mode") == "cluster");
  CHECK(json_int_at(res.body, "/unownedShards") == 0);
  // Without an admin key a tenant sees counts and ids, never where the instances are.
  CHECK_FALSE(json_at(res.body, "/instances/0/url"));
  std::int64_t total = 0;
  for (int i = 0; i < 3; ++i) {
    auto pointer = "/instances/" + std::to_string(i);
    auto id = json_string_at(res.body, pointer + "/id");
    REQUIRE(id);
    CHECK(json_at(res.body, pointer + "/live") == "true");
    CHECK(json_int_at(res.body, pointer + "/registrations") == expected[*id]);
    CHECK(json_int_at(res.body, pointer + "/shards") >= static_cast<std::int64_t>(shard_count / 3) - 1);
    total += json_int_at(res.body, pointer + "/registrations").value_or(0);
  }
  CHECK(total == registrations);
  // Every request reaches the owner: READ, UPDATE, PAUSE and DELETE through an instance that does not run it.
  std::map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < ids.size(); ++i)
    index_of[ids[i]] = i;
  for (std::size_t k = 0; k < triggers.size(); ++k) {
    const auto& trigger = triggers[k];
    INFO(trigger.qualified());
    auto owner = index_of.at(cluster.owner_of(shard_of(trigger)));
    auto other = (owner + 1) % 3;
    auto third = (owner + 2) % 3;
    auto direct = cluster.at(owner).call(api_request("GET", trigger_path(trigger), alice_key));
    auto forwarded = cluster.at(other).call(api_request("GET", trigger_path(trigger), alice_key));
    REQUIRE(direct.status == 200);
    REQUIRE(forwarded.status == 200);
    CHECK(forwarded.body == direct.body);
    CHECK_FALSE(json_at(forwarded.body, "/stale").has_value());
    // Another key sees nothing, through any instance.
    CHECK(cluster.at(other).call(api_request("GET", trigger_path(trigger), bob_key)).status == 404);
    auto updated = cluster.at(other).call(
      api_request("PATCH", trigger_path(trigger), alice_key, R"({"trigger_payload":{"updated":)" + std::to_string(k)
                                                                 + "}}"));
    REQUIRE(updated.status == 200);
    CHECK(json_int_at(cluster.at(third).call(api_request("GET", trigger_path(trigger), alice_key)).body,
                      "/config/trigger_payload/updated")
          == static_cast<std::int64_t>(k));
    REQUIRE(cluster.at(third).call(api_request("POST", trigger_path(trigger) + "/pause", alice_key)).status == 200);
    CHECK(json_string_at(cluster.at(owner).call(api_request("GET", trigger_path(trigger), alice_key)).body,
                         "/status/state")
          == "paused");
    REQUIRE(cluster.at(other).call(api_request("DELETE", trigger_path(trigger), alice_key)).status == 204);
    for (std::size_t i = 0; i < 3; ++i)
      CHECK(cluster.at(i).call(api_request("GET", trigger_path(trigger), alice_key)).status == 404);
  }
  // Each instance forwarded what it did not run.
  for (std::size_t i = 0; i < 3; ++i)
    CHECK_THAT(cluster.at(i).call(api_request("GET", "/metrics")).body,
               !Catch::Contains("feedrouter_requests_forwarded_total 0\n"));
  for (std::size_t i = 0; i < 3; ++i)
    cluster.at(i).stop_cleanly();
}

TEST_CASE("an instance killed with SIGKILL: its shards are taken over, its alarms fire on without a duplicate, and "
          "every accepted webhook event fires",
          "[e2e][pg][cluster]") {
  e2e_fixture fx;
  test_cluster cluster{fx, short_ttl};
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  // Each instance runs three counted alarms and two webhooks of its own; instance 1 is killed.
  constexpr std::size_t victim = 1;
  std::vector<trigger_ref> alarms;
  std::vector<trigger_ref> victim_alarms;
  std::vector<trigger_ref> hook_triggers;
  std::vector<webhook_registration> hooks;
  for (std::size_t i = 0; i < 3; ++i) {
    for (const auto& trigger : cluster.names_owned_by(ids[i], "alarm", 3)) {
      create_alarm(fx, cluster.at((i + 1) % 3), trigger, per_second_alarm(counted_fires));
      alarms.push_back(trigger);
      if (i == victim)
        victim_alarms.push_back(trigger);
    }
    for (const auto& trigger : cluster.names_owned_by(ids[i], "hook", 2)) {
      fx.controller().add_trigger(trigger, std::string{alice_key});
      // Through its owner: without --public-url a hook URL names the instance that created it.
      hooks.push_back(create_webhook(cluster.at(i), trigger));
      hook_triggers.push_back(trigger);
    }
  }
  // Events go to every hook through every instance, the killed one included until it is gone; each accepted one
  // (202) must fire.
  std::map<std::string, std::set<std::int64_t>> accepted;
  // Answers other than 202 (accepted) and 503 (a takeover under way, retry) from a live instance: a hook that exists
  // must never be answered as if it did not (404), not even while its shard is being taken over.
  std::vector<int> wrong_answers;
  std::int64_t next_event = 0;
  auto post_round = [&](const std::vector<std::size_t>& through) {
    for (std::size_t h = 0; h < hooks.size(); ++h) {
      auto n = next_event++;
      auto& fr = cluster.at(through[static_cast<std::size_t>(n) % through.size()]);
      auto res = fr.try_call(signed_hook(hooks[h].hook_target, hooks[h].secret, R"({"n":)" + std::to_string(n) + "}"));
      if (res.ok() && res.response.status == 202)
        accepted[hook_triggers[h].name].insert(n);
      else if (res.ok() && res.response.status != 503)
        wrong_answers.push_back(res.response.status);
    }
  };
  for (int round = 0; round < 3; ++round)
    post_round({0, 1, 2});
  REQUIRE(wait_for_more_fires(fx, alarms, std::vector<std::size_t>(alarms.size(), 0), 2));
  cluster.at(victim).kill();
  auto at_kill = fire_counts(fx, victim_alarms);
  // Events sent to the survivors during the takeover are accepted once the new owner stores them, or refused (503).
  for (int round = 0; round < 6; ++round)
    post_round({0, 2});
  REQUIRE(poll_until([&] { return cluster.balanced_over({ids[0], ids[2]}); }, cluster_wait));
  CHECK(cluster.shards_of(ids[victim]) == 0);
  CHECK(std::stoi(cluster.query("SELECT count(*) FROM shard_lease WHERE owner = '" + ids[victim] + "'")) == 0);
  auto takeovers = [&](std::size_t i) {
    auto body = cluster.at(i).call(api_request("GET", "/metrics")).body;
    return !Catch::Contains("feedrouter_takeovers_total 0\n").match(body);
  };
  CHECK((takeovers(0) || takeovers(2)));
  // The killed instance's alarms fire on from the new owners.
  REQUIRE(wait_for_more_fires(fx, victim_alarms, at_kill, 2));
  for (int round = 0; round < 3; ++round)
    post_round({0, 2});
  CHECK(wrong_answers.empty());
  for (std::size_t h = 0; h < hooks.size(); ++h) {
    const auto& events = accepted[hook_triggers[h].name];
    INFO(hook_triggers[h].qualified() << ": " << events.size() << " events accepted");
    CHECK(events.size() >= 6);
    REQUIRE(poll_until(
      [&] {
        std::set<std::int64_t> fired;
        for (const auto& fire : fx.fires_of(hook_triggers[h]))
          if (auto n = json_int_at(fire.body, "/n"))
            fired.insert(*n);
        for (auto n : events)
          if (fired.count(n) == 0)
            return false;
        return true;
      },
      cluster_wait));
  }
  // Every counted alarm runs to its end: maxTriggers occurrences taken, each fired at most once. One taken by the
  // killed instance may have been on its way (taken, never fired: rule 5.4 says at most once).
  for (const auto& trigger : alarms) {
    INFO(trigger.qualified());
    REQUIRE(poll_until(
      [&] {
        auto res = cluster.at(0).call(api_request("GET", trigger_path(trigger), alice_key));
        return res.status == 200 && json_int_at(res.body, "/status/triggersLeft") == 0;
      },
      cluster_wait));
    auto fired = static_cast<std::int64_t>(fx.fires_of(trigger).size());
    CHECK(fired <= counted_fires);
    CHECK(fired >= counted_fires - 1);
  }
  cluster.at(0).stop_cleanly();
  cluster.at(2).stop_cleanly();
}

TEST_CASE("a frozen owner resumed after its shards were taken over fires nothing and writes nothing",
          "[e2e][pg][cluster]") {
  e2e_fixture fx;
  // One fire of a registration on the wire at a time: the frozen instance holds webhook events it has not sent yet.
  test_cluster cluster{fx, short_ttl, {"--fire-window", "1"}};
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  auto frozen_alarms = cluster.names_owned_by(ids[0], "alarm", 3);
  auto other_alarms = cluster.names_owned_by(ids[1], "alarm", 3);
  auto alarms = joined(frozen_alarms, other_alarms);
  for (const auto& trigger : alarms)
    create_alarm(fx, cluster.at(1), trigger, per_second_alarm(-1));
  // A webhook of the frozen instance: its first fire is answered only after a while, so the events after it wait
  // in that instance, stored and not yet sent, when it freezes.
  auto hook_trigger = cluster.names_owned_by(ids[0], "hook", 1).at(0);
  fx.controller().add_trigger(hook_trigger, std::string{alice_key});
  fx.controller().script(hook_trigger, {fake_controller::scripted_answer::after(2'000ms, 200)});
  auto hook = create_webhook(cluster.at(0), hook_trigger);
  constexpr int events = 3;
  for (int n = 0; n < events; ++n)
    post_event(cluster.at(0), hook, R"({"n":)" + std::to_string(n) + "}");
  REQUIRE(poll_until([&] { return fx.controller().attempt_count(hook_trigger) == 1; }, cluster_wait));
  REQUIRE(wait_for_more_fires(fx, alarms, std::vector<std::size_t>(alarms.size(), 0), 1));
  // Frozen: its timers and its lease renewals stop; instance 1 takes every shard once the leases expire.
  cluster.at(0).process().send_signal(SIGSTOP);
  REQUIRE(poll_until([&] { return cluster.shards_of(ids[1]) == static_cast<int>(shard_count); }, cluster_wait));
  REQUIRE(wait_for_more_fires(fx, frozen_alarms, fire_counts(fx, frozen_alarms), 2));
  // The new owner fires the stored events, the one on the wire at the freeze again (rule 5.5).
  REQUIRE(poll_until(
    [&] {
      std::set<std::int64_t> fired;
      for (const auto& fire : fx.fires_of(hook_trigger))
        if (auto n = json_int_at(fire.body, "/n"))
          fired.insert(*n);
      return fired.size() == events;
    },
    cluster_wait));
  // Nothing may fire from here on: every registration is paused, by the new owner.
  for (const auto& trigger : joined(alarms, {hook_trigger}))
    REQUIRE(cluster.at(1).call(api_request("POST", trigger_path(trigger) + "/pause", alice_key)).status == 200);
  auto paused_fires = fire_counts(fx, alarms);
  auto paused_attempts = fx.controller().attempt_count(hook_trigger);
  auto paused_rows = cluster.registrations_text();
  // Resumed, the frozen instance finds its leases gone, stops its shards and joins again for a share.
  cluster.at(0).process().send_signal(SIGCONT);
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  REQUIRE(poll_until([&] { return cluster.at(0).call(api_request("GET", "/ready")).status == 200; }, cluster_wait));
  auto metrics = cluster.at(0).call(api_request("GET", "/metrics"));
  CHECK_THAT(metrics.body, Catch::Contains("feedrouter_lease_losses_total"));
  CHECK_THAT(metrics.body, !Catch::Contains("feedrouter_lease_losses_total 0\n"));
  CHECK(fire_counts(fx, alarms) == paused_fires);
  // Its held events would have gone out once the answer to the first arrived, had the fence not closed.
  CHECK(fx.controller().attempt_count(hook_trigger) == paused_attempts);
  CHECK(cluster.registrations_text() == paused_rows);
  for (const auto& trigger : alarms)
    CHECK(json_string_at(cluster.at(0).call(api_request("GET", trigger_path(trigger), alice_key)).body,
                         "/status/state")
          == "paused");
  cluster.at(0).stop_cleanly();
  cluster.at(1).stop_cleanly();
}

TEST_CASE("a joining instance takes its share, and SIGTERM hands an instance's shards over at once, without an "
          "alarm occurrence fired twice",
          "[e2e][pg][cluster]") {
  e2e_fixture fx;
  // Leases that outlast the test: a shard moves only because its holder gave it away.
  test_cluster cluster{fx, long_ttl};
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  auto leaving_alarms = cluster.names_owned_by(ids[0], "alarm", 3);
  auto staying_alarms = cluster.names_owned_by(ids[1], "alarm", 3);
  auto alarms = joined(leaving_alarms, staying_alarms);
  for (const auto& trigger : alarms)
    create_alarm(fx, cluster.at(1), trigger, per_second_alarm(counted_fires));
  REQUIRE(wait_for_more_fires(fx, alarms, std::vector<std::size_t>(alarms.size(), 0), 2));
  // A third instance joins: the others give it a share of their shards.
  ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  REQUIRE(wait_for_more_fires(fx, alarms, fire_counts(fx, alarms), 2));
  // SIGTERM: instance 0 releases every lease before it exits.
  auto before_exit = fire_counts(fx, alarms);
  cluster.at(0).stop_cleanly();
  CHECK(std::stoi(cluster.query("SELECT count(*) FROM shard_lease WHERE owner = '" + ids[0] + "'")) == 0);
  REQUIRE(poll_until([&] { return cluster.balanced_over({ids[1], ids[2]}); }, cluster_wait));
  REQUIRE(wait_for_more_fires(fx, alarms, before_exit, 2));
  // Each alarm runs to its end; every handover was graceful, so each occurrence taken fired, at most once. An
  // occurrence being recorded as taken while its shard was given away is dropped (rule 5.4: at most once).
  for (const auto& trigger : alarms) {
    INFO(trigger.qualified());
    REQUIRE(poll_until(
      [&] {
        auto res = cluster.at(1).call(api_request("GET", trigger_path(trigger), alice_key));
        return res.status == 200 && json_int_at(res.body, "/status/triggersLeft") == 0;
      },
      cluster_wait));
    auto fired = static_cast<std::int64_t>(fx.fires_of(trigger).size());
    CHECK(fired <= counted_fires);
    CHECK(fired >= counted_fires - 2);
  }
  cluster.at(1).stop_cleanly();
  cluster.at(2).stop_cleanly();
}

TEST_CASE("PostgreSQL restarted under a cluster: the instances stop their shards and answer /ready 503 while it is "
          "gone, then take the shards again and fire on, no alarm occurrence twice",
          "[e2e][pg][cluster]") {
  e2e_fixture fx;
  test_cluster cluster{fx, short_ttl};
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  auto alarms = joined(cluster.names_owned_by(ids[0], "alarm", 3), cluster.names_owned_by(ids[1], "alarm", 3));
  for (const auto& trigger : alarms)
    create_alarm(fx, cluster.at(1), trigger, per_second_alarm(counted_fires));
  REQUIRE(wait_for_more_fires(fx, alarms, std::vector<std::size_t>(alarms.size(), 0), 2));
  auto ready_of = [&](std::size_t i) { return cluster.at(i).call(api_request("GET", "/ready")); };
  shared_postgres().stop();
  // Leases cannot be renewed: each instance closes its shards at their deadlines and says so.
  for (std::size_t i = 0; i < 2; ++i) {
    REQUIRE(poll_until(
      [&] {
        auto res = ready_of(i);
        return res.status == 503 && json_int_at(res.body, "/shards") == 0;
      },
      cluster_wait));
  }
  shared_postgres().start();
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  for (std::size_t i = 0; i < 2; ++i)
    REQUIRE(poll_until([&] { return ready_of(i).status == 200; }, cluster_wait));
  REQUIRE(wait_for_more_fires(fx, alarms, fire_counts(fx, alarms), 1));
  // Occurrences that fell due while no instance could record them are skipped (rule 5.4); none fires twice.
  for (const auto& trigger : alarms) {
    INFO(trigger.qualified());
    REQUIRE(poll_until(
      [&] {
        auto res = cluster.at(0).call(api_request("GET", trigger_path(trigger), alice_key));
        return res.status == 200 && json_int_at(res.body, "/status/triggersLeft") == 0;
      },
      cluster_wait));
    CHECK(static_cast<std::int64_t>(fx.fires_of(trigger).size()) <= counted_fires);
  }
  for (std::size_t i = 0; i < 2; ++i)
    cluster.at(i).stop_cleanly();
}

TEST_CASE("in a cluster the namespace quota counts every instance's registrations, and list pages are read from the "
          "store",
          "[e2e][pg][cluster]") {
  e2e_fixture fx;
  test_cluster cluster{fx, short_ttl, {"--max-registrations-per-namespace", "3"}};
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  // Two registrations on instance 0's shards and one on instance 1's: the namespace is at its quota of 3, though
  // neither instance runs 3.
  auto on_first = cluster.names_owned_by(ids[0], "quota", 3);
  auto on_second = cluster.names_owned_by(ids[1], "quota", 2);
  create_alarm(fx, cluster.at(0), on_first[0], alarm_body(yearly, "{}"));
  create_alarm(fx, cluster.at(1), on_first[1], alarm_body(yearly, "{}"));
  create_alarm(fx, cluster.at(0), on_second[0], alarm_body(yearly, "{}"));
  for (const auto& fresh : {on_first[2], on_second[1]}) {
    fx.controller().add_trigger(fresh, std::string{alice_key});
    for (std::size_t i = 0; i < 2; ++i) {
      auto refused = cluster.at(i).call(api_request("PUT", trigger_path(fresh), alice_key, alarm_body(yearly, "{}")));
      INFO(fresh.qualified() << " through instance " << i << ": " << refused.body);
      CHECK(refused.status == 429);
      CHECK_THAT(refused.body, Catch::Contains("--max-registrations-per-namespace"));
      CHECK(refused.field("Retry-After") == "60");
    }
  }
  // Replacing a registration adds none; a DELETE makes room.
  CHECK(cluster.at(1).call(api_request("PUT", trigger_path(on_first[0]), alice_key, alarm_body(yearly, "{}"))).status
        == 200);
  REQUIRE(cluster.at(1).call(api_request("DELETE", trigger_path(on_second[0]), alice_key)).status == 204);
  create_alarm(fx, cluster.at(0), on_second[1], alarm_body(yearly, "{}"));
  // A key's list in pages, through either instance, in name order with the cursor of the next page.
  std::vector<std::string> expected{on_first[0].name, on_first[1].name, on_second[1].name};
  std::sort(expected.begin(), expected.end());
  for (std::size_t i = 0; i < 2; ++i) {
    auto first = cluster.at(i).call(api_request("GET", "/v1/triggers/alice?limit=2", alice_key));
    REQUIRE(first.status == 200);
    INFO(first.body);
    CHECK(listed_names(first.body) == std::vector<std::string>{expected[0], expected[1]});
    auto cursor = json_string_at(first.body, "/next");
    REQUIRE(cursor);
    auto second = cluster.at(i).call(api_request("GET", "/v1/triggers/alice?limit=2&cursor=" + *cursor, alice_key));
    REQUIRE(second.status == 200);
    CHECK(listed_names(second.body) == std::vector<std::string>{expected[2]});
    CHECK_FALSE(json_string_at(second.body, "/next"));
  }
  for (std::size_t i = 0; i < 2; ++i)
    cluster.at(i).stop_cleanly();
}

namespace {

std::string admin_path(const trigger_ref& trigger, std::string_view action = {}) {
  auto path = "/v1/admin/triggers/" + trigger.ns + '/' + trigger.name;
  return action.empty() ? path : path + '/' + std::string{action};
}

/// Returns every registration an operator's list through `fr` shows ("/ns/name"), reading it in pages of two.
std::vector<std::string> admin_list(feedrouter_process& fr) {
  std::vector<std::string> names;
  std::string target = "/v1/admin/triggers?limit=2";
  for (;;) {
    auto page = fr.call(as_operator(api_request("GET", target)));
    REQUIRE(page.status == 200);
    for (int i = 0;; ++i) {
      auto name = json_string_at(page.body, "/triggers/" + std::to_string(i) + "/config/triggerName");
      if (!name)
        break;
      names.push_back(*name);
    }
    auto next = json_string_at(page.body, "/next");
    if (!next)
      return names;
    target = "/v1/admin/triggers?limit=2&cursor=" + *next;
  }
}

} // namespace

TEST_CASE("in a cluster an operator lists and counts every instance's registrations and disables and enables any of "
          "them through any instance, and an ADMIN disable holds when another instance takes the registration over",
          "[e2e][pg][cluster][admin]") {
  e2e_fixture fx;
  test_cluster cluster{fx, short_ttl, {}, test_cluster::admin::key};
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));

  // With an admin key GET /v1/cluster is the operators' alone, and shows them where the instances are.
  CHECK(cluster.at(0).call(api_request("GET", "/v1/cluster", alice_key)).status == 401);
  auto shown = cluster.at(0).call(cluster.cluster_request());
  REQUIRE(shown.status == 200);
  std::set<std::string> urls;
  for (int i = 0; i < 3; ++i)
    urls.insert(json_string_at(shown.body, "/instances/" + std::to_string(i) + "/url").value_or(""));
  CHECK(urls == std::set<std::string>{cluster.at(0).base_url(), cluster.at(1).base_url(), cluster.at(2).base_url()});

  // An alarm of alice on each instance's shards, a second one on the victim's, and one of bob's.
  constexpr std::size_t victim = 1;
  std::vector<trigger_ref> spam;
  for (std::size_t i = 0; i < 3; ++i) {
    spam.push_back(cluster.names_owned_by(ids[i], "spam", 1).at(0));
    create_alarm(fx, cluster.at(i), spam.back(), per_second_alarm(-1));
  }
  auto witness = cluster.names_owned_by(ids[victim], "witness", 1).at(0);
  create_alarm(fx, cluster.at(0), witness, per_second_alarm(-1));
  const trigger_ref bobs{"bob", "yearly"};
  fx.controller().add_trigger(bobs, std::string{bob_key});
  REQUIRE(cluster.at(2).call(api_request("PUT", trigger_path(bobs), bob_key, alarm_body(yearly, "{}"))).status == 201);

  // Every instance lists every instance's registrations, in name order and in pages, and counts the namespaces.
  std::vector<std::string> expected{"/bob/yearly", "/alice/" + witness.name};
  for (const auto& trigger : spam)
    expected.push_back("/alice/" + trigger.name);
  std::sort(expected.begin(), expected.end());
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("through instance " << i);
    CHECK(admin_list(cluster.at(i)) == expected);
    auto counts = cluster.at(i).call(as_operator(api_request("GET", "/v1/admin/namespaces")));
    CHECK(counts.body
          == R"({"namespaces":[{"namespace":"alice","registrations":4},{"namespace":"bob","registrations":1}]})");
    auto bob_only = cluster.at(i).call(as_operator(api_request("GET", "/v1/admin/triggers?namespace=bob")));
    CHECK(json_string_at(bob_only.body, "/triggers/0/config/triggerName") == "/bob/yearly");
    CHECK_FALSE(json_at(bob_only.body, "/triggers/1"));
  }
  auto wrong = api_request("GET", "/v1/admin/namespaces");
  wrong.fields.emplace_back("Authorization", "Bearer not-the-key");
  CHECK(cluster.at(1).call(wrong).status == 401);

  // The victim's registration is disabled through an instance that does not run it: its owner applies it.
  const auto& disabled_one = spam[victim];
  REQUIRE(fx.wait_for_fires_of(disabled_one, 1, cluster_wait));
  auto disabled = cluster.at((victim + 1) % 3)
                    .call(as_operator(api_request("POST", admin_path(disabled_one, "disable"), {},
                                                  R"({"message":"spam reported"})")));
  INFO(disabled.body);
  REQUIRE(disabled.status == 200);
  CHECK(json_string_at(disabled.body, "/status/state") == "disabled");
  CHECK(json_string_at(disabled.body, "/status/reason/kind") == "ADMIN");
  // A fire on the wire as the disable came may still land; none after it, while the others fire on.
  const std::vector<trigger_ref> clocks{spam[0], spam[2]};
  REQUIRE(wait_for_more_fires(fx, clocks, fire_counts(fx, clocks), 2));
  auto after_disable = fx.fires_of(disabled_one).size();
  REQUIRE(wait_for_more_fires(fx, clocks, fire_counts(fx, clocks), 2));
  CHECK(fx.fires_of(disabled_one).size() == after_disable);
  for (std::size_t i = 0; i < 3; ++i) {
    auto lifted = cluster.at(i).call(api_request("POST", trigger_path(disabled_one) + "/resume", alice_key));
    CHECK(lifted.status == 409);
    CHECK_THAT(lifted.body, Catch::Contains("ADMIN") && Catch::Contains("spam reported"));
  }
  auto read = cluster.at((victim + 2) % 3).call(as_operator(api_request("GET", admin_path(disabled_one))));
  CHECK(read.status == 200);
  CHECK(json_string_at(read.body, "/status/reason/kind") == "ADMIN");
  CHECK_FALSE(json_at(read.body, "/stale"));

  // The owner dies: whoever takes the registration over starts it disabled, and only an operator lifts that.
  cluster.at(victim).kill();
  REQUIRE(poll_until([&] { return cluster.balanced_over({ids[0], ids[2]}); }, cluster_wait));
  REQUIRE(wait_for_more_fires(fx, {witness}, fire_counts(fx, {witness}), 2));
  std::vector<std::size_t> survivors{0, 2};
  REQUIRE(poll_until(
    [&] {
      auto res = cluster.at(survivors[0]).call(as_operator(api_request("GET", admin_path(disabled_one))));
      return res.status == 200 && !json_at(res.body, "/stale");
    },
    cluster_wait));
  for (auto i : survivors) {
    auto taken_over = cluster.at(i).call(as_operator(api_request("GET", admin_path(disabled_one))));
    CHECK(json_string_at(taken_over.body, "/status/state") == "disabled");
    CHECK(json_string_at(taken_over.body, "/status/reason/message") == "spam reported");
    CHECK(cluster.at(i).call(api_request("POST", trigger_path(disabled_one) + "/resume", alice_key)).status == 409);
  }
  REQUIRE(wait_for_more_fires(fx, clocks, fire_counts(fx, clocks), 2));
  CHECK(fx.fires_of(disabled_one).size() == after_disable);
  auto new_owner = cluster.owner_of(shard_of(disabled_one));
  auto through = new_owner == ids[0] ? survivors[1] : survivors[0];
  auto enabled = cluster.at(through).call(as_operator(api_request("POST", admin_path(disabled_one, "enable"))));
  INFO(enabled.body);
  CHECK(enabled.status == 200);
  CHECK(json_string_at(enabled.body, "/status/state") == "active");
  CHECK(fx.wait_for_fires_of(disabled_one, after_disable + 1, cluster_wait));
  for (auto i : survivors)
    cluster.at(i).stop_cleanly();
}

namespace {

constexpr char github_token[] = "ghp_alicesTokenForTheFakeGitHub0123456789";
constexpr char github_repository[] = "octocat/hello-world";

/// Sends `req` to `base_url` on a client of `io` and returns the future result: a request that may take longer than
/// the test client's exchange allows, sent while the test moves the cluster under it.
std::future<client_result> send_later(io_runtime& io, const std::string& base_url, http_request req) {
  auto client = make_http_client(io);
  client_request creq;
  creq.destination = parse_url(base_url + req.target, "url").value();
  creq.message = std::move(req);
  creq.timeout = cluster_wait;
  auto done = std::make_shared<std::promise<client_result>>();
  auto result = done->get_future();
  // The completion holds the client until the exchange ends.
  client->send(std::move(creq), [done, client](client_result r) { done->set_value(std::move(r)); });
  return result;
}

} // namespace

TEST_CASE("a github CREATE during which the registration's shard moves to another instance ends with one hook at "
          "GitHub, installed and stored by the shard's new owner",
          "[e2e][pg][cluster][github]") {
  e2e_fixture fx;
  io_runtime io;
  fake_github github{io};
  github.add_token(github_token);
  github.add_repository(github_repository);
  // Leases that outlast the test: the shard moves only because its holder gives it to a joining instance.
  test_cluster cluster{fx, long_ttl};
  auto first = cluster.id_of(cluster.start());
  REQUIRE(poll_until([&] { return cluster.shards_of(first) == static_cast<int>(shard_count); }, cluster_wait));
  // An instance above its share gives away its highest shards first: a joiner takes this registration's.
  trigger_ref trigger{"alice", "repo"};
  for (int k = 0; shard_of(trigger) != shard_count - 1; ++k)
    trigger.name = "repo-" + std::to_string(k);
  fx.controller().add_trigger(trigger, std::string{alice_key});

  // GitHub creates the hook and pings it, and holds its answer while the shard moves.
  github.hold_creates();
  auto body = R"({"feed":"github","repository":")" + std::string{github_repository} + R"(","accessToken":")"
              + github_token + R"(","events":"push","apiUrl":")" + github.url() + R"("})";
  auto creating = send_later(io, cluster.at(0).base_url(), api_request("PUT", trigger_path(trigger), alice_key, body));
  REQUIRE(github.wait_for_held_creates(1, cluster_wait));
  REQUIRE(github.deliveries().size() == 1);
  CHECK(github.deliveries().front().status == 202);
  auto second = cluster.id_of(cluster.start());
  REQUIRE(poll_until([&] { return cluster.owner_of(shard_count - 1) == second; }, cluster_wait));
  github.release_creates();

  // The first instance cannot store the registration under the lease it gave away: it removes the hook it had
  // installed, and the CREATE goes to the new owner, which installs a hook of its own and stores it.
  auto created = creating.get();
  REQUIRE(created.ok());
  INFO(created.response.body);
  CHECK(created.response.status == 201);
  REQUIRE(poll_until([&] { return github.hooks(github_repository).size() == 1; }, cluster_wait));
  auto hook = github.hooks(github_repository).front();
  CHECK(json_int_at(created.response.body, "/config/githubHookId") == hook.id);
  CHECK(json_string_at(created.response.body, "/status/hookUrl") == hook.url);
  CHECK(hook.url.rfind(cluster.at(1).base_url(), 0) == 0);
  for (const auto& ping : github.deliveries())
    CHECK(ping.status == 202);
  for (std::size_t i = 0; i < 2; ++i) {
    auto read = cluster.at(i).call(api_request("GET", trigger_path(trigger), alice_key));
    CHECK(read.status == 200);
    CHECK(json_int_at(read.body, "/config/githubHookId") == hook.id);
  }
  // The hook works: a push reaches the registration and fires once.
  auto push = github.deliver(github_repository, "push", R"({"ref":"refs/heads/main"})");
  REQUIRE(push.size() == 1);
  CHECK(push.front().status == 202);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, cluster_wait));
  // DELETE through the instance that no longer runs it removes the one hook.
  CHECK(cluster.at(0).call(api_request("DELETE", trigger_path(trigger), alice_key)).status == 204);
  CHECK(github.hooks(github_repository).empty());
  cluster.at(0).stop_cleanly();
  cluster.at(1).stop_cleanly();
}

TEST_CASE("in a cluster a namespace's fire rate is shared by the instances that run its registrations",
          "[e2e][pg][cluster][rate]") {
  e2e_fixture fx;
  // Two fires a second for a namespace, one second of burst; each instance's rounds (a second apart) recount the split.
  constexpr std::int64_t rate = 2;
  test_cluster cluster{fx, short_ttl, {"--namespace-fire-rate", std::to_string(rate)}};
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i)
    ids.push_back(cluster.id_of(cluster.start()));
  REQUIRE(poll_until([&] { return cluster.balanced_over(ids); }, cluster_wait));
  // Alice's four per-second alarms, two on each instance, ask for twice her rate; bob's one alarm is the test's clock.
  auto paced = joined(cluster.names_owned_by(ids[0], "paced", 2), cluster.names_owned_by(ids[1], "paced", 2));
  for (const auto& trigger : paced)
    create_alarm(fx, cluster.at(0), trigger, per_second_alarm(-1));
  const trigger_ref clock{"bob", "clock"};
  fx.controller().add_trigger(clock, std::string{bob_key});
  REQUIRE(cluster.at(1).call(api_request("PUT", trigger_path(clock), bob_key, per_second_alarm(-1))).status == 201);
  REQUIRE(wait_for_more_fires(fx, paced, std::vector<std::size_t>(paced.size(), 0), 1));
  // A few rounds later every instance has counted alice's registrations; then ten seconds of bob's clock.
  auto start = fx.fires_of(clock).size() + 3;
  constexpr std::size_t window_ticks = 10;
  REQUIRE(fx.wait_for_fires_of(clock, start + window_ticks + 1, cluster_wait));
  auto ticks = fx.fires_of(clock);
  auto from = ticks[start].received_at;
  auto to = ticks[start + window_ticks].received_at;
  std::size_t fired = 0;
  for (const auto& trigger : paced) {
    std::size_t of_this = 0;
    for (const auto& fire : fx.fires_of(trigger))
      if (fire.received_at >= from && fire.received_at <= to)
        ++of_this;
    INFO(trigger.qualified());
    CHECK(of_this > 0);
    fired += of_this;
  }
  auto seconds = std::chrono::duration<double>(to - from).count();
  INFO(fired << " fires of alice's in " << seconds << " s");
  // Each instance may fire at half the rate, with half the burst; a fire either side of the window's edges is slack.
  // Each instance with the whole rate would fire about twice as many.
  CHECK(static_cast<double>(fired) <= rate * seconds + rate + 2);
  for (std::size_t i = 0; i < 2; ++i)
    cluster.at(i).stop_cleanly();
}
