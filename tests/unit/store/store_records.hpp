#pragma once

// Registrations as the store tests build and compare them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "store/store.hpp"

namespace feedrouter::test {

using namespace std::chrono_literals;

inline registration_record make_record(std::string ns, std::string name) {
  registration_record rec;
  rec.trigger = {std::move(ns), std::move(name)};
  rec.feed = "alarm";
  rec.params_json = R"({"cron":"*/5 * * * *","trigger_payload":{"text":"grüße, 'quoted' \"and\" \\ back"}})";
  rec.auth_key
    = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
  rec.created = sys_ms{1'700'000'000'123ms};
  rec.status.date_changed = sys_ms{1'700'000'000'456ms};
  return rec;
}

/// A record whose every optional field is set and every value differs from the defaults.
inline registration_record make_full_record(std::string ns, std::string name) {
  auto rec = make_record(std::move(ns), std::move(name));
  auto& st = rec.status;
  st.state = registration_state::disabled;
  st.reason = {reason_kind::automatic, 410, "trigger no longer exists"};
  st.fires = 9'000'000'000; // beyond 32 bits
  st.failures = 7;
  st.last_fired = sys_ms{1'700'000'100'000ms};
  st.triggers_left = 0;
  st.last_occurrence = sys_ms{-86'400'000ms}; // before the epoch
  return rec;
}

/// Compares every stored field but auth_hash, which the store computes itself (see store_secrets_test.cpp).
inline void check_same(const registration_record& x, const registration_record& y) {
  CHECK(x.trigger.ns == y.trigger.ns);
  CHECK(x.trigger.name == y.trigger.name);
  CHECK(x.feed == y.feed);
  CHECK(x.params_json == y.params_json);
  CHECK(x.auth_key == y.auth_key);
  CHECK(x.created == y.created);
  CHECK(x.status.state == y.status.state);
  CHECK(x.status.reason.kind == y.status.reason.kind);
  CHECK(x.status.reason.status_code == y.status.reason.status_code);
  CHECK(x.status.reason.message == y.status.reason.message);
  CHECK(x.status.date_changed == y.status.date_changed);
  CHECK(x.status.fires == y.status.fires);
  CHECK(x.status.failures == y.status.failures);
  CHECK(x.status.last_fired == y.status.last_fired);
  CHECK(x.status.triggers_left == y.status.triggers_left);
  CHECK(x.status.last_occurrence == y.status.last_occurrence);
  CHECK(x.status.dead_letters == y.status.dead_letters);
  CHECK(x.status.checkpoint == y.status.checkpoint);
}

inline void check_same(const stored_event& x, const stored_event& y) {
  CHECK(x.seq == y.seq);
  CHECK(x.body == y.body);
  CHECK(x.accepted == y.accepted);
}

inline void check_same(const dead_letter& x, const dead_letter& y) {
  check_same(x.event, y.event);
  CHECK(x.failed == y.failed);
  CHECK(x.status_code == y.status_code);
  CHECK(x.error == y.error);
  CHECK(x.attempts == y.attempts);
}

/// Returns the loaded registration `trigger`; fails the test when it is missing.
inline registration_record find_loaded(store& db, const trigger_ref& trigger) {
  auto all = db.load_all();
  auto i = std::find_if(all.begin(), all.end(), [&](const auto& x) { return x.trigger == trigger; });
  REQUIRE(i != all.end());
  return *i;
}

} // namespace feedrouter::test
