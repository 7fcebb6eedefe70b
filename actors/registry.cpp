#include "actors/registry.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/trigger.hpp"
#include "actors/child_error.hpp"
#include "actors/sources/changes_position.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/status_json.hpp"
#include "core/webhook_signature.hpp"

namespace feedrouter {

namespace {

/// Random bytes in a hook id: 128 bits, so hook URLs cannot be guessed.
constexpr std::size_t hook_id_bytes = 16;

/// Dead letters one GET shows at most.
constexpr std::size_t dead_letter_page = 1000;

std::string to_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

/// Parameters that steer the lifecycle protocol itself and are never stored as feed parameters.
const std::vector<std::string_view> protocol_params = {"feed", "lifecycleEvent", "triggerName", "authKey"};

struct registry_entry {
  registration_record record; ///< status as of the trigger's last snapshot; the trigger actor owns the live one
  caf::actor trigger;
  std::string hook_id; ///< webhooks: the id in the hook URL
};

struct registry_state {
  registry_config cfg;
  std::unordered_map<std::string, registry_entry> entries;
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

using registry_pointer = registry_actor::stateful_pointer<registry_state>;
using reply_promise = caf::typed_response_promise<api_reply>;

api_reply error_reply(int status, std::string_view message, std::string_view field = {}) {
  return {status, render_error(message, field)};
}

/// Answers 400 for a parameter that failed validation, naming it.
api_reply invalid(const field_error& err) {
  return error_reply(400, err.field + ": " + err.message, err.field);
}

api_reply unavailable(std::string_view what, const caf::error& err) {
  return error_reply(503, std::string{what} + ": " + describe_child_error(err));
}

api_reply not_found(const trigger_ref& trigger) {
  return error_reply(404, "no registration for trigger " + trigger.qualified() + " with this authKey");
}

/// The namespace name OpenWhisk users write for "my own namespace".
constexpr std::string_view default_namespace = "_";

/// Resolves `_/name` for a caller: the namespace of the one registration of that name the key owns. The key's
/// namespace is whichever the controller verified at CREATE, so no request to the controller is needed here.
void resolve_default_namespace(registry_pointer self, api_command& cmd) {
  if (cmd.trigger.ns != default_namespace)
    return;
  auto hash = self->state.cfg.hash_key(cmd.auth_key);
  for (const auto& [key, entry] : self->state.entries) {
    if (entry.record.trigger.name == cmd.trigger.name && constant_time_equal(entry.record.auth_hash, hash)) {
      cmd.trigger.ns = entry.record.trigger.ns;
      return;
    }
  }
}

/// Returns the entry of `trigger` if `auth_key` owns it. Anyone else is told nothing exists, so a key cannot probe for
/// other namespaces' triggers.
registry_entry* find_owned(registry_pointer self, const trigger_ref& trigger, const std::string& auth_key) {
  auto i = self->state.entries.find(trigger.key());
  if (i == self->state.entries.end())
    return nullptr;
  if (!constant_time_equal(i->second.record.auth_hash, self->state.cfg.hash_key(auth_key)))
    return nullptr;
  return &i->second;
}

/// Renders an entry with a fresh snapshot, keeping the snapshot as the registry's copy of the status.
api_reply view_reply(registry_pointer self, int status, const trigger_ref& trigger, const trigger_snapshot& snap) {
  auto i = self->state.entries.find(trigger.key());
  if (i == self->state.entries.end())
    return not_found(trigger);
  i->second.record.status = snap.status;
  return {status, render_registration(i->second.record, snap.live)};
}

/// Returns the config of a stored registration, or nullopt (and the record disabled, saying why) when its parameters
/// no longer validate.
std::optional<feed_config> restore_config(registry_pointer self, registration_record& record) {
  auto fail = [&](const field_error& err) {
    record.status.state = registration_state::disabled;
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

void start_entry(registry_pointer self, registration_record record, std::optional<feed_config> config) {
  auto key = record.trigger.key();
  std::string hook_id;
  if (config && config->webhook) {
    hook_id = config->webhook->hook_id;
    self->state.hooks[hook_id] = key;
  }
  auto trigger = spawn_trigger(self, self->state.cfg.env, record, std::move(config));
  self->monitor(trigger);
  self->state.entries[key] = registry_entry{std::move(record), std::move(trigger), std::move(hook_id)};
}

/// Stops a registration's actors and forgets it.
void erase_entry(registry_pointer self, std::unordered_map<std::string, registry_entry>::iterator entry) {
  self->demonitor(entry->second.trigger);
  self->send_exit(entry->second.trigger, caf::exit_reason::user_shutdown);
  if (!entry->second.hook_id.empty())
    self->state.hooks.erase(entry->second.hook_id);
  self->state.entries.erase(entry);
}

/// Whether an answer must wait until the change it reports is committed; `resumed` also requires the registration to
/// be active afterwards (a schedule that is used up, or invalid stored parameters, keep it disabled).
enum class durability { none, committed, resumed };

/// Sends `msg` to the trigger of `trigger` and answers the API with its snapshot. With durability::committed the
/// answer waits for a store flush: the trigger sent its status to the store before answering us, so the flush
/// queues behind it and its commit covers the change.
template <class... Ts>
void ask_trigger_for(registry_pointer self, reply_promise rp, const trigger_ref& trigger, durability wait,
                     Ts&&... msg) {
  const auto& entry = self->state.entries.at(trigger.key());
  auto timeout = self->state.cfg.request_timeout;
  self->request(entry.trigger, timeout, std::forward<Ts>(msg)...)
    .then(
      [self, rp, trigger, wait, timeout](trigger_snapshot& snap) mutable {
        if (wait == durability::resumed && snap.status.state != registration_state::active) {
          rp.deliver(error_reply(409, "cannot resume: " + snap.status.reason.message, "state"));
          return;
        }
        if (wait == durability::none) {
          rp.deliver(view_reply(self, 200, trigger, snap));
          return;
        }
        self->request(self->state.cfg.env->store, timeout, flush_atom::value)
          .then([self, rp, trigger, snap](commit_atom) mutable { rp.deliver(view_reply(self, 200, trigger, snap)); },
                [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot store the change", err)); });
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("the registration did not answer", err)); });
}

/// As ask_trigger_for(), answering a promise of its own.
template <class... Ts>
reply_promise ask_trigger(registry_pointer self, const trigger_ref& trigger, durability wait, Ts&&... msg) {
  auto rp = self->make_response_promise<api_reply>();
  ask_trigger_for(self, rp, trigger, wait, std::forward<Ts>(msg)...);
  return rp;
}

// -- CREATE -------------------------------------------------------------------

/// The answer to CREATE; a webhook's adds `hookUrl` and `secret` at the top, the only time the secret is shown.
std::string creation_view(registry_pointer self, const registration_record& record, const feed_config& config) {
  live_status live;
  if (!config.webhook)
    return render_registration(record, live);
  live.hook_url = self->state.cfg.env->public_url + "/v1/hooks/" + config.webhook->hook_id;
  auto view = render_registration(record, live);
  json_writer extra;
  extra.begin_object().key("hookUrl").value(live.hook_url).key("secret").value(config.webhook->secret).end_object();
  // Both are objects: splice the extra members into the view.
  view.pop_back();
  view += ',';
  view += extra.str().substr(1);
  return view;
}

void persist_and_start(registry_pointer self, reply_promise rp, registration_record record, feed_config config) {
  auto key = record.trigger.key();
  ++self->state.creating[key];
  auto done_creating = [self, key] {
    if (--self->state.creating[key] == 0)
      self->state.creating.erase(key);
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
        auto view = creation_view(self, record, config);
        start_entry(self, std::move(record), std::move(config));
        rp.deliver(api_reply{replaced ? 200 : 201, std::move(view)});
      },
      [rp, done_creating](caf::error& err) mutable {
        done_creating();
        rp.deliver(unavailable("cannot store the registration", err));
      });
}

/// The answer to a CREATE whose database could not tell where it ends; the field says what to fix.
api_reply database_failure(const changes_end& end) {
  auto field = end.status_code == 404                               ? "dbname"
               : end.status_code == 401 || end.status_code == 403 ? "username"
                                                                   : "url";
  return error_reply(400, std::string{field} + ": cannot read where the database ends: " + end.error, field);
}

/// Reads where `spec`'s database ends and calls `then` with that position as a checkpoint; a database that cannot
/// say answers `rp` instead (400 naming the field to fix, or 503 when the reader did not answer).
template <class Then>
void with_position(registry_pointer self, reply_promise rp, const changes_spec& spec, Then then) {
  auto& st = self->state;
  // Half the registry's patience: the database's answer, good or bad, comes back before the caller gives up.
  auto reader = spawn_changes_end_reader(self->system(), st.cfg.env->client, spec, st.cfg.request_timeout / 2);
  self->request(reader, st.cfg.request_timeout, changes_end_atom::value)
    .then(
      [rp, spec, then = std::move(then)](changes_end& end) mutable {
        if (!end.ok()) {
          rp.deliver(database_failure(end));
          return;
        }
        then(to_changes_checkpoint(spec, end.seq));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot read where the database ends", err)); });
}

/// Stores and starts a registration; a `changes` one that starts `since: now` first learns where its database ends
/// and stores that as its position, so that a change written right after CREATE answers fires even if the provider
/// stops before the feed has connected.
void position_and_start(registry_pointer self, reply_promise rp, registration_record record, feed_config config) {
  auto& st = self->state;
  if (!config.changes || config.changes->since != "now" || !st.cfg.env->client) {
    persist_and_start(self, rp, std::move(record), std::move(config));
    return;
  }
  auto spec = config.changes;
  with_position(self, rp, *spec, [self, rp, record = std::move(record), config = std::move(config)](
                                   std::string checkpoint) mutable {
    record.status.checkpoint = std::move(checkpoint);
    persist_and_start(self, rp, std::move(record), std::move(config));
  });
}

api_reply verification_failure(const trigger_ref& trigger, const http_outcome& outcome) {
  switch (outcome.status_code) {
    case 0:
      return error_reply(503, "cannot verify the authKey: OpenWhisk is unreachable: " + outcome.error);
    case 401:
      return error_reply(401, "OpenWhisk rejected the authKey", "authKey");
    case 403:
      return error_reply(403, "the authKey may not access trigger " + trigger.qualified(), "authKey");
    case 404:
      return error_reply(404, "OpenWhisk has no trigger " + trigger.qualified(), "triggerName");
    default:
      return error_reply(503, "cannot verify the authKey: OpenWhisk answered HTTP "
                                + std::to_string(outcome.status_code));
  }
}

void create_verified(registry_pointer self, reply_promise rp, api_command cmd);

/// CREATE of `_/name`: asks the controller which namespace the key owns, then creates there.
reply_promise create_in_default_namespace(registry_pointer self, api_command& cmd) {
  auto rp = self->make_response_promise<api_reply>();
  auto& st = self->state;
  if (!st.cfg.controller) {
    rp.deliver(error_reply(400, "triggerName: the namespace \"_\" can only be resolved with authKey verification; "
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

reply_promise create(registry_pointer self, api_command& cmd) {
  if (cmd.trigger.ns == default_namespace)
    return create_in_default_namespace(self, cmd);
  auto rp = self->make_response_promise<api_reply>();
  create_verified(self, rp, std::move(cmd));
  return rp;
}

void create_verified(registry_pointer self, reply_promise rp, api_command cmd) {
  auto& st = self->state;
  auto now = st.cfg.env->now();
  auto params = without_members(std::move(cmd.params), protocol_params);
  if (find_member(params, hook_id_param) != nullptr) {
    rp.deliver(error_reply(400, "hookId: is set by the provider", "hookId"));
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
    rp.deliver(invalid(config.error()));
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
  if (config->alarm)
    record.status.triggers_left = config->alarm->max_triggers;
  if (!st.cfg.controller) {
    // Without verification a key may not take over another key's registration.
    auto existing = st.entries.find(cmd.trigger.key());
    if (existing != st.entries.end() && !constant_time_equal(existing->second.record.auth_hash, record.auth_hash)) {
      rp.deliver(error_reply(409, "trigger " + cmd.trigger.qualified() + " is registered with another authKey",
                             "authKey"));
      return;
    }
    position_and_start(self, rp, std::move(record), std::move(*config));
    return;
  }
  self->request(*st.cfg.controller, st.cfg.request_timeout, verify_atom::value, cmd.trigger, cmd.auth_key)
    .then(
      [self, rp, record, config = std::move(*config)](http_outcome& outcome) mutable {
        if (outcome.status_code != 200) {
          rp.deliver(verification_failure(record.trigger, outcome));
          return;
        }
        position_and_start(self, rp, std::move(record), std::move(config));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot verify the authKey", err)); });
}

// -- UPDATE, DELETE -----------------------------------------------------------

/// Returns whether an UPDATE makes a `since: now` changes registration watch another database (new `url` or
/// `dbname`): its stored position does not apply there, so a new one is read first, as CREATE does.
bool needs_new_position(registry_pointer self, const registry_entry& entry, const feed_config& config) {
  return config.changes && config.changes->since == "now" && self->state.cfg.env->client
         && !restore_changes_seq(entry.record.status.checkpoint, *config.changes);
}

/// Reads where the registration's new database ends, then reconfigures its trigger to start there; the answer waits
/// until the new position is committed with the new parameters.
reply_promise update_at_new_position(registry_pointer self, trigger_ref trigger, feed_config config,
                                     std::string params_json) {
  auto rp = self->make_response_promise<api_reply>();
  auto spec = config.changes;
  with_position(self, rp, *spec, [self, rp, trigger, config = std::move(config),
                                  params_json = std::move(params_json)](std::string checkpoint) mutable {
    auto entry = self->state.entries.find(trigger.key());
    if (entry == self->state.entries.end()) {
      rp.deliver(not_found(trigger));
      return;
    }
    entry->second.record.params_json = params_json;
    entry->second.record.status.checkpoint = checkpoint;
    ask_trigger_for(self, rp, trigger, durability::committed, update_atom::value, std::move(config),
                    std::move(params_json), std::move(checkpoint));
  });
  return rp;
}

caf::result<api_reply> update(registry_pointer self, api_command& cmd, registry_entry& entry) {
  if (!cmd.feed.empty() && cmd.feed != entry.record.feed)
    return error_reply(400, "feed: cannot change the feed kind of a registration; delete and create it", "feed");
  auto changes = without_members(std::move(cmd.params), protocol_params);
  auto parsed = parse_json_object(entry.record.params_json, "params");
  auto stored = parsed ? std::move(*parsed) : json_members{};
  if (const auto* hook_id = find_member(changes, hook_id_param)) {
    const auto* stored_id = find_member(stored, hook_id_param);
    if (stored_id == nullptr || *stored_id != *hook_id)
      return error_reply(400, "hookId: is set by the provider", "hookId");
  }
  auto merged = merge_members(std::move(stored), changes);
  auto config = make_feed_config(entry.record.feed, std::move(merged), self->state.cfg.env->now(),
                                 validation_time::request, cmd.trigger.key(), *self->state.cfg.env->egress);
  if (!config)
    return invalid(config.error());
  auto params_json = to_json_object(config->params);
  if (needs_new_position(self, entry, *config))
    return update_at_new_position(self, cmd.trigger, std::move(*config), std::move(params_json));
  // The trigger stores its record with the new parameters itself; the answer waits for that commit.
  entry.record.params_json = params_json;
  return ask_trigger(self, cmd.trigger, durability::committed, update_atom::value, std::move(*config),
                     std::move(params_json));
}

/// Removes a registration from the store first and from memory once that committed, so a failed commit leaves it
/// running rather than coming back from the store after a restart.
void remove_registration(registry_pointer self, const trigger_ref& trigger, std::optional<reply_promise> rp) {
  self->request(self->state.cfg.env->store, self->state.cfg.request_timeout, erase_atom::value, trigger)
    .then(
      [self, trigger, rp](commit_atom) mutable {
        auto& entries = self->state.entries;
        if (auto i = entries.find(trigger.key()); i != entries.end())
          erase_entry(self, i);
        if (rp)
          rp->deliver(api_reply{204, {}});
      },
      [trigger, rp](caf::error& err) mutable {
        log(log_level::error, "cannot remove ", trigger.qualified(), ": ", describe_child_error(err));
        if (rp)
          rp->deliver(unavailable("cannot remove the registration", err));
      });
}

// -- list ----------------------------------------------------------------------

/// Collects the snapshots of several triggers and answers once all did (or failed to).
struct list_gather {
  reply_promise rp;
  std::vector<std::pair<trigger_ref, std::optional<trigger_snapshot>>> items;
  std::size_t outstanding = 0;
};

void finish_list(registry_pointer self, list_gather& gather) {
  json_writer out;
  out.begin_object().key("triggers").begin_array();
  for (auto& [trigger, snap] : gather.items) {
    auto i = self->state.entries.find(trigger.key());
    if (i == self->state.entries.end())
      continue;
    if (snap)
      i->second.record.status = snap->status;
    out.raw(render_registration(i->second.record, snap ? snap->live : live_status{}));
  }
  out.end_array().end_object();
  gather.rp.deliver(api_reply{200, out.take()});
}

reply_promise list(registry_pointer self, const api_command& cmd) {
  auto gather = std::make_shared<list_gather>();
  gather->rp = self->make_response_promise<api_reply>();
  auto hash = self->state.cfg.hash_key(cmd.auth_key);
  std::vector<caf::actor> triggers;
  for (auto& [key, entry] : self->state.entries) {
    auto in_namespace = cmd.trigger.ns == default_namespace || entry.record.trigger.ns == cmd.trigger.ns;
    if (!in_namespace || !constant_time_equal(entry.record.auth_hash, hash))
      continue;
    gather->items.emplace_back(entry.record.trigger, std::nullopt);
    triggers.push_back(entry.trigger);
  }
  gather->outstanding = triggers.size();
  if (triggers.empty()) {
    finish_list(self, *gather);
    return gather->rp;
  }
  for (std::size_t index = 0; index < triggers.size(); ++index) {
    auto done = [self, gather] {
      if (--gather->outstanding == 0)
        finish_list(self, *gather);
    };
    self->request(triggers[index], self->state.cfg.request_timeout, status_atom::value)
      .then([gather, index, done](trigger_snapshot& snap) { gather->items[index].second = std::move(snap);
                                                            done(); },
            [done](caf::error&) { done(); });
  }
  return gather->rp;
}

// -- dispatch --------------------------------------------------------------------

/// Hands a webhook request to its registration, which checks, stores and answers it. Delegated: the trigger answers
/// the caller directly, one message fewer per event (the caller's own time-out still applies).
caf::result<api_reply> hook(registry_pointer self, api_command& cmd) {
  auto& st = self->state;
  auto key = st.hooks.find(cmd.hook_id);
  auto entry = key == st.hooks.end() ? st.entries.end() : st.entries.find(key->second);
  if (entry == st.entries.end())
    return error_reply(404, "no webhook registration has this id", "hookId");
  self->delegate(entry->second.trigger, hook_atom::value, std::move(cmd));
  return caf::delegated<api_reply>{};
}

reply_promise dead_letters(registry_pointer self, const trigger_ref& trigger) {
  auto rp = self->make_response_promise<api_reply>();
  self->request(self->state.cfg.env->store, self->state.cfg.request_timeout, load_atom::value, trigger,
                dead_letter_page)
    .then([rp](std::vector<dead_letter>& letters) mutable { rp.deliver(api_reply{200, render_dead_letters(letters)}); },
          [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot read dead letters", err)); });
  return rp;
}

reply_promise replay(registry_pointer self, const registry_entry& entry) {
  auto rp = self->make_response_promise<api_reply>();
  self->request(entry.trigger, self->state.cfg.request_timeout, replay_atom::value)
    .then(
      [rp](std::size_t count) mutable {
        json_writer out;
        out.begin_object().key("replayed").value(static_cast<std::int64_t>(count)).end_object();
        rp.deliver(api_reply{202, out.take()});
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable("cannot replay dead letters", err)); });
  return rp;
}

caf::result<api_reply> handle(registry_pointer self, api_command& cmd) {
  if (cmd.op == api_op::hook)
    return hook(self, cmd);
  if (cmd.op == api_op::create)
    return create(self, cmd);
  if (cmd.op == api_op::list)
    return list(self, cmd);
  resolve_default_namespace(self, cmd);
  auto* entry = find_owned(self, cmd.trigger, cmd.auth_key);
  if (entry == nullptr)
    return not_found(cmd.trigger);
  switch (cmd.op) {
    case api_op::read:
      return ask_trigger(self, cmd.trigger, durability::none, status_atom::value);
    case api_op::update:
      return update(self, cmd, *entry);
    case api_op::remove: {
      auto rp = self->make_response_promise<api_reply>();
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
      return replay(self, *entry);
    case api_op::create:
    case api_op::list:
    case api_op::hook:
      break;
  }
  return error_reply(500, "unhandled lifecycle operation");
}

void on_trigger_down(registry_pointer self, caf::down_msg& msg) {
  auto& entries = self->state.entries;
  for (auto& [key, entry] : entries) {
    if (entry.trigger.address() != msg.source)
      continue;
    // A trigger actor only fails on a bug of ours; keep the registration visible but stopped.
    auto text = describe_child_error(msg.reason);
    log(log_level::error, "trigger actor of ", entry.record.trigger.qualified(), " failed: ", text);
    auto record = entry.record;
    record.status.state = registration_state::disabled;
    record.status.reason = {reason_kind::automatic, 0, "trigger actor failed: " + text};
    record.status.date_changed = self->state.cfg.env->now();
    self->send(self->state.cfg.env->store, status_atom::value, record.trigger, record.status);
    auto hook_id = entry.hook_id;
    start_entry(self, std::move(record), std::nullopt);
    // The stopped registration keeps its hook URL, so a sender is told 503 (and DELETE forgets the URL).
    self->state.entries[key].hook_id = hook_id;
    return;
  }
}

/// Stored registrations started per message at start-up.
constexpr std::size_t start_batch = 500;

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
    self->delayed_send(self, std::chrono::milliseconds{0}, load_atom::value);
    return;
  }
  st.unstarted.reset();
  for (auto& waiter : st.ready_waiters)
    waiter.deliver(st.entries.size());
  st.ready_waiters.clear();
}

registry_actor::behavior_type registry_impl(registry_pointer self, registry_config cfg,
                                            std::shared_ptr<std::vector<registration_record>> records) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) { on_trigger_down(self, msg); });
  self->state.unstarted = std::move(records);
  start_next_batch(self);
  return {
    [self](api_command& cmd) -> caf::result<api_reply> { return handle(self, cmd); },
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
    [self](load_atom) { start_next_batch(self); },
  };
}

} // namespace

registry_actor spawn_registry(caf::actor_system& sys, registry_config cfg, std::vector<registration_record> records) {
  return sys.spawn(registry_impl, std::move(cfg),
                   std::make_shared<std::vector<registration_record>>(std::move(records)));
}

} // namespace feedrouter
