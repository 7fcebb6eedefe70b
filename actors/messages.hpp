#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/cluster_view.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/delivery_core.hpp"
#include "core/registration.hpp"
#include "core/retry_policy.hpp"
#include "core/status_json.hpp"
#include "core/trigger_ref.hpp"
#include "core/webhook_delivery.hpp"
#include "store/store.hpp"

namespace feedrouter {

/// What the control API asks the registry to do; one per lifecycle route.
enum class api_op { create, read, update, remove, pause, resume, list, dead_letters, replay, hook };

/// Registrations one list answer shows unless the caller asks for fewer or more, and at most.
inline constexpr std::size_t default_list_limit = 100;
inline constexpr std::size_t max_list_limit = 1000;

/// One lifecycle request, already parsed and checked for form by the control API.
struct api_command {
  api_op op = api_op::read;
  trigger_ref trigger;   ///< for list only `ns` is set
  std::size_t limit = default_list_limit; ///< list: registrations in the answer at most
  std::optional<trigger_ref> after;       ///< list: the answer starts after this registration (the cursor)
  std::string auth_key;  ///< the caller's "uuid:key"
  std::string feed;      ///< create: the feed kind
  json_members params;   ///< create: all feed parameters; update: those to change
  std::string hook_id;   ///< hook: the id in the hook URL
  webhook_delivery hook; ///< hook: what the sender sent
  bool from_feed_action = false; ///< came through the feed-action protocol (POST /v1/lifecycle)
};

/// What an operator with the admin key asks the registry to do (docs/operations.md, "Admin key").
enum class admin_op {
  list,       ///< a page of the registrations of every namespace, or of one
  namespaces, ///< a page of the namespaces with how many registrations each has
  read,       ///< one registration
  disable,    ///< disables one registration with reason ADMIN; only an operator lifts it
  enable,     ///< makes one registration active again, whatever stopped it
};

/// Characters an operator's message for an ADMIN disable may have at most.
inline constexpr std::size_t max_admin_message = 1024;

/// One request of an operator, already authenticated and checked for form by the control API.
struct admin_command {
  admin_op op = admin_op::list;
  trigger_ref trigger;                    ///< read, disable, enable: the registration
  std::string ns;                         ///< list: only this namespace; empty for all
  std::size_t limit = default_list_limit; ///< list, namespaces: entries in the answer at most
  std::optional<trigger_ref> after;       ///< list: the answer starts after this registration (the cursor)
  std::optional<std::string> after_ns;    ///< namespaces: the answer starts after this namespace (the cursor)
  std::string message;                    ///< disable: why, shown to the owner; may be empty
};

/// How a lifecycle request ended. The control API shows each as an HTTP status (app/api_answers.hpp).
enum class api_outcome {
  ok,           ///< done; the body shows the result
  created,      ///< a new registration
  replaced,     ///< a CREATE replaced the registration of the same trigger
  removed,      ///< gone; nothing to show
  accepted,     ///< taken to be carried out later: a webhook event stored, dead letters queued for firing
  invalid,      ///< a parameter is wrong; `field` names it
  unauthorized, ///< the key or the signature was refused
  forbidden,    ///< the key may not use this trigger
  not_found,    ///< nothing of that name for this key
  conflict,     ///< the registration's state does not allow it now; `error` says why
  too_many,     ///< a bound is reached; the caller may try again after `retry_after`
  over_quota,   ///< a quota of the namespace is reached; waiting alone does not help, removing registrations does
  unavailable,  ///< a part the answer depends on (the store, the controller, a trigger) did not answer
  not_owner,    ///< cluster: this instance does not run the registration's shard (any more); ask its owner
};

/// Why a webhook request was answered without storing an event.
enum class hook_skip {
  filtered,  ///< the event kind is not among the registration's `events`
  ping,      ///< GitHub's `ping`, which checks that the hook URL answers
  duplicate, ///< the registration took this delivery id already (a redelivery or a replay)
};

/// A webhook event taken: stored under `seq`, or not stored (`ignored`) for the reason `skip`.
struct hook_receipt {
  bool ignored = false;
  std::uint64_t seq = 0;
  hook_skip skip = hook_skip::filtered;
};

/// Dead letters moved back to be fired.
struct replay_receipt {
  std::size_t replayed = 0;
};

/// One page of a list of registrations, in the order of their names.
struct registration_page {
  std::vector<registration_view> views;
  /// The last registration shown, when more follow: the next page starts after it. nullopt on the last page.
  std::optional<trigger_ref> next;
};

/// One page of the namespaces that have registrations, in the order of their names.
struct namespace_page {
  std::vector<namespace_count> namespaces;
  /// The last namespace shown, when more follow: the next page starts after it. nullopt on the last page.
  std::optional<std::string> next;
};

/// What an answer shows besides its outcome.
using api_body = std::variant<std::monostate, registration_view, registration_page, std::vector<dead_letter>,
                              hook_receipt, replay_receipt, namespace_page, cluster_report>;

/// The answer to one lifecycle request or webhook event, in the provider's terms; app/ turns it into HTTP.
struct api_result {
  api_outcome outcome = api_outcome::ok;
  api_body body;
  std::string error; ///< failures: what is wrong, for the caller
  std::string field; ///< failures: the input field it is about; empty when none
  /// too_many, and unavailable at a bound of sources: how long to wait before trying again; 0 when unknown.
  std::chrono::seconds retry_after{0};
};

/// Returns a failure: `outcome` with `error` about `field`.
inline api_result failure(api_outcome outcome, std::string error, std::string field = {}) {
  api_result r;
  r.outcome = outcome;
  r.error = std::move(error);
  r.field = std::move(field);
  return r;
}

/// Returns the failure for a parameter that did not validate, naming it.
inline api_result invalid_field(const field_error& err) {
  return failure(api_outcome::invalid, err.field + ": " + err.message, err.field);
}

/// Returns a success: `outcome` showing `body`.
inline api_result success(api_outcome outcome, api_body body = {}) {
  api_result r;
  r.outcome = outcome;
  r.body = std::move(body);
  return r;
}

/// What a trigger actor reports about itself.
struct trigger_snapshot {
  registration_status status;
  live_status live;
};

/// The result of one call to the OpenWhisk controller: a fire, or an authKey check.
struct http_outcome {
  int status_code = 0; ///< HTTP status, 0 when no response arrived
  std::string error;   ///< transport error or the controller's error text; empty on 2xx

