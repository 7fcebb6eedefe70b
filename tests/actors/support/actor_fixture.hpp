#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/registry.hpp"
#include "actors/store_actor.hpp"
#include "actors/trigger_env.hpp"
#include "app/api_answers.hpp"
#include "core/json.hpp"
#include "core/registration.hpp"
#include "core/time_format.hpp"
#include "core/trigger_ref.hpp"
#include "fake_http_client.hpp"
#include "fake_store.hpp"

namespace feedrouter::test {

using namespace std::chrono_literals;

/// The owner's authKey in most tests, and the Authorization header its fires carry (base64 of "user:pass").
inline const std::string owner_key = "user:pass";
inline const std::string owner_authorization = "Basic dXNlcjpwYXNz";

/// Another caller's authKey.
inline const std::string other_key = "intruder:secret";

/// The base of hook URLs in tests.
inline const std::string test_public_url = "https://feeds.test";

/// The jitter source's value unless a test sets another: full jitter then yields half the ceiling, rounded down
/// (250 ms after a first failure with the default 500 ms first delay, 500 ms after the second, ...).
inline constexpr std::uint64_t half_random = std::uint64_t{1} << 63;

/// A value of the jitter source that makes full jitter yield the whole ceiling.
inline constexpr std::uint64_t max_random = ~std::uint64_t{0};

/// A webhook secret for tests (webhook secrets need at least 16 characters).
inline const std::string test_secret = "0123456789abcdef-test-secret";

/// An answer of the registry or a trigger as the control API sends it: status and JSON body (app/api_answers.hpp).
struct api_reply {
  int status = 0;
  std::string body;
  std::string retry_after; ///< the Retry-After header; empty when none
};

/// Returns `result` as the control API would answer it.
api_reply reply_of(const api_result& result);

/// Returns where the simulated wall clock starts: 2026-01-01T00:00:00Z.
sys_ms test_epoch();

/// Returns the OpenWhisk API base the fires go to: http://controller.test:3233.
url test_api_host();

/// Returns the members of the JSON object `json`; throws on malformed text (a bug in the test).
json_members params(std::string_view json);

/// Returns the validated alarm config of `params_json` for `trigger`, judged at `now` as a CREATE would.
feed_config alarm_config(std::string_view params_json, sys_ms now, const trigger_ref& trigger);

/// Returns a freshly created, active registration of `trigger` as CREATE stores it.
registration_record make_record(const trigger_ref& trigger, std::string_view params_json, sys_ms now,
                                const std::string& auth_key = owner_key);

/// Returns the validated webhook config of `params_json` (which must carry hookId and secret) for `trigger`.
feed_config webhook_config(std::string_view params_json, sys_ms now, const trigger_ref& trigger);

/// Returns a freshly created, active webhook registration of `trigger` with hook id `hook_id`, secret test_secret and
/// the other parameters in `params_json`, as CREATE stores it.
registration_record make_webhook_record(const trigger_ref& trigger, const std::string& hook_id,
                                        std::string_view params_json, sys_ms now,
                                        const std::string& auth_key = owner_key);

/// Returns a webhook request for `hook_id` as the control API passes it on, signed with `secret` (hmac-sha256 in
/// X-Hub-Signature-256) and carrying the extra headers `fields`.
api_command hook_command(const std::string& hook_id, std::string body, const std::string& secret = test_secret,
                         http_fields fields = {});

/// Returns a lifecycle request as the control API would pass it on.
api_command command(api_op op, const trigger_ref& trigger, const std::string& auth_key = owner_key,
                    std::string_view params_json = "{}", std::string feed = "alarm");

/// Returns the raw JSON found at `path` ("status.reason.kind") in the JSON object `json`, or nullopt.
std::optional<std::string> json_at(std::string_view json, std::string_view path);

/// Returns the string at `path` in `json`, or nullopt when absent or not a string.
std::optional<std::string> json_string_at(std::string_view json, std::string_view path);

/// Returns the integer at `path` in `json`, or nullopt when absent or not an integer.
std::optional<std::int64_t> json_int_at(std::string_view json, std::string_view path);

/// The answer a probe actor got to one request.
template <class T>
struct reply_slot {
  std::optional<T> value;
  std::optional<caf::error> error;

  bool arrived() const noexcept {
    return value || error;
  }
};

template <class T>
using reply_slot_ptr = std::shared_ptr<reply_slot<T>>;

/// What a child actor under test sent to the stand-in parent that spawned it.
struct parent_log {
  caf::actor child;
  std::vector<caf::message> messages; ///< everything but exit messages, in arrival order
  std::vector<sys_ms> received;       ///< simulated wall-clock arrival time of each message
  std::vector<caf::error> exits;      ///< exit reasons of the child, linked or monitored (a default error: normal exit)

