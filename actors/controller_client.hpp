#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "core/trigger_ref.hpp"
#include "core/url.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// The actor that asks the OpenWhisk controller about triggers and rules, with the key each request names (the
/// trigger owner's "uuid:key"). Every answer carries the controller's http_outcome: status_code 0 means the
/// controller could not be reached (error says why); otherwise `error` holds the controller's answer when it was not
/// 2xx.
using controller_actor = caf::typed_actor<
  /// Whether the key may use the trigger: `GET {api_host}/api/v1/namespaces/{ns}/triggers/{name}`; 200 means it may.
  caf::replies_to<verify_atom, trigger_ref, std::string>::with<http_outcome>,
  /// The key's first namespace, which is what OpenWhisk means by "_": `GET {api_host}/api/v1/namespaces`.
  caf::replies_to<namespaces_atom, std::string>::with<http_outcome, std::string>,
  /// The trigger's rules as OpenWhisk names them ("ns/rule", the keys of its "rules" member): the trigger's GET.
  caf::replies_to<rules_atom, trigger_ref, std::string>::with<http_outcome, std::vector<std::string>>,
  /// Deletes the trigger: `DELETE .../triggers/{name}`.
  caf::replies_to<delete_trigger_atom, trigger_ref, std::string>::with<http_outcome>,
  /// Deletes the rule "ns/rule": `DELETE {api_host}/api/v1/namespaces/{ns}/rules/{rule}`.
  caf::replies_to<delete_rule_atom, std::string, std::string>::with<http_outcome>,
  /// Deactivates the rule "ns/rule" (`POST .../rules/{rule}` with `{"status": "inactive"}`), which controllers older
  /// than OpenWhisk's current one want before they delete an active rule.
  caf::replies_to<deactivate_rule_atom, std::string, std::string>::with<http_outcome>>;

/// Spawns the controller client; its requests go through `client` to `api_host` and may take `timeout` each.
controller_actor spawn_controller_client(caf::actor_system& sys, http_client_ptr client, url api_host,
                                         std::chrono::milliseconds timeout);

/// Returns the URL of a trigger's REST resource below `api_host`.
url trigger_url(const url& api_host, const trigger_ref& trigger);

/// Returns the names of the rules in OpenWhisk's JSON of a trigger (the keys of its "rules" object), at most
/// `limit` of them; none when it has no such member or is not a JSON object.
std::vector<std::string> rules_of_trigger(std::string_view trigger_json, std::size_t limit);

} // namespace feedrouter
