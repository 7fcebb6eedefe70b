#include "actors/registry.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <string>
#include <unordered_map>
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
#include "core/webhook_signature.hpp"

namespace feedrouter {

std::string registry_config::default_key_hash(std::string_view key) {
  return sha256_hex(key);
}

namespace {

/// Random bytes in a hook id: 128 bits, so hook URLs cannot be guessed.
constexpr std::size_t hook_id_bytes = 16;

/// Dead letters one GET shows at most.
constexpr std::size_t dead_letter_page = 1000;

/// Stored registrations started per message at start-up.
constexpr std::size_t start_batch = 500;

/// The namespace name OpenWhisk users write for "my own namespace".
constexpr std::string_view default_namespace = "_";

/// Parameters that steer the lifecycle protocol itself and are never stored as feed parameters.
const std::vector<std::string_view> protocol_params = {"feed", "lifecycleEvent", "triggerName", "authKey"};

/// The registry with its reminder to itself, which is no part of its public protocol.
using registry_private = registry_actor::extend<caf::reacts_to<start_batch_atom>>;

std::string to_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

struct registry_entry {
  /// Status as of the trigger's last snapshot or change of state; the trigger actor owns the live one.
  registration_record record;
  trigger_actor trigger;
  std::string hook_id; ///< webhooks: the id in the hook URL
};

/// Orders registrations by namespace, then name: the order a list answers in.
struct name_order {
  bool operator()(const trigger_ref& x, const trigger_ref& y) const {
    return std::tie(x.ns, x.name) < std::tie(y.ns, y.name);
  }
};

/// Registrations in name order (one key's, or all of them): a page of a list is a range of it.
using name_index = std::map<trigger_ref, registry_entry*, name_order>;

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
  /// Stored registrations not yet started (start-up only), and how many of them are.
  std::shared_ptr<std::vector<registration_record>> unstarted;
  std::size_t started = 0;
  /// Readiness requests that came while stored registrations were still being started.
  std::vector<caf::typed_response_promise<std::size_t>> ready_waiters;

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

std::string hook_url(registry_pointer self, const std::string& hook_id) {
  return self->state.cfg.env->public_url + "/v1/hooks/" + hook_id;
}

// -- the index ------------------------------------------------------------------------

void start_entry(registry_pointer self, registration_record record, std::optional<feed_config> config) {
  auto& st = self->state;
  auto key = record.trigger.key();
  std::string hook_id;
  if (config && config->webhook) {
    hook_id = config->webhook->hook_id;
    st.hooks[hook_id] = key;
  }
  // The pending events loaded at start-up are the trigger's to hold (within the byte budget): the registry's copy of
  // the record keeps none of their bodies.
  auto pending = std::exchange(record.pending, {});
  auto for_trigger = record;
  for_trigger.pending = std::move(pending);
  auto trigger = spawn_trigger(self, st.cfg.env, std::move(for_trigger), std::move(config));
  self->monitor(trigger);
  auto owner = record.auth_hash;
  auto address = trigger.address();
  auto entry =
    st.entries.insert_or_assign(key, registry_entry{std::move(record), std::move(trigger), std::move(hook_id)}).first;
  st.by_trigger[address] = &entry->second;
  st.by_owner[owner][entry->second.record.trigger] = &entry->second;
  st.all[entry->second.record.trigger] = &entry->second;
  ++st.per_namespace[entry->second.record.trigger.ns];
}

/// Forgets an entry's place in the indexes, not the entry itself.
void unindex(registry_pointer self, registry_entry& entry) {
  auto& st = self->state;
  st.by_trigger.erase(entry.trigger.address());
  auto owner = st.by_owner.find(entry.record.auth_hash);
  if (owner != st.by_owner.end()) {
    owner->second.erase(entry.record.trigger);
    if (owner->second.empty())
      st.by_owner.erase(owner);
  }
  st.all.erase(entry.record.trigger);
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
    auto ns = i->first.ns;
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

/// Returns the view of an entry with a fresh snapshot, keeping the snapshot as the registry's copy of the status.
api_result view_of(registry_pointer self, const trigger_ref& trigger, trigger_snapshot& snap) {
  auto i = self->state.entries.find(trigger.key());
  if (i == self->state.entries.end())
    return not_found(trigger);
  i->second.record.status = snap.status;
  return success(api_outcome::ok, make_view(i->second.record, std::move(snap.live)));
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
void ask_trigger_for(registry_pointer self, result_promise rp, const trigger_ref& trigger, durability wait,
                     Ts&&... msg) {
  const auto& entry = self->state.entries.at(trigger.key());
  auto timeout = self->state.cfg.request_timeout;
  self->request(entry.trigger, timeout, std::forward<Ts>(msg)...)
    .then(
      [self, rp, trigger, wait, timeout](trigger_snapshot& snap) mutable {
        if (wait == durability::resumed && snap.status.state != registration_state::active) {
          rp.deliver(failure(api_outcome::conflict, "cannot resume: " + snap.status.reason.message, "state"));
          return;
        }
        if (wait == durability::none) {
          rp.deliver(view_of(self, trigger, snap));
          return;
        }
        self->request(self->state.cfg.env->store, timeout, flush_atom::value)
          .then([self, rp, trigger, snap](commit_atom) mutable { rp.deliver(view_of(self, trigger, snap)); },
                [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot store the change", err)); });
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("the registration did not answer", err)); });
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
          rp.deliver(failure(api_outcome::unavailable, std::move(*prepared.unavailable)));
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

/// Returns the refusal of a CREATE of `trigger` that would take its namespace beyond its quota: not a passing
/// condition, so 403 (app/api_answers.cpp), not 429.
std::optional<api_result> over_quota(registry_pointer self, const trigger_ref& trigger) {
  auto quota = self->state.cfg.max_registrations_per_namespace;
  if (!is_new_registration(self, trigger) || registrations_in(self, trigger.ns) < quota)
    return std::nullopt;
  return failure(api_outcome::over_quota,
                 "namespace " + trigger.ns + " has " + std::to_string(quota)
                   + " registrations, the most this provider allows per namespace (--max-registrations-per-namespace)"
                   + "; delete one before creating another");
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

void persist_and_start(registry_pointer self, result_promise rp, registration_record record, feed_config config) {
  // Checked again here, where the count includes every CREATE whose store write is under way.
  if (auto refused = over_quota(self, record.trigger)) {
    rp.deliver(std::move(*refused));
    return;
  }
  auto key = record.trigger.key();
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
  auto done_creating = [self, key, ns, fresh] {
    auto& st = self->state;
    if (--st.creating[key] == 0)
      st.creating.erase(key);
    if (fresh && --st.new_in_namespace[ns] == 0)
      st.new_in_namespace.erase(ns);
  };
  self->request(self->state.cfg.env->store, self->state.cfg.request_timeout, put_atom::value, record)
    .then(
      [self, rp, record, config, key, done_creating](commit_atom) mutable {
        done_creating();
        auto& entries = self->state.entries;
        auto existing = entries.find(key);
        auto replaced = existing != entries.end();
        if (replaced)
          erase_entry(self, existing);
        live_status live;
        auto view = make_view(record, live);
        if (config.webhook) {
          // The answer to CREATE is the only time a webhook's secret is shown.
          view.live.hook_url = hook_url(self, config.webhook->hook_id);
          view.secret = config.webhook->secret;
        }
        start_entry(self, std::move(record), std::move(config));
        rp.deliver(success(replaced ? api_outcome::replaced : api_outcome::created, std::move(view)));
      },
      [rp, done_creating](caf::error& err) mutable {
        done_creating();
        rp.deliver(unavailable("cannot store the registration", err));
      });
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
  // Before asking the controller: a namespace at its quota costs no request to it.
  if (auto refused = over_quota(self, cmd.trigger)) {
    rp.deliver(std::move(*refused));
    return;
  }
  auto now = st.cfg.env->now();
  auto params = without_members(std::move(cmd.params), protocol_params);
  if (find_member(params, hook_id_param) != nullptr) {
    rp.deliver(failure(api_outcome::invalid, "hookId: is set by the provider", "hookId"));
    return;
  }
  if (cmd.feed == "webhook") {
    params.emplace_back(std::string{hook_id_param}, to_json_string(random_hex(hook_id_bytes)));
    if (find_member(params, "secret") == nullptr)
      params.emplace_back("secret", to_json_string(generate_secret()));
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
result_promise reconfigure(registry_pointer self, trigger_ref trigger, feed_config config, std::string params_json,
                           const std::string& checkpoint) {
  auto rp = self->make_response_promise<api_result>();
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
  return rp;
}

caf::result<api_result> update(registry_pointer self, api_command& cmd, registry_entry& entry) {
  if (!cmd.feed.empty() && cmd.feed != entry.record.feed)
    return failure(api_outcome::invalid, "feed: cannot change the feed kind of a registration; delete and create it",
                   "feed");
  auto changes = without_members(std::move(cmd.params), protocol_params);
  auto parsed = parse_json_object(entry.record.params_json, "params");
  auto stored = parsed ? std::move(*parsed) : json_members{};
  if (const auto* hook_id = find_member(changes, hook_id_param)) {
    const auto* stored_id = find_member(stored, hook_id_param);
    if (stored_id == nullptr || *stored_id != *hook_id)
      return failure(api_outcome::invalid, "hookId: is set by the provider", "hookId");
  }
  auto merged = merge_members(std::move(stored), changes);
  auto config = make_feed_config(entry.record.feed, std::move(merged), self->state.cfg.env->now(),
                                 validation_time::request, cmd.trigger.key(), *self->state.cfg.env->egress, &changes);
  if (!config)
    return invalid_field(config.error());
  auto params_json = to_json_object(config->params);
  return reconfigure(self, cmd.trigger, std::move(*config), std::move(params_json), entry.record.status.checkpoint);
}

/// Removes a registration from the store first and from memory once that committed, so a failed commit leaves it
/// running rather than coming back from the store after a restart.
void remove_registration(registry_pointer self, const trigger_ref& trigger, std::optional<result_promise> rp) {
  self->request(self->state.cfg.env->store, self->state.cfg.request_timeout, erase_atom::value, trigger)
    .then(
      [self, trigger, rp](commit_atom) mutable {
        auto& entries = self->state.entries;
        if (auto i = entries.find(trigger.key()); i != entries.end())
          erase_entry(self, i);
        if (rp)
          rp->deliver(success(api_outcome::removed));
      },
      [trigger, rp](caf::error& err) mutable {
        log(log_level::error, "cannot remove ", trigger.qualified(), ": ", describe_child_error(err));
        if (rp)
          rp->deliver(unavailable("cannot remove the registration", err));
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
  auto listed = [&](name_index::const_iterator x) { return x != index.end() && (all || x->first.ns == ns); };
  for (; listed(i) && page.views.size() < limit; ++i)
    page.views.push_back(listed_view(self, *i->second));
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

/// Hands a webhook request to its registration, which checks, stores and answers it. Delegated: the trigger answers
/// the caller directly, one message fewer per event (the caller's own time-out still applies).
caf::result<api_result> hook(registry_pointer self, api_command& cmd) {
  auto& st = self->state;
  auto key = st.hooks.find(cmd.hook_id);
  auto entry = key == st.hooks.end() ? st.entries.end() : st.entries.find(key->second);
  if (entry == st.entries.end())
    return failure(api_outcome::not_found, "no webhook registration has this id", "hookId");
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
  auto* entry = find_owned(self, cmd.trigger, hash);
  if (entry == nullptr)
    return not_found(cmd.trigger);
  if (cmd.op == api_op::update || cmd.op == api_op::pause || cmd.op == api_op::resume)
    if (auto refused = refuse_if_admin_disabled(*entry))
      return std::move(*refused);
  switch (cmd.op) {
    case api_op::read:
      return ask_trigger(self, cmd.trigger, durability::none, snapshot_atom::value);
    case api_op::update:
      return update(self, cmd, *entry);
    case api_op::remove: {
      auto rp = self->make_response_promise<api_result>();
      remove_registration(self, cmd.trigger, rp);
      return rp;
    }
    case api_op::pause:
      return ask_trigger(self, cmd.trigger, durability::committed, pause_atom::value);
    case api_op::resume:
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
  auto known = st.by_trigger.find(msg.source);
  if (known == st.by_trigger.end())
    return;
  auto& entry = *known->second;
  auto key = entry.record.trigger.key();
  // A trigger actor only fails on a bug of ours; keep the registration visible but stopped.
  auto text = describe_child_error(msg.reason);
  log(log_level::error, "trigger actor of ", entry.record.trigger.qualified(), " failed: ", text);
  auto record = entry.record;
  // An operator's disable stays as it is: stored as AUTO, it would let the owner resume after a restart.
  if (!admin_disabled(record.status)) {
    st.cfg.env->stats->count_auto_disable(record.feed);
    record.status.state = registration_state::disabled;
    record.status.reason = {reason_kind::automatic, 0, "trigger actor failed: " + text};
    record.status.date_changed = st.cfg.env->now();
    self->send(st.cfg.env->store, status_atom::value, record.trigger, record.status);
  }
  auto hook_id = entry.hook_id;
  unindex(self, entry);
  start_entry(self, std::move(record), std::nullopt);
  // The stopped registration keeps its hook URL, so a sender is told 503 (and DELETE forgets the URL).
  st.entries.at(key).hook_id = hook_id;
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

registry_private::behavior_type registry_impl(registry_pointer self, registry_config cfg,
                                              std::shared_ptr<std::vector<registration_record>> records) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) { on_trigger_down(self, msg); });
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
  };
}

} // namespace

registry_actor spawn_registry(caf::actor_system& sys, registry_config cfg, std::vector<registration_record> records) {
  return sys.spawn(registry_impl, std::move(cfg),
                   std::make_shared<std::vector<registration_record>>(std::move(records)));
}

} // namespace feedrouter
