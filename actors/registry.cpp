#include "actors/registry.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/child_error.hpp"
#include "actors/trigger.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/retry_policy.hpp"
#include "core/shard.hpp"
#include "core/webhook_delivery.hpp"
#include "core/webhook_signature.hpp"
#include "core/webhook_spec.hpp"

namespace feedrouter {

std::string registry_config::default_key_hash(std::string_view key) {
  return sha256_hex(key);
}

namespace {

/// Dead letters one GET shows at most.
constexpr std::size_t dead_letter_page = 1000;

/// Stored registrations started per message at start-up.
constexpr std::size_t start_batch = 500;

/// The namespace name OpenWhisk users write for "my own namespace".
constexpr std::string_view default_namespace = "_";

/// How long a CREATE refused at the instance's bound of a feed kind's sources (--max-kafka-feeds, --max-mqtt-feeds,
/// --max-redis-feeds) is asked to wait: a place frees only when another registration of that kind pauses or ends,
/// which nothing predicts, so the hint only keeps a client that retries from asking in a tight loop.
constexpr std::chrono::seconds source_bound_retry_after{30};

/// How the registry retries removing a github registration's hook while GitHub does not take the DELETE: from about a
/// second, doubling, up to ten minutes apart, for at most a day.
const retry_options hook_removal_retries{std::chrono::seconds{1}, 2.0, std::chrono::minutes{10}, 30,
                                         std::chrono::hours{24}};

/// Parameters the provider sets itself; a caller may not give them.
const std::vector<std::string_view> provider_params = {hook_id_param, github_hook_id_param};

/// Parameters that steer the lifecycle protocol itself and are never stored as feed parameters.
const std::vector<std::string_view> protocol_params = {"feed", "lifecycleEvent", "triggerName", "authKey"};

/// The registry with its reminders to itself, which are no part of its public protocol.
using registry_private = registry_actor::extend<caf::reacts_to<start_batch_atom>,
                                               caf::reacts_to<unhook_atom, trigger_ref, std::uint64_t>,
                                               caf::reacts_to<shard_batch_atom>>;

std::string to_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

/// A DELETE of a github registration whose hook GitHub has not removed yet.
struct hook_removal {
  sys_ms started{};
  std::int64_t attempts = 0;
  std::string last_error;
  std::optional<sys_ms> next_attempt; ///< none: given up until the next DELETE
  std::uint64_t generation = 0;       ///< of the timer that is due; an older one is ignored
};

struct registry_entry {
  /// Status as of the trigger's last snapshot or change of state; the trigger actor owns the live one.
  registration_record record;
  trigger_actor trigger;
  std::string hook_id; ///< webhooks: the id in the hook URL
  /// github: the hook it keeps at GitHub, its ingress (hook id and secret), and a removal under way.
  std::shared_ptr<const github_spec> github;
  std::shared_ptr<const webhook_spec> ingress;
  /// Made when a DELETE first fails to remove the hook: a pointer costs each registration 8 bytes, the removal 80.
  std::unique_ptr<hook_removal> removal;
  std::optional<fencing_token> fence; ///< cluster mode: the lease it runs under
};

/// Cluster mode: registrations of shards handed over, started in batches like those of start-up.
struct shard_start_job {
  std::unordered_map<std::uint32_t, std::int64_t> leases; ///< shard -> epoch they were loaded under
  std::vector<registration_record> records;
  std::size_t next = 0;
  std::size_t started = 0;
  caf::typed_response_promise<std::size_t> promise;
};

/// Cluster mode: a stop of shards waiting for their trigger actors to be gone.
struct shard_stop_wait {
  caf::typed_response_promise<std::size_t> promise;
  std::size_t stopped = 0;
  std::size_t outstanding = 0;
};

/// Orders registrations by namespace, then name: the order a list answers in. Entries compare by their trigger, and
/// with a trigger_ref (transparent), so that an index looks up a name without an entry of its own.
struct name_order {
  using is_transparent = void;

  static const trigger_ref& ref(const trigger_ref& x) {
    return x;
  }

  static const trigger_ref& ref(const registry_entry* x) {
    return x->record.trigger;
  }

  template <class X, class Y>
  bool operator()(const X& x, const Y& y) const {
    return std::tie(ref(x).ns, ref(x).name) < std::tie(ref(y).ns, ref(y).name);
  }
};

/// Registrations in name order (one key's, or all of them): a page of a list is a range of it. It holds pointers to
/// the entries, which stay where they are, not copies of their names: a copy cost each of 100 000 registrations two
/// map nodes of about 110 bytes.
using name_index = std::set<registry_entry*, name_order>;

/// Removes the entry of `trigger` from `index`, if it is there.
void erase_from(name_index& index, const trigger_ref& trigger) {
  if (auto i = index.find(trigger); i != index.end())
    index.erase(i);
}

/// Namespace -> a count of its registrations, in name order: a page of the admin's namespace list is a range of it.
using namespace_counts = std::map<std::string, std::size_t>;

struct registry_state {
  registry_config cfg;
  /// Registration key ("ns/name") -> its entry. The indexes below point into it: the nodes of an unordered_map stay
  /// where they are until they are erased.
  std::unordered_map<std::string, registry_entry> entries;
  /// Trigger actor -> its entry, for the trigger's DOWN message.
  std::unordered_map<caf::actor_addr, registry_entry*> by_trigger;
  /// Key hash -> the entries it owns, for listing and for resolving "_".
  std::unordered_map<std::string, name_index> by_owner;
  /// Every registration, for the admin's list.
  name_index all;
  /// Namespace -> its registrations, and the new ones whose store write is under way: what its quota counts.
  namespace_counts per_namespace;
  namespace_counts new_in_namespace;
  /// Registration key -> CREATEs whose store write is under way. A removal the old trigger asks for meanwhile is
  /// dropped: its erase would reach the store after the new registration and delete it.
  std::unordered_map<std::string, int> creating;
  /// Webhook hookId -> registration key, for ingress.
  std::unordered_map<std::string, std::string> hooks;
  /// github CREATEs whose hook GitHub is creating (hookId -> its ingress): they answer GitHub's ping, nothing else.
  std::unordered_map<std::string, std::shared_ptr<const webhook_spec>> installing;
  /// Stored registrations not yet started (start-up only), and how many of them are.
  std::shared_ptr<std::vector<registration_record>> unstarted;
  std::size_t started = 0;
  /// Readiness requests that came while stored registrations were still being started.
  std::vector<caf::typed_response_promise<std::size_t>> ready_waiters;
  /// Cluster mode: shard -> epoch of the leases whose shards this registry runs.
  std::unordered_map<std::uint32_t, std::int64_t> leases;
  /// Cluster mode: shard starts not done yet, in order.
  std::deque<shard_start_job> shard_starts;
  /// Cluster mode: trigger actors stopped with their shard -> the stop that waits for them.
  std::unordered_map<caf::actor_addr, std::shared_ptr<shard_stop_wait>> stopping;

  /// The triggers are monitored, not linked (see spawn_trigger): however the registry ends, its triggers end with it.
  ~registry_state() {
    for (auto& [key, entry] : entries)
      caf::anon_send_exit(entry.trigger, caf::exit_reason::user_shutdown);
  }