  bool ok() const noexcept {
    return status_code >= 200 && status_code < 300;
  }
};

/// Keeps one fire counted as in flight (metrics::fires_in_flight, which shutdown waits on) for as long as it lives.
///
/// It travels with the fire's outcome from the HTTP completion to the trigger, which lets it go only once it has
/// handed the outcome's store changes to the store actor: a shutdown that flushes the store after the count reached
/// zero then also commits them. A message that is dropped (its actor is gone) lets it go as well.
struct wire_token {
  std::shared_ptr<const void> hold;
};

/// The answer to one fire, on its way from the HTTP client to the fire's trigger.
struct fire_result {
  std::uint64_t id = 0; ///< the fire_unit's id
  fire_outcome outcome;
  wire_token in_flight; ///< the fire, still counted as in flight
};

/// A trigger's new parameters (UPDATE), and the position its source starts from when the registry prepared one.
struct trigger_update {
  feed_config config;
  std::string params_json;
  std::optional<std::string> checkpoint;
};

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::api_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::admin_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::http_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::wire_token)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::feed_config)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::registration_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::registration_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::trigger_ref>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::sys_ms)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::fire_unit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::fire_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::trigger_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::webhook_delivery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::stored_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::dead_letter)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::pending_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::dead_letter>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::store_op>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::fencing_token)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::registration_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<feedrouter::registration_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<feedrouter::trigger_ref>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<feedrouter::namespace_count>)