  /// Returns the indexes of the messages whose first element is `atom`.
  std::vector<std::size_t> find(caf::atom_value atom) const;
};

using parent_log_ptr = std::shared_ptr<parent_log>;

/// A deterministic actor system for actor tests: the testing scheduler, a simulated wall clock that moves with the
/// scheduler's clock, a fake HTTP client, and a store actor over an in-memory fake store.
///
/// Every actor a test spawns through the fixture is stopped at teardown, and the system does not wait for actors on
/// shutdown, so a forgotten timer never makes the destructor hang.
class actor_fixture {
public:
  actor_fixture();
  ~actor_fixture();

  actor_fixture(const actor_fixture&) = delete;
  actor_fixture& operator=(const actor_fixture&) = delete;

  // -- the deterministic actor system -------------------------------------------

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;

  // -- fakes --------------------------------------------------------------------

  std::shared_ptr<fake_http_client> client;
  store_journal_ptr journal;
  store_actor store;
  std::shared_ptr<metrics> stats;
  /// What env->random returns; tests may change it at any time.
  std::uint64_t random_value = half_random;
  /// The environment of triggers; tests may change it (spawn_source, restarts, retries) before spawning triggers.
  std::shared_ptr<trigger_env> env;

  // -- time -----------------------------------------------------------------------

  /// Returns the simulated wall-clock time: test_epoch() plus the time the scheduler's clock has advanced.
  sys_ms now() const;

  /// Delivers every message that is due, without moving time.
  void run();

  /// Delivers every message that is due except those to `held`, which wait in its mailbox for a later run(): what
  /// happens while that actor is slow (the store's commit, say).
  template <class Handle>
  void run_all_but(const Handle& held) {
    run_all_but_actor(caf::actor_cast<caf::abstract_actor*>(held));
  }

  /// Moves simulated time forward by `total` in steps of at most `step`, delivering what falls due after each step.
  void advance(caf::timespan total, caf::timespan step = 100ms);

  /// Moves simulated time forward to `when` in steps of at most `step`.
  void advance_to(sys_ms when, caf::timespan step = 100ms);

  void run_all_but_actor(caf::abstract_actor* held);

  // -- actors -------------------------------------------------------------------

  /// Stops `hdl` at teardown.
  void stop_at_teardown(caf::actor hdl);

  /// Spawns a stand-in parent whose init runs `spawn_child` (which must link the child to the parent it is given) and
  /// that records everything the child sends it in `log`.
  caf::actor spawn_parent(parent_log_ptr log, std::function<caf::actor(caf::event_based_actor*)> spawn_child);

  /// Spawns a registry over the fixture's environment and store.
  registry_actor spawn_registry(std::vector<registration_record> records = {},
                                std::optional<controller_actor> controller = std::nullopt,
                                std::chrono::milliseconds request_timeout = 15s);

  /// Sends `xs` as a request to `dst` from a fresh probe actor, which keeps the answer; run() delivers it.
  template <class T, class Handle, class... Ts>
  reply_slot_ptr<T> ask(const Handle& dst, Ts... xs) {
    auto slot = std::make_shared<reply_slot<T>>();
    auto dest = caf::actor_cast<caf::actor>(dst);
    auto msg = caf::make_message(std::move(xs)...);
    sys.spawn([slot, dest, msg](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, msg)
        .then([slot](T x) { slot->value = std::move(x); }, [slot](caf::error& err) { slot->error = std::move(err); });
    });
    return slot;
  }

  /// Sends a request as ask() does, runs the system and returns the answer; throws when none or an error arrived.
  template <class T, class Handle, class... Ts>
  T call(const Handle& dst, Ts... xs) {
    auto slot = ask<T>(dst, std::move(xs)...);
    run();
    if (slot->error)
      throw std::runtime_error("request failed: " + sys.render(*slot->error));
    if (!slot->value)
      throw std::runtime_error("request not answered");
    return std::move(*slot->value);
  }

  /// Carries out one lifecycle request on `registry` and returns its answer as the control API shows it.
  api_reply api(const registry_actor& registry, api_command cmd);

  /// Sends one lifecycle request to `registry` (or a webhook event to `trigger`) from a probe; run() delivers it.
  template <class Handle>
  reply_slot_ptr<api_result> ask_api(const Handle& dst, api_command cmd) {
    return ask<api_result>(dst, std::move(cmd));
  }

  /// Returns the status of the trigger actor `trigger`.
  trigger_snapshot snapshot(const caf::actor& trigger);

private:
  static caf::actor_system_config& configure(caf::actor_system_config& cfg);

  caf::actor_clock::time_point start_;
  std::vector<caf::actor> owned_;
};

} // namespace feedrouter::test