  static inline const char* name = "registry";
};

using registry_pointer = registry_private::stateful_pointer<registry_state>;
using result_promise = caf::typed_response_promise<api_result>;

api_result unavailable(std::string_view what, const caf::error& err) {
  return failure(api_outcome::unavailable, std::string{what} + ": " + describe_child_error(err));
}

api_result not_found(const trigger_ref& trigger) {
  return failure(api_outcome::not_found, "no registration for trigger " + trigger.qualified() + " with this authKey");
}

api_result not_owner(std::uint32_t shard) {
  return failure(api_outcome::not_owner, "this instance does not run shard " + std::to_string(shard));
}

/// Returns the lease this registry runs the shard of `trigger` under; nullopt for one instance (no lease needed) or
/// a shard it does not run.
std::optional<fencing_token> lease_for(registry_pointer self, const trigger_ref& trigger) {
  auto shard = shard_of(trigger);
  auto lease = self->state.leases.find(shard);
  if (lease == self->state.leases.end())
    return std::nullopt;
  return fencing_token{shard, lease->second};
}

/// Returns whether this registry runs `shard`: always for one instance.
bool runs_shard(registry_pointer self, std::uint32_t shard) {
  return !self->state.cfg.cluster || self->state.leases.count(shard) > 0;
}

/// Returns whether `fence` is still the lease this registry runs its shard under: always for one instance.
bool still_runs(registry_pointer self, const std::optional<fencing_token>& fence) {
  if (!fence)
    return true;
  auto lease = self->state.leases.find(fence->shard);
  return lease != self->state.leases.end() && lease->second == fence->epoch;
}

std::string hook_url(registry_pointer self, const std::string& hook_id) {
  return self->state.cfg.env->public_url + "/v1/hooks/" + hook_id;
}

// -- the index ------------------------------------------------------------------------

void start_entry(registry_pointer self, registration_record record, std::optional<feed_config> config,
                 std::optional<fencing_token> fence = std::nullopt) {
  auto& st = self->state;
  auto key = record.trigger.key();
  std::string hook_id;
  if (config && config->webhook) {
    hook_id = config->webhook->hook_id;
    st.hooks[hook_id] = key;
  }
  std::shared_ptr<const github_spec> github;
  std::shared_ptr<const webhook_spec> ingress;
  if (config && config->github) {
    github = config->github;
    ingress = config->webhook;
  }
  // The pending events loaded at start-up (or with a shard) are the trigger's to read back from the store, and the
  // deliveries the trigger's to remember: the registry's copy of the record keeps neither.
  auto deliveries = std::exchange(record.deliveries, {});
  auto for_trigger = record;
  for_trigger.deliveries = std::move(deliveries);
  record.pending = {};
  auto trigger = spawn_trigger(self, st.cfg.env, std::move(for_trigger), std::move(config), fence);
  self->monitor(trigger);
  auto owner = record.auth_hash;
  auto address = trigger.address();
  registry_entry fresh{std::move(record), std::move(trigger), std::move(hook_id), std::move(github),
                       std::move(ingress), nullptr, fence};
  auto entry = st.entries.insert_or_assign(key, std::move(fresh)).first;
  st.by_trigger[address] = &entry->second;
  st.by_owner[owner].insert(&entry->second);
  st.all.insert(&entry->second);
  ++st.per_namespace[entry->second.record.trigger.ns];
}

/// Forgets an entry's place in the indexes, not the entry itself.
void unindex(registry_pointer self, registry_entry& entry) {
  auto& st = self->state;
  st.by_trigger.erase(entry.trigger.address());
  auto owner = st.by_owner.find(entry.record.auth_hash);
  if (owner != st.by_owner.end()) {
    erase_from(owner->second, entry.record.trigger);
    if (owner->second.empty())
      st.by_owner.erase(owner);
  }
  erase_from(st.all, entry.record.trigger);
  auto ns = st.per_namespace.find(entry.record.trigger.ns);
  if (ns != st.per_namespace.end() && --ns->second == 0)
    st.per_namespace.erase(ns);
}

/// Stops a registration's actors and forgets it.
void erase_entry(registry_pointer self, std::unordered_map<std::string, registry_entry>::iterator entry) {
  self->demonitor(entry->second.trigger.address());
  self->send_exit(entry->second.trigger, caf::exit_reason::user_shutdown);
  if (!entry->second.hook_id.empty())
    self->state.hooks.erase(entry->second.hook_id);
  unindex(self, entry->second);
  self->state.entries.erase(entry);
}

/// Resolves `_/name` for the key with hash `hash`: the namespace of the one registration of that name the key owns.
/// The key's namespace is whichever the controller verified at CREATE, so no request to the controller is needed.
void resolve_default_namespace(registry_pointer self, trigger_ref& trigger, const std::string& hash) {
  if (trigger.ns != default_namespace)
    return;
  auto owned = self->state.by_owner.find(hash);
  if (owned == self->state.by_owner.end())
    return;
  // One lookup per namespace the key has registrations in, not one per registration.
  const auto& index = owned->second;
  for (auto i = index.begin(); i != index.end();) {
    auto ns = (*i)->record.trigger.ns;
    if (index.count(trigger_ref{ns, trigger.name}) > 0) {
      trigger.ns = std::move(ns);
      return;
    }
    // The first registration of the next namespace: every name sorts after "".
    i = index.lower_bound(trigger_ref{ns + '\0', ""});
  }
}

/// Returns the entry of `trigger` if the key with hash `hash` owns it. Anyone else is told nothing exists, so a key
/// cannot probe for other namespaces' triggers.
registry_entry* find_owned(registry_pointer self, const trigger_ref& trigger, const std::string& hash) {
  auto i = self->state.entries.find(trigger.key());
  if (i == self->state.entries.end() || !constant_time_equal(i->second.record.auth_hash, hash))
    return nullptr;
  return &i->second;
}

/// Returns the view of an entry with a fresh snapshot, keeping the snapshot as the registry's copy of the status, as
/// the answer `outcome`.
api_result view_of(registry_pointer self, const trigger_ref& trigger, trigger_snapshot& snap,
                   api_outcome outcome = api_outcome::ok) {
  auto i = self->state.entries.find(trigger.key());
  if (i == self->state.entries.end())
    return not_found(trigger);
  i->second.record.status = snap.status;
  if (const auto& removal = i->second.removal) {
    snap.live.hook_removal_attempts = removal->attempts;
    snap.live.hook_removal_error = removal->last_error;
    snap.live.next_hook_removal = removal->next_attempt;
  }
  return success(outcome, make_view(i->second.record, std::move(snap.live)));
}

/// Returns the config of a stored registration, or nullopt (and the record disabled, saying why) when its parameters
/// no longer validate.
std::optional<feed_config> restore_config(registry_pointer self, registration_record& record) {
  auto fail = [&](const field_error& err) {
    // The store loads a row whose secrets it cannot open disabled, without parameters, and says why: keep that.
    auto loaded_unreadable = record.params_json.empty() && record.status.state == registration_state::disabled;
    // Disabled by this start (the store's refusal to open the secrets included), not by an earlier one.
    if (loaded_unreadable || record.status.state != registration_state::disabled)
      self->state.cfg.env->stats->count_auto_disable(record.feed);
    record.status.state = registration_state::disabled;
    if (!loaded_unreadable)
      record.status.reason = {reason_kind::automatic, 0,
                              "stored parameters are invalid (" + err.field + ": " + err.message + "); update them"};
    log(log_level::warn, "registration ", record.trigger.qualified(), " is disabled: ", record.status.reason.message);
  };
  auto params = parse_json_object(record.params_json, "params");
  if (!params) {
    fail(params.error());
    return std::nullopt;
  }
  auto config = make_feed_config(record.feed, std::move(*params), self->state.cfg.env->now(), validation_time::restore,
                                 record.trigger.key(), *self->state.cfg.env->egress);
  if (!config) {
    fail(config.error());
    return std::nullopt;
  }
  return std::optional<feed_config>{std::move(*config)};
}

// -- asking triggers ---------------------------------------------------------------------

/// Whether an answer must wait until the change it reports is committed; `resumed` also requires the registration to
/// be active afterwards (a schedule that is used up, or invalid stored parameters, keep it disabled).
enum class durability { none, committed, resumed };

/// Sends `msg` to the trigger of `trigger` and answers with its view. With durability::committed the answer waits for
/// a store flush: the trigger sent its status to the store before answering us, so the flush queues behind it and
/// its commit covers the change.
template <class... Ts>
void ask_trigger_as(registry_pointer self, result_promise rp, const trigger_ref& trigger, durability wait,
                    api_outcome outcome, Ts&&... msg) {
  const auto& entry = self->state.entries.at(trigger.key());
  auto timeout = self->state.cfg.request_timeout;
  self->request(entry.trigger, timeout, std::forward<Ts>(msg)...)
    .then(
      [self, rp, trigger, wait, timeout, outcome](trigger_snapshot& snap) mutable {
        if (wait == durability::resumed && snap.status.state != registration_state::active) {
          rp.deliver(failure(api_outcome::conflict, "cannot resume: " + snap.status.reason.message, "state"));
          return;
        }
        if (wait == durability::none) {
          rp.deliver(view_of(self, trigger, snap, outcome));
          return;
        }
        self->request(self->state.cfg.env->store, timeout, flush_atom::value)
          .then([self, rp, trigger, snap,
                 outcome](commit_atom) mutable { rp.deliver(view_of(self, trigger, snap, outcome)); },
                [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot store the change", err)); });
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("the registration did not answer", err)); });
}

/// As ask_trigger_as(), answering `ok`.
template <class... Ts>
void ask_trigger_for(registry_pointer self, result_promise rp, const trigger_ref& trigger, durability wait,
                     Ts&&... msg) {
  ask_trigger_as(self, rp, trigger, wait, api_outcome::ok, std::forward<Ts>(msg)...);
}

/// As ask_trigger_for(), answering a promise of its own.
template <class... Ts>
result_promise ask_trigger(registry_pointer self, const trigger_ref& trigger, durability wait, Ts&&... msg) {
  auto rp = self->make_response_promise<api_result>();
  ask_trigger_for(self, rp, trigger, wait, std::forward<Ts>(msg)...);
  return rp;
}

// -- preparing a source -----------------------------------------------------------------

/// Has the source of `config` prepared (docs/architecture.md section 2: the registry does not know the feed kinds)
/// and calls `then` with the position it found, or nullopt when the source needs none. A source that cannot work
/// answers `rp` instead: 400 naming the field to fix, or 503 when the preparer did not answer or says the source cannot
/// be taken on now.
template <class Then>
void prepare_source(registry_pointer self, result_promise rp, const feed_config& config, const std::string& checkpoint,
                    Then then) {
  auto& st = self->state;
  std::optional<source_preparer_actor> preparer;
  if (st.cfg.env->prepare_source)
    // Half the registry's patience: the preparer's answer, good or bad, comes back before the caller gives up.
    preparer = st.cfg.env->prepare_source(self->system(), config, checkpoint, st.cfg.request_timeout / 2);
  if (!preparer) {
    then(std::optional<std::string>{});
    return;
  }
  self->request(*preparer, st.cfg.request_timeout, prepare_atom::value)
    .then(
      [rp, then = std::move(then)](prepared_source& prepared) mutable {
        if (prepared.error) {
          rp.deliver(invalid_field(*prepared.error));
          return;
        }
        if (prepared.unavailable) {
          auto full = failure(api_outcome::unavailable, std::move(*prepared.unavailable));
          full.retry_after = source_bound_retry_after;
          rp.deliver(std::move(full));
          return;
        }
        then(std::move(prepared.checkpoint));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot prepare the source", err)); });
}

// -- the namespace quota ------------------------------------------------------------------

/// Returns how many registrations namespace `ns` has, new ones being stored included: the one count its quota is
/// checked against.
std::size_t registrations_in(registry_pointer self, const std::string& ns) {
  auto& st = self->state;
  auto count = [&ns](const namespace_counts& counts) -> std::size_t {
    auto i = counts.find(ns);
    return i == counts.end() ? 0 : i->second;
  };
  return count(st.per_namespace) + count(st.new_in_namespace);
}

/// Returns whether a CREATE of `trigger` makes a new registration rather than replacing one (stored or being stored).
bool is_new_registration(registry_pointer self, const trigger_ref& trigger) {
  auto key = trigger.key();
  return self->state.entries.count(key) == 0 && self->state.creating.count(key) == 0;
}

api_result quota_refusal(registry_pointer self, const trigger_ref& trigger);

/// Returns the refusal of a CREATE of `trigger` that would take its namespace beyond its quota (429 with a long
/// Retry-After, app/api_answers.cpp). In a cluster this instance's count is a lower bound of the namespace's: what it
/// refuses is over the quota, and persist_and_start asks the store for the rest.
std::optional<api_result> over_quota(registry_pointer self, const trigger_ref& trigger) {
  auto quota = self->state.cfg.max_registrations_per_namespace;
  if (!is_new_registration(self, trigger) || registrations_in(self, trigger.ns) < quota)
    return std::nullopt;
  return quota_refusal(self, trigger);
}

api_result quota_refusal(registry_pointer self, const trigger_ref& trigger) {
  auto quota = self->state.cfg.max_registrations_per_namespace;
  return failure(api_outcome::over_quota,
                 "namespace: " + trigger.ns + " has " + std::to_string(quota)
                   + " registrations, the most this provider allows per namespace (--max-registrations-per-namespace)"
                   + "; delete one before creating another",
                 "namespace");
}

// -- hooks at GitHub ------------------------------------------------------------------------

/// Returns the change to a github registration's hook at GitHub that makes it `active`, with the events of `spec`.
github_hook_task github_task(registry_pointer self, github_hook_task::kind what, const github_spec& spec,
                             const webhook_spec& ingress, bool active) {
  github_hook_task task;
  task.what = what;
  task.spec = spec;
  task.hook = {hook_url(self, ingress.hook_id), ingress.secret, spec.events, active};
  return task;
}

/// Returns the answer for a change GitHub did not make: 400 naming the parameter it refused, or 503.
api_result github_failure(const github_answer& answer) {
  if (answer.what == github_answer::kind::refused)
    return failure(api_outcome::invalid, answer.field + ": " + answer.message, answer.field);
  return failure(api_outcome::unavailable, answer.message);
}

/// Has `task` carried out at GitHub and calls `then` with how it ended; a keeper that does not answer in time counts
/// as GitHub unavailable.
template <class Then>
void ask_github(registry_pointer self, github_hook_task task, Then then) {
  auto& st = self->state;
  if (!st.cfg.github_hooks) {
    then(github_hook_result{{github_answer::kind::unavailable, {}, "this provider has no client for GitHub's API"}, 0});
    return;
  }
  self->request(*st.cfg.github_hooks, st.cfg.request_timeout, github_atom::value, std::move(task))
    .then([then](github_hook_result& result) mutable { then(std::move(result)); },
          [then](caf::error& err) mutable {
            then(github_hook_result{
              {github_answer::kind::unavailable, {}, "GitHub's API did not answer: " + describe_child_error(err)}, 0});
          });
}

/// Returns the config of `record` with the parameters `params` and `hook_id` as its GitHub hook's id.
outcome<feed_config> config_with_hook_id(registry_pointer self, const registration_record& record, json_members params,
                                         std::int64_t hook_id) {
  params = without_members(std::move(params), {github_hook_id_param});
  params.emplace_back(std::string{github_hook_id_param}, std::to_string(hook_id));
  return make_feed_config(record.feed, std::move(params), self->state.cfg.env->now(), validation_time::request,
                          record.trigger.key(), *self->state.cfg.env->egress);
}

/// Has the trigger of `trigger` store `hook_id` as its GitHub hook's id (nothing to do when it is that already), then
/// calls `then`; a failure is answered to `rp` instead.
template <class Then>
void keep_github_hook_id(registry_pointer self, result_promise rp, const trigger_ref& trigger, std::int64_t hook_id,
                         Then then) {
  auto i = self->state.entries.find(trigger.key());
  if (i == self->state.entries.end()) {
    rp.deliver(not_found(trigger));
    return;
  }
  auto& entry = i->second;
  if (!entry.github || entry.github->hook_id == hook_id) {
    then();
    return;
  }
  auto params = parse_json_object(entry.record.params_json, "params");
  auto config = config_with_hook_id(self, entry.record, params ? std::move(*params) : json_members{}, hook_id);
  if (!config) {
    rp.deliver(invalid_field(config.error()));
    return;
  }
  auto params_json = to_json_object(config->params);
  entry.record.params_json = params_json;
  entry.github = config->github;
  self->request(entry.trigger, self->state.cfg.request_timeout, update_atom::value,
                trigger_update{std::move(*config), std::move(params_json), std::nullopt})
    .then([then](trigger_snapshot&) mutable { then(); },
          [rp](caf::error& err) mutable { rp.deliver(unavailable("the registration did not answer", err)); });
}

/// Removes the hook `spec` and `ingress` name at GitHub, once; what GitHub does not take is logged as the hook `what`
/// left behind.
void drop_hook(registry_pointer self, const github_spec& spec, const webhook_spec& ingress, std::string what) {
  ask_github(self, github_task(self, github_hook_task::kind::remove, spec, ingress, false),
             [what = std::move(what)](github_hook_result result) {
               if (result.answer.what != github_answer::kind::done && result.answer.what != github_answer::kind::gone)
                 log(log_level::warn, "the GitHub hook ", what, " is left behind: ", result.answer.message);
             });
}

/// Removes the hook of a github registration that a CREATE replaced, once; what GitHub does not take is logged.
void drop_github_hook(registry_pointer self, const registry_entry& entry) {
  if (entry.github)
    drop_hook(self, *entry.github, *entry.ingress,
              "of the replaced registration of " + entry.record.trigger.qualified());
}

/// PAUSE or UNPAUSE of a github registration: the hook at GitHub is set inactive or active first (GitHub sends an
/// inactive hook nothing), then the registration.
result_promise set_github_active(registry_pointer self, const trigger_ref& trigger, bool active) {
  auto rp = self->make_response_promise<api_result>();
  const auto& entry = self->state.entries.at(trigger.key());
  auto task = github_task(self, github_hook_task::kind::update, *entry.github, *entry.ingress, active);
  ask_github(self, std::move(task), [self, rp, trigger, active](github_hook_result result) mutable {
    if (result.answer.what != github_answer::kind::done) {
      rp.deliver(github_failure(result.answer));
      return;
    }
    keep_github_hook_id(self, rp, trigger, result.hook_id, [self, rp, trigger, active]() mutable {
      if (self->state.entries.count(trigger.key()) == 0)
        rp.deliver(not_found(trigger));
      else if (active)
        ask_trigger_for(self, rp, trigger, durability::resumed, resume_atom::value);
      else
        ask_trigger_for(self, rp, trigger, durability::committed, pause_atom::value);
    });
  });
  return rp;
}

// -- ADMIN disables -------------------------------------------------------------------------

/// Returns whether an operator disabled the registration with `status`: then only an operator changes its state.
bool admin_disabled(const registration_status& status) {
  return status.state == registration_state::disabled && status.reason.kind == reason_kind::admin;
}

/// Returns the refusal of an owner's request that would change or replace a registration an operator disabled (409
/// naming the reason), or nullopt when no operator did.
std::optional<api_result> refuse_if_admin_disabled(const registry_entry& entry) {
  const auto& status = entry.record.status;
  if (!admin_disabled(status))
    return std::nullopt;
  auto message = status.reason.message.empty() ? std::string{} : ": " + status.reason.message;
  return failure(api_outcome::conflict,
                 "trigger " + entry.record.trigger.qualified() + " is disabled by an administrator (reason ADMIN"
                   + message + "); only an administrator can enable it",
                 "state");
}

// -- CREATE -------------------------------------------------------------------------------

void persist_checked(registry_pointer self, result_promise rp, registration_record record, feed_config config);

void persist_and_start(registry_pointer self, result_promise rp, registration_record record, feed_config config) {
  auto& st = self->state;
  if (st.cfg.cluster && is_new_registration(self, record.trigger)) {
    // A namespace's registrations lie in every shard: its quota is checked against the store's count, which holds
    // every instance's (docs/cluster.md, "Limits"). This instance's CREATEs whose write is under way count too.
    auto ns = record.trigger.ns;
    self->request(st.cfg.env->store, st.cfg.request_timeout, count_atom::value, ns)
      .then(
        [self, rp, record, config](std::size_t stored) mutable {
          auto& ns = record.trigger.ns;
          auto i = self->state.new_in_namespace.find(ns);
          auto writing = i == self->state.new_in_namespace.end() ? 0 : i->second;
          if (is_new_registration(self, record.trigger)
              && stored + writing >= self->state.cfg.max_registrations_per_namespace) {
            rp.deliver(quota_refusal(self, record.trigger));
            return;
          }
          persist_checked(self, rp, std::move(record), std::move(config));
        },
        [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot count the namespace's registrations", err)); });
    return;
  }
  // Checked again here, where the count includes every CREATE whose store write is under way.
  if (auto refused = over_quota(self, record.trigger)) {
    rp.deliver(std::move(*refused));
    return;
  }
  persist_checked(self, std::move(rp), std::move(record), std::move(config));
}

/// Stores `record` under `fence` and starts it, replacing the registration of the same trigger (whose pending events
/// and dead letters the store erases with it: they belong to the registration replaced); answers `rp` once the
/// write is committed, then calls `done` (the CREATE's write is no longer under way). A github registration's hook was
/// installed before: when the write fails, the hook is removed again, so that the CREATE leaves nothing behind (but
/// for a write that timed out, which may still be committed and then needs its hook).
void store_and_start(registry_pointer self, result_promise rp, registration_record record, feed_config config,
                     std::optional<fencing_token> fence, std::function<void()> done) {
  auto key = record.trigger.key();
  // What the answer shows: the hook URL of a webhook or github registration, and a webhook's secret (the answer to
  // CREATE is the only time it is shown; a github registration's secret is GitHub's and the provider's only).
  live_status live;
  if (config.webhook)
    live.hook_url = hook_url(self, config.webhook->hook_id);
  auto view = make_view(record, live);
  if (config.webhook && !config.github)
    view.secret = config.webhook->secret;
  auto on_commit = [self, rp, record, config, key, done, fence, view](commit_atom) mutable {
    done();
    if (config.webhook)
      self->state.installing.erase(config.webhook->hook_id);
    if (!still_runs(self, fence)) {
      // Stored under the lease, which moved on since: the shard's new owner loads and runs it, complete.
      rp.deliver(success(api_outcome::created, std::move(view)));
      return;
    }
    auto& entries = self->state.entries;
    auto existing = entries.find(key);
    auto replaced = existing != entries.end();
    if (replaced) {
      drop_github_hook(self, existing->second);
      erase_entry(self, existing);
    }
    start_entry(self, std::move(record), std::move(config), fence);
    rp.deliver(success(replaced ? api_outcome::replaced : api_outcome::created, std::move(view)));
  };
  auto on_error = [self, rp, record, config, done, fence](caf::error& err) mutable {
    done();
    if (config.github) {
      self->state.installing.erase(config.webhook->hook_id);
      // A write that took too long may still be committed: then the registration must keep its hook.
      if (err != caf::sec::request_timeout)
        drop_hook(self, *config.github, *config.webhook, "of " + record.trigger.qualified() + ", not stored,");
    }
    if (fence && is_fenced(err))
      rp.deliver(not_owner(fence->shard));
    else
      rp.deliver(unavailable("cannot store the registration", err));
  };
  auto& st = self->state;
  if (fence)
    self->request(st.cfg.env->store, st.cfg.request_timeout, create_atom::value, record, *fence)
      .then(std::move(on_commit), std::move(on_error));
  else
    self->request(st.cfg.env->store, st.cfg.request_timeout, create_atom::value, record)
      .then(std::move(on_commit), std::move(on_error));
}

/// The CREATE of a github registration: its hook is installed at GitHub first and the registration stored with the
/// hook's id after, so that the store never holds a github registration without its hook. Whichever instance loads it
/// (this one, or the shard's next owner when the lease moves during the CREATE) runs it complete, with nothing left to
/// finish; and a CREATE that fails leaves nothing: GitHub's refusal comes before anything is stored, and a write that
/// fails (or is fenced: the lease moved) removes the hook again. GitHub pings the hook as it creates it, before its
/// answer arrives: the ingress kept in `installing` meanwhile answers that ping.
void install_then_store(registry_pointer self, result_promise rp, registration_record record, feed_config config,
                        std::optional<fencing_token> fence, std::function<void()> done) {
  auto hook_id = config.webhook->hook_id;
  self->state.installing[hook_id] = config.webhook;
  auto task = github_task(self, github_hook_task::kind::install, *config.github, *config.webhook, true);
  ask_github(self, std::move(task), [self, rp, record = std::move(record), config = std::move(config), fence, done,
                                     hook_id](github_hook_result result) mutable {
    if (result.answer.what != github_answer::kind::done) {
      self->state.installing.erase(hook_id);
      done();
      rp.deliver(github_failure(result.answer));
      return;
    }
    auto installed = config_with_hook_id(self, record, config.params, result.hook_id);
    if (!installed) {
      // Not expected: the parameters validated a moment ago, and only the hook's id changed.
      self->state.installing.erase(hook_id);
      done();
      drop_hook(self, *config.github, *config.webhook, "of " + record.trigger.qualified() + ", not stored,");
      rp.deliver(invalid_field(installed.error()));
      return;
    }
    record.params_json = to_json_object(installed->params);
    store_and_start(self, rp, std::move(record), std::move(*installed), fence, std::move(done));
  });
}

/// Stores and starts a registration within its namespace's quota.
void persist_checked(registry_pointer self, result_promise rp, registration_record record, feed_config config) {
  auto key = record.trigger.key();
  auto fence = lease_for(self, record.trigger);
  if (self->state.cfg.cluster && !fence) {
    rp.deliver(not_owner(shard_of(record.trigger)));
    return;
  }
  if (auto existing = self->state.entries.find(key); existing != self->state.entries.end()) {
    if (auto refused = refuse_if_admin_disabled(existing->second)) {
      rp.deliver(std::move(*refused));
      return;
    }
  }
  auto ns = record.trigger.ns;
  auto fresh = is_new_registration(self, record.trigger);
  if (fresh)
    ++self->state.new_in_namespace[ns];
  ++self->state.creating[key];
  std::function<void()> done_creating = [self, key, ns, fresh] {
    auto& st = self->state;
    if (--st.creating[key] == 0)
      st.creating.erase(key);
    if (fresh && --st.new_in_namespace[ns] == 0)
      st.new_in_namespace.erase(ns);
  };
  if (config.github)
    install_then_store(self, std::move(rp), std::move(record), std::move(config), fence, std::move(done_creating));
  else
    store_and_start(self, std::move(rp), std::move(record), std::move(config), fence, std::move(done_creating));
}

/// Stores and starts a registration once its source is prepared (a `changes` feed with `since: now` stores where
/// its database ends, so that a change written right after CREATE answers fires even if the provider stops before the
/// feed has connected).
void prepare_and_start(registry_pointer self, result_promise rp, registration_record record, feed_config config) {
  auto prepared_config = config;
  prepare_source(self, rp, prepared_config, {},
                 [self, rp, record = std::move(record),
                  config = std::move(config)](std::optional<std::string> checkpoint) mutable {
                   if (checkpoint)
                     record.status.checkpoint = std::move(*checkpoint);
                   persist_and_start(self, rp, std::move(record), std::move(config));
                 });
}

api_result verification_failure(const trigger_ref& trigger, const http_outcome& outcome) {
  switch (outcome.status_code) {
    case 0:
      return failure(api_outcome::unavailable, "cannot verify the authKey: OpenWhisk is unreachable: " + outcome.error);
    case 401:
      return failure(api_outcome::unauthorized, "OpenWhisk rejected the authKey", "authKey");
    case 403:
      return failure(api_outcome::forbidden, "the authKey may not access trigger " + trigger.qualified(), "authKey");
    case 404:
      return failure(api_outcome::not_found, "OpenWhisk has no trigger " + trigger.qualified(), "triggerName");
    default:
      return failure(api_outcome::unavailable,
                     "cannot verify the authKey: OpenWhisk answered HTTP " + std::to_string(outcome.status_code));
  }
}

void create_verified(registry_pointer self, result_promise rp, api_command cmd);

/// CREATE of `_/name`: asks the controller which namespace the key owns, then creates there.
result_promise create_in_default_namespace(registry_pointer self, api_command& cmd) {
  auto rp = self->make_response_promise<api_result>();
  auto& st = self->state;
  if (!st.cfg.controller) {
    rp.deliver(failure(api_outcome::invalid,
                       "triggerName: the namespace \"_\" can only be resolved with authKey verification; "
                       "give the namespace explicitly",
                       "triggerName"));
    return rp;
  }
  self->request(*st.cfg.controller, st.cfg.request_timeout, namespaces_atom::value, cmd.auth_key)
    .then(
      [self, rp, cmd](http_outcome& outcome, std::string& ns) mutable {
        if (outcome.status_code != 200) {
          rp.deliver(verification_failure(cmd.trigger, outcome));
          return;
        }
        cmd.trigger.ns = std::move(ns);
        create_verified(self, rp, std::move(cmd));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot resolve the namespace \"_\"", err)); });
  return rp;
}

result_promise create(registry_pointer self, api_command& cmd) {
  if (cmd.trigger.ns == default_namespace)
    return create_in_default_namespace(self, cmd);
  auto rp = self->make_response_promise<api_result>();
  create_verified(self, rp, std::move(cmd));
  return rp;
}

void create_verified(registry_pointer self, result_promise rp, api_command cmd) {
  auto& st = self->state;
  if (!runs_shard(self, shard_of(cmd.trigger))) {
    rp.deliver(not_owner(shard_of(cmd.trigger)));
    return;
  }
  // Before asking the controller: a namespace at its quota costs no request to it.
  if (auto refused = over_quota(self, cmd.trigger)) {
    rp.deliver(std::move(*refused));
    return;
  }
  auto now = st.cfg.env->now();
  auto params = without_members(std::move(cmd.params), protocol_params);
  for (auto name : provider_params)
    if (find_member(params, name) != nullptr) {
      rp.deliver(failure(api_outcome::invalid, std::string{name} + ": is set by the provider", std::string{name}));
      return;
    }
  if (is_hook_feed(cmd.feed)) {
    // Drawn so that its hook URL names the registration's shard: any instance of a cluster finds the owner.
    params.emplace_back(std::string{hook_id_param}, to_json_string(make_hook_id(cmd.trigger)));
    if (find_member(params, "secret") == nullptr)
      params.emplace_back("secret", to_json_string(generate_webhook_secret(params)));
  }
  auto config =
    make_feed_config(cmd.feed, params, now, validation_time::request, cmd.trigger.key(), *st.cfg.env->egress);
  if (!config) {
    rp.deliver(invalid_field(config.error()));
    return;
  }
  registration_record record;
  record.trigger = cmd.trigger;
  record.feed = cmd.feed;
  record.params_json = to_json_object(config->params);
  record.auth_key = cmd.auth_key;
  record.auth_hash = st.cfg.hash_key(cmd.auth_key);
  record.created = now;
  record.status.date_changed = now;
  record.status.triggers_left = config->max_triggers();
  if (!st.cfg.controller) {
    // Without verification a key may not take over another key's registration.
    auto existing = st.entries.find(cmd.trigger.key());
    if (existing != st.entries.end() && !constant_time_equal(existing->second.record.auth_hash, record.auth_hash)) {
      rp.deliver(failure(api_outcome::conflict,
                         "trigger " + cmd.trigger.qualified() + " is registered with another authKey", "authKey"));
      return;
    }
    prepare_and_start(self, rp, std::move(record), std::move(*config));
    return;
  }
  self->request(*st.cfg.controller, st.cfg.request_timeout, verify_atom::value, cmd.trigger, cmd.auth_key)
    .then(
      [self, rp, record, config = std::move(*config)](http_outcome& outcome) mutable {
        if (outcome.status_code != 200) {
          rp.deliver(verification_failure(record.trigger, outcome));
          return;
        }
        prepare_and_start(self, rp, std::move(record), std::move(config));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot verify the authKey", err)); });
}

// -- UPDATE, DELETE -------------------------------------------------------------------

/// Reconfigures the registration's trigger once its source is prepared (a `since: now` changes feed moved to another
/// database reads where that one ends first, as CREATE does); the answer waits until the change is committed.
void reconfigure_into(registry_pointer self, result_promise rp, trigger_ref trigger, feed_config config,
                      std::string params_json, const std::string& checkpoint) {
  auto prepared_config = config;
  prepare_source(self, rp, prepared_config, checkpoint,
                 [self, rp, trigger, config = std::move(config),
                  params_json = std::move(params_json)](std::optional<std::string> position) mutable {
                   auto entry = self->state.entries.find(trigger.key());
                   if (entry == self->state.entries.end()) {
                     rp.deliver(not_found(trigger));
                     return;
                   }
                   // The trigger stores its record with the new parameters itself; the answer waits for that commit.
                   entry->second.record.params_json = params_json;
                   if (position)
                     entry->second.record.status.checkpoint = *position;
                   ask_trigger_for(self, rp, trigger, durability::committed, update_atom::value,
                                   trigger_update{std::move(config), std::move(params_json), std::move(position)});
                 });
}

/// As reconfigure_into(), answering a promise of its own.
result_promise reconfigure(registry_pointer self, trigger_ref trigger, feed_config config, std::string params_json,
                           const std::string& checkpoint) {
  auto rp = self->make_response_promise<api_result>();
  reconfigure_into(self, rp, std::move(trigger), std::move(config), std::move(params_json), checkpoint);
  return rp;
}

/// UPDATE of a github registration: its hook at GitHub takes the new events (and token, and secret) first, then the
/// registration. The repository and the API it is at stay: moving the hook is a DELETE and a CREATE.
caf::result<api_result> update_github(registry_pointer self, const trigger_ref& trigger, const registry_entry& entry,
                                      feed_config config) {
  const auto& before = *entry.github;
  const auto& after = *config.github;
  if (after.owner != before.owner || after.repository != before.repository)
    return failure(api_outcome::invalid,
                   "repository: cannot move a registration's hook to another repository; delete and create it",
                   "repository");
  if (after.api.origin() != before.api.origin() || after.api.target != before.api.target)
    return failure(api_outcome::invalid, "apiUrl: cannot move a registration's hook to another API; delete and create it",
                   "apiUrl");
  auto active = entry.record.status.state != registration_state::paused;
  auto task = github_task(self, github_hook_task::kind::update, after, *config.webhook, active);
  auto rp = self->make_response_promise<api_result>();
  auto checkpoint = entry.record.status.checkpoint;
  ask_github(self, std::move(task),
             [self, rp, trigger, config = std::move(config), checkpoint](github_hook_result result) mutable {
               if (result.answer.what != github_answer::kind::done) {
                 rp.deliver(github_failure(result.answer));
                 return;
               }
               auto i = self->state.entries.find(trigger.key());
               if (i == self->state.entries.end()) {
                 rp.deliver(not_found(trigger));
                 return;
               }
               if (result.hook_id != config.github->hook_id) {
                 // GitHub had lost the hook and it was installed anew.
                 auto changed = config_with_hook_id(self, i->second.record, config.params, result.hook_id);
                 if (!changed) {
                   rp.deliver(invalid_field(changed.error()));
                   return;
                 }
                 config = std::move(*changed);
               }
               i->second.github = config.github;
               i->second.ingress = config.webhook;
               auto params_json = to_json_object(config.params);
               reconfigure_into(self, rp, trigger, std::move(config), std::move(params_json), checkpoint);
             });
  return rp;
}

caf::result<api_result> update(registry_pointer self, api_command& cmd, registry_entry& entry) {
  if (!cmd.feed.empty() && cmd.feed != entry.record.feed)
    return failure(api_outcome::invalid, "feed: cannot change the feed kind of a registration; delete and create it",
                   "feed");
  auto changes = without_members(std::move(cmd.params), protocol_params);
  auto parsed = parse_json_object(entry.record.params_json, "params");
  auto stored = parsed ? std::move(*parsed) : json_members{};
  for (auto name : provider_params)
    if (const auto* given = find_member(changes, name)) {
      const auto* stored_value = find_member(stored, name);
      if (stored_value == nullptr || *stored_value != *given)
        return failure(api_outcome::invalid, std::string{name} + ": is set by the provider", std::string{name});
    }
  auto merged = merge_members(std::move(stored), changes);
  auto config = make_feed_config(entry.record.feed, std::move(merged), self->state.cfg.env->now(),
                                 validation_time::request, cmd.trigger.key(), *self->state.cfg.env->egress, &changes);
  if (!config)
    return invalid_field(config.error());
  if (entry.github)
    return update_github(self, cmd.trigger, entry, std::move(*config));
  auto params_json = to_json_object(config->params);
  return reconfigure(self, cmd.trigger, std::move(*config), std::move(params_json), entry.record.status.checkpoint);
}

/// Removes a registration from the store first and from memory once that committed, so a failed commit leaves it
/// running rather than coming back from the store after a restart.
void remove_registration(registry_pointer self, const trigger_ref& trigger, std::optional<result_promise> rp) {
  auto on_commit = [self, trigger, rp](commit_atom) mutable {
    auto& entries = self->state.entries;
    if (auto i = entries.find(trigger.key()); i != entries.end())
      erase_entry(self, i);
    if (rp)
      rp->deliver(success(api_outcome::removed));
  };
  auto on_error = [trigger, rp](caf::error& err) mutable {
    if (is_fenced(err)) {
      if (rp)
        rp->deliver(not_owner(shard_of(trigger)));
      return;
    }
    log(log_level::error, "cannot remove ", trigger.qualified(), ": ", describe_child_error(err));
    if (rp)
      rp->deliver(unavailable("cannot remove the registration", err));
  };
  auto& st = self->state;
  auto entry = st.entries.find(trigger.key());
  if (entry != st.entries.end() && entry->second.fence)
    self->request(st.cfg.env->store, st.cfg.request_timeout, erase_atom::value, trigger, *entry->second.fence)
      .then(std::move(on_commit), std::move(on_error));
  else
    self->request(st.cfg.env->store, st.cfg.request_timeout, erase_atom::value, trigger)
      .then(std::move(on_commit), std::move(on_error));
}


// -- DELETE of a github registration ------------------------------------------------------

void try_unhook(registry_pointer self, const trigger_ref& trigger, std::optional<result_promise> rp);

/// A removal of the hook that GitHub did not take now (`error`): the registration stays, paused, showing the removal
/// in its status, and the removal is tried again after a back-off (hook_removal_retries). The first DELETE is answered
/// 202 with that status.
void retry_unhook_later(registry_pointer self, const trigger_ref& trigger, std::optional<result_promise> rp,
                        const std::string& error) {
  auto& st = self->state;
  auto i = st.entries.find(trigger.key());
  if (i == st.entries.end()) {
    if (rp)
      rp->deliver(not_found(trigger));
    return;
  }
  auto now = st.cfg.env->now();
  if (!i->second.removal)
    i->second.removal = std::make_unique<hook_removal>();
  auto& removal = *i->second.removal;
  if (removal.attempts == 0)
    removal.started = now;
  ++removal.attempts;
  removal.last_error = error;
  ++removal.generation;
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - removal.started);
  auto delay = next_retry_delay(hook_removal_retries, static_cast<int>(removal.attempts), age, std::nullopt,
                                st.cfg.env->random ? st.cfg.env->random() : 0);
  removal.next_attempt.reset();
  if (delay) {
    removal.next_attempt = now + *delay;
    self->delayed_send(self, *delay, unhook_atom::value, trigger, removal.generation);
  }
  log(log_level::warn, "the GitHub hook of ", trigger.qualified(), " is not removed yet (attempt ", removal.attempts,
      delay ? "; trying again" : "; given up until the next DELETE", "): ", error);
  if (rp)
    ask_trigger_as(self, *rp, trigger, durability::committed, api_outcome::accepted, pause_atom::value);
}

/// Removes the hook of a github registration at GitHub, and then the registration. `rp` is a DELETE's promise; without
/// one, it is a retry of an earlier DELETE.
void try_unhook(registry_pointer self, const trigger_ref& trigger, std::optional<result_promise> rp) {
  auto i = self->state.entries.find(trigger.key());
  if (i == self->state.entries.end()) {
    if (rp)
      rp->deliver(not_found(trigger));
    return;
  }
  auto& entry = i->second;
  if (rp && entry.removal)
    // A DELETE of its owner starts the back-off afresh.
    entry.removal->attempts = 0;
  auto task = github_task(self, github_hook_task::kind::remove, *entry.github, *entry.ingress, false);
  ask_github(self, std::move(task), [self, trigger, rp](github_hook_result result) mutable {
    auto i = self->state.entries.find(trigger.key());
    if (i == self->state.entries.end()) {
      if (rp)
        rp->deliver(success(api_outcome::removed));
      return;
    }
    switch (result.answer.what) {
      case github_answer::kind::done:
      case github_answer::kind::gone:
        remove_registration(self, trigger, rp);
        return;
      case github_answer::kind::refused: {
        // Another attempt with the same token would be refused too: the owner updates accessToken and deletes again.
        if (!i->second.removal)
          i->second.removal = std::make_unique<hook_removal>();
        auto& removal = *i->second.removal;
        ++removal.attempts;
        ++removal.generation;
        removal.last_error = result.answer.field + ": " + result.answer.message;
        removal.next_attempt.reset();
        if (rp)
          rp->deliver(github_failure(result.answer));
        return;
      }
      case github_answer::kind::unavailable:
        retry_unhook_later(self, trigger, rp, result.answer.message);
        return;
    }
  });
}

// -- list -------------------------------------------------------------------------------

/// Returns the view of an entry from the registry's own record: its state as of its last change or snapshot; live
/// facts only a READ asks the trigger for are left out, but for the hook URL.
registration_view listed_view(registry_pointer self, const registry_entry& entry) {
  live_status live;
  if (!entry.hook_id.empty())
    live.hook_url = hook_url(self, entry.hook_id);
  return make_view(entry.record, std::move(live));
}

/// Returns one page of `index`: the registrations of namespace `ns` (of every namespace when `ns` is empty), in name
/// order, from after `after` on, at most `limit`: a range of the index, without asking any trigger (O(limit log n)).
registration_page page_of(registry_pointer self, const name_index& index, const std::string& ns,
                          const std::optional<trigger_ref>& after, std::size_t limit) {
  registration_page page;
  auto all = ns.empty();
  auto start = trigger_ref{ns, ""};
  auto i = index.lower_bound(start);
  // A cursor names the last registration shown; it need not exist any more.
  if (after && !name_order{}(*after, start))
    i = index.upper_bound(*after);
  auto listed = [&](name_index::const_iterator x) {
    return x != index.end() && (all || (*x)->record.trigger.ns == ns);
  };
  for (; listed(i) && page.views.size() < limit; ++i)
    page.views.push_back(listed_view(self, **i));
  if (listed(i) && !page.views.empty())
    page.next = page.views.back().trigger;
  return page;
}

/// Answers one page of the key's registrations in a namespace (or in all of its namespaces for "_").
api_result list(registry_pointer self, const api_command& cmd, const std::string& hash) {
  auto owned = self->state.by_owner.find(hash);
  if (owned == self->state.by_owner.end())
    return success(api_outcome::ok, registration_page{});
  auto ns = cmd.trigger.ns == default_namespace ? std::string{} : cmd.trigger.ns;
  return success(api_outcome::ok, page_of(self, owned->second, ns, cmd.after, cmd.limit));
}

// -- dispatch ------------------------------------------------------------------------------

/// Answers a request to the hook URL of a github registration whose CREATE waits for GitHub's answer: GitHub's ping
/// (which comes before that answer) as its registration will, anything else 503, since nothing is stored yet.
api_result while_installing(const webhook_spec& ingress, const webhook_delivery& delivery, sys_ms now) {
  auto verdict = judge_webhook(ingress, delivery, "{}", now);
  if (verdict.what == webhook_verdict::kind::bad_signature)
    return failure(api_outcome::unauthorized, "missing or wrong " + verdict.header, verdict.header);
  if (verdict.what == webhook_verdict::kind::ping)
    return success(api_outcome::accepted, hook_receipt{true, 0, hook_skip::ping});
  return failure(api_outcome::unavailable, "the registration of this hook is being created; retry");
}

/// Hands a webhook request to its registration, which checks, stores and answers it. Delegated: the trigger answers
/// the caller directly, one message fewer per event (the caller's own time-out still applies).
caf::result<api_result> hook(registry_pointer self, api_command& cmd) {
  auto& st = self->state;
  auto key = st.hooks.find(cmd.hook_id);
  auto entry = key == st.hooks.end() ? st.entries.end() : st.entries.find(key->second);
  if (entry == st.entries.end()) {
    if (auto installing = st.installing.find(cmd.hook_id); installing != st.installing.end())
      return while_installing(*installing->second, cmd.hook, st.cfg.env->now());
    if (!runs_shard(self, hook_shard(cmd.hook_id)))
      return not_owner(hook_shard(cmd.hook_id));
    return failure(api_outcome::not_found, "no webhook registration has this id", "hookId");
  }
  return self->delegate(entry->second.trigger, hook_atom::value, std::move(cmd.hook));
}

result_promise dead_letters(registry_pointer self, const trigger_ref& trigger) {
  auto rp = self->make_response_promise<api_result>();
  self->request(self->state.cfg.env->store, self->state.cfg.request_timeout, load_atom::value, trigger,
                dead_letter_page)
    .then([rp](std::vector<dead_letter>& letters) mutable { rp.deliver(success(api_outcome::ok, std::move(letters))); },
          [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot read dead letters", err)); });
  return rp;
}

caf::result<api_result> handle(registry_pointer self, api_command& cmd) {
  if (cmd.op == api_op::hook)
    return hook(self, cmd);
  if (cmd.op == api_op::create)
    return create(self, cmd);
  auto hash = self->state.cfg.hash_key(cmd.auth_key);
  if (cmd.op == api_op::list)
    return list(self, cmd, hash);
  resolve_default_namespace(self, cmd.trigger, hash);
  if (!runs_shard(self, shard_of(cmd.trigger)))
    return not_owner(shard_of(cmd.trigger));
  auto* entry = find_owned(self, cmd.trigger, hash);
  if (entry == nullptr)
    return not_found(cmd.trigger);
  auto changes_state = cmd.op == api_op::update || cmd.op == api_op::pause || cmd.op == api_op::resume;
  if (changes_state && entry->removal && entry->removal->next_attempt)
    return failure(api_outcome::conflict,
                   "the registration is being deleted: its hook at GitHub is not removed yet (DELETE again to try at "
                   "once)",
                   "state");
  if (changes_state)
    if (auto refused = refuse_if_admin_disabled(*entry))
      return std::move(*refused);
  switch (cmd.op) {
    case api_op::read:
      return ask_trigger(self, cmd.trigger, durability::none, snapshot_atom::value);
    case api_op::update:
      return update(self, cmd, *entry);
    case api_op::remove: {
      auto rp = self->make_response_promise<api_result>();
      if (entry->github)
        try_unhook(self, cmd.trigger, rp);
      else
        remove_registration(self, cmd.trigger, rp);
      return rp;
    }
    case api_op::pause:
      if (entry->github)
        return set_github_active(self, cmd.trigger, false);
      return ask_trigger(self, cmd.trigger, durability::committed, pause_atom::value);
    case api_op::resume:
      if (entry->github)
        return set_github_active(self, cmd.trigger, true);
      return ask_trigger(self, cmd.trigger, durability::resumed, resume_atom::value);
    case api_op::dead_letters:
      return dead_letters(self, cmd.trigger);
    case api_op::replay:
      return self->delegate(entry->trigger, replay_atom::value);
    case api_op::create:
    case api_op::list:
    case api_op::hook:
      break;
  }
  return failure(api_outcome::unavailable, "unhandled lifecycle operation");
}

bool on_stopped_trigger_down(registry_pointer self, const caf::down_msg& msg);

// -- administration ----------------------------------------------------------------------------

/// What a registration an operator disabled without a message shows as the reason.
constexpr std::string_view default_admin_message = "disabled by an administrator";

/// Answers one page of the namespaces that have registrations, with their counts, from after the cursor on.
api_result admin_namespaces(registry_pointer self, const admin_command& cmd) {
  namespace_page page;
  const auto& counts = self->state.per_namespace;
  auto i = cmd.after_ns ? counts.upper_bound(*cmd.after_ns) : counts.begin();
  for (; i != counts.end() && page.namespaces.size() < cmd.limit; ++i)
    page.namespaces.push_back({i->first, i->second});
  if (i != counts.end() && !page.namespaces.empty())
    page.next = page.namespaces.back().ns;
  return success(api_outcome::ok, std::move(page));
}

/// Carries out an operator's request: any registration, whoever owns it (docs/architecture.md section 9).
caf::result<api_result> handle_admin(registry_pointer self, admin_command& cmd) {
  if (cmd.op == admin_op::list)
    return success(api_outcome::ok, page_of(self, self->state.all, cmd.ns, cmd.after, cmd.limit));
  if (cmd.op == admin_op::namespaces)
    return admin_namespaces(self, cmd);
  // Cluster mode: the gateway reads the lists from the store and sends the rest to the shard's owner.
  if (!runs_shard(self, shard_of(cmd.trigger)))
    return not_owner(shard_of(cmd.trigger));
  if (self->state.entries.count(cmd.trigger.key()) == 0)
    return failure(api_outcome::not_found, "no registration for trigger " + cmd.trigger.qualified(), "trigger");
  switch (cmd.op) {
    case admin_op::read:
      return ask_trigger(self, cmd.trigger, durability::none, snapshot_atom::value);
    case admin_op::disable: {
      auto message = cmd.message.empty() ? std::string{default_admin_message} : std::move(cmd.message);
      log(log_level::info, "an administrator disabled ", cmd.trigger.qualified(), ": ", message);
      self->state.cfg.env->stats->count_admin_action(admin_action::disable);
      return ask_trigger(self, cmd.trigger, durability::committed, admin_disable_atom::value, std::move(message));
    }
    case admin_op::enable:
      log(log_level::info, "an administrator enabled ", cmd.trigger.qualified());
      self->state.cfg.env->stats->count_admin_action(admin_action::enable);
      return ask_trigger(self, cmd.trigger, durability::resumed, admin_enable_atom::value);
    case admin_op::list:
    case admin_op::namespaces:
      break;
  }
  return failure(api_outcome::unavailable, "unhandled admin operation");
}

void on_trigger_down(registry_pointer self, caf::down_msg& msg) {
  auto& st = self->state;
  if (on_stopped_trigger_down(self, msg))
    return;
  auto known = st.by_trigger.find(msg.source);
  if (known == st.by_trigger.end())
    return;
  auto& entry = *known->second;
  auto key = entry.record.trigger.key();
  // A trigger actor only fails on a bug of ours; keep the registration visible but stopped.
  auto text = describe_child_error(msg.reason);
  log(log_level::error, "trigger actor of ", entry.record.trigger.qualified(), " failed: ", text);
  auto record = entry.record;
  auto fence = entry.fence;
  // An operator's disable stays as it is: stored as AUTO, it would let the owner resume after a restart.
  if (!admin_disabled(record.status)) {
    st.cfg.env->stats->count_auto_disable(record.feed);
    record.status.state = registration_state::disabled;
    record.status.reason = {reason_kind::automatic, 0, "trigger actor failed: " + text};
    record.status.date_changed = st.cfg.env->now();
    if (fence)
      self->send(st.cfg.env->store, status_atom::value, record.trigger, record.status, *fence);
    else
      self->send(st.cfg.env->store, status_atom::value, record.trigger, record.status);
  }
  auto hook_id = entry.hook_id;
  auto github = entry.github;
  auto ingress = entry.ingress;
  unindex(self, entry);
  start_entry(self, std::move(record), std::nullopt, fence);
  // The stopped registration keeps its hook URL, so a sender is told 503 (and DELETE forgets the URL), and a github
  // registration its hook at GitHub, which DELETE removes.
  auto& restarted = st.entries.at(key);
  restarted.hook_id = hook_id;
  restarted.github = std::move(github);
  restarted.ingress = std::move(ingress);
}

/// Starts the next batch of stored registrations. Each batch is a message of the registry to itself: in between, the
/// scheduler runs the triggers started so far (rather than queueing 100 000 of them behind one long loop), so their
/// schedules begin while the rest load, and readiness, answered after the last batch, means running.
void start_next_batch(registry_pointer self) {
  auto& st = self->state;
  if (!st.unstarted)
    return;
  auto& records = *st.unstarted;
  auto end = std::min(records.size(), st.started + start_batch);
  for (; st.started < end; ++st.started) {
    auto& record = records[st.started];
    auto config = restore_config(self, record);
    start_entry(self, std::move(record), std::move(config));
  }
  if (st.started < records.size()) {
    // Through the clock, not a plain send: the registry would take its own message in the same turn (CAF processes
    // a mailbox until it is empty), and the triggers just started would wait behind all the batches.
    self->delayed_send(self, std::chrono::milliseconds{0}, start_batch_atom::value);
    return;
  }
  st.unstarted.reset();
  for (auto& waiter : st.ready_waiters)
    waiter.deliver(st.entries.size());
  st.ready_waiters.clear();
}

// -- shards (cluster mode) ------------------------------------------------------------------

/// Starts the next batch of the oldest shard start, as start_next_batch() does for start-up. A record whose shard was
/// stopped, or runs under another lease by now, is skipped: it was loaded under a lease that is gone. So is one that
/// runs already (a CREATE while the shard was being loaded), which is at least as new.
void start_next_shard_batch(registry_pointer self) {
  auto& st = self->state;
  if (st.shard_starts.empty())
    return;
  auto& job = st.shard_starts.front();
  auto end = std::min(job.records.size(), job.next + start_batch);
  for (; job.next < end; ++job.next) {
    auto& record = job.records[job.next];
    auto shard = shard_of(record.trigger);
    auto loaded_under = job.leases.find(shard);
    if (loaded_under == job.leases.end()
        || !still_runs(self, fencing_token{shard, loaded_under->second}) || st.entries.count(record.trigger.key()) > 0)
      continue;
    auto config = restore_config(self, record);
    start_entry(self, std::move(record), std::move(config), fencing_token{shard, loaded_under->second});
    ++job.started;
  }
  if (job.next == job.records.size()) {
    job.promise.deliver(job.started);
    st.shard_starts.pop_front();
  }
  if (!st.shard_starts.empty())
    self->delayed_send(self, std::chrono::milliseconds{0}, shard_batch_atom::value);
}

caf::result<std::size_t> start_shards(registry_pointer self, shard_start& start) {
  auto& st = self->state;
  shard_start_job job;
  for (const auto& lease : start.leases) {
    st.leases[lease.shard] = lease.epoch;
    job.leases[lease.shard] = lease.epoch;
  }
  job.records = std::move(start.records);
  job.promise = self->make_response_promise<std::size_t>();
  auto rp = job.promise;
  st.shard_starts.push_back(std::move(job));
  if (st.shard_starts.size() == 1)
    self->delayed_send(self, std::chrono::milliseconds{0}, shard_batch_atom::value);
  return rp;
}

/// Stops every registration of `shards` at once and forgets it; answers once their trigger actors are gone.
caf::result<std::size_t> stop_shards(registry_pointer self, const std::vector<std::uint32_t>& shards) {
  auto& st = self->state;
  std::unordered_set<std::uint32_t> stopped{shards.begin(), shards.end()};
  for (auto shard : shards)
    st.leases.erase(shard);
  auto wait = std::make_shared<shard_stop_wait>();
  wait->promise = self->make_response_promise<std::size_t>();
  auto rp = wait->promise;
  for (auto i = st.entries.begin(); i != st.entries.end();) {
    if (stopped.count(shard_of(i->second.record.trigger)) == 0) {
      ++i;
      continue;
    }
    auto& entry = i->second;
    st.stopping[entry.trigger.address()] = wait;
    ++wait->outstanding;
    ++wait->stopped;
    self->send_exit(entry.trigger, caf::exit_reason::user_shutdown);
    if (!entry.hook_id.empty())
      st.hooks.erase(entry.hook_id);
    unindex(self, entry);
    i = st.entries.erase(i);
  }
  if (wait->outstanding == 0)
    wait->promise.deliver(std::size_t{0});
  return rp;
}

/// Counts a trigger actor of a stopped shard as gone; returns whether `msg` was about one.
bool on_stopped_trigger_down(registry_pointer self, const caf::down_msg& msg) {
  auto& stopping = self->state.stopping;
  auto i = stopping.find(msg.source);
  if (i == stopping.end())
    return false;
  auto wait = std::move(i->second);
  stopping.erase(i);
  if (--wait->outstanding == 0)
    wait->promise.deliver(wait->stopped);
  return true;
}

registry_private::behavior_type registry_impl(registry_pointer self, registry_config cfg,
                                              std::shared_ptr<std::vector<registration_record>> records) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) { on_trigger_down(self, msg); });
  // Sized once for what start-up loads, instead of rehashing all of them every time the table doubles.
  self->state.entries.reserve(records->size());
  self->state.by_trigger.reserve(records->size());
  self->state.unstarted = std::move(records);
  start_next_batch(self);
  return {
    [self](api_command& cmd) -> caf::result<api_result> { return handle(self, cmd); },
    [self](admin_command& cmd) -> caf::result<api_result> { return handle_admin(self, cmd); },
    [self](status_atom, const trigger_ref& trigger, registration_status& status) {
      // Only the registration's current trigger speaks for it.
      auto i = self->state.entries.find(trigger.key());
      if (i != self->state.entries.end() && i->second.trigger.address() == self->current_sender())
        i->second.record.status = std::move(status);
    },
    [self](remove_atom, const trigger_ref& trigger) {
      auto& st = self->state;
      auto key = trigger.key();
      auto i = st.entries.find(key);
      // Only the registration's current trigger may remove it, and not while a CREATE is replacing it.
      if (i == st.entries.end() || i->second.trigger.address() != self->current_sender() || st.creating.count(key))
        return;
      remove_registration(self, trigger, std::nullopt);
    },
    [self](ready_atom) -> caf::result<std::size_t> {
      auto& st = self->state;
      if (!st.unstarted)
        return st.entries.size();
      st.ready_waiters.push_back(self->make_response_promise<std::size_t>());
      return st.ready_waiters.back();
    },
    [self](start_batch_atom) { start_next_batch(self); },
    [self](unhook_atom, const trigger_ref& trigger, std::uint64_t generation) {
      auto& entries = self->state.entries;
      auto i = entries.find(trigger.key());
      if (i != entries.end() && i->second.removal && i->second.removal->generation == generation)
        try_unhook(self, trigger, std::nullopt);
    },
    [self](start_shards_atom, shard_start& start) { return start_shards(self, start); },
    [self](stop_shards_atom, const std::vector<std::uint32_t>& shards) { return stop_shards(self, shards); },
    [self](shard_batch_atom) { start_next_shard_batch(self); },
  };
}

} // namespace

registry_actor spawn_registry(caf::actor_system& sys, registry_config cfg, std::vector<registration_record> records) {
  return sys.spawn(registry_impl, std::move(cfg),
                   std::make_shared<std::vector<registration_record>>(std::move(records)));
}

} // namespace feedrouter
