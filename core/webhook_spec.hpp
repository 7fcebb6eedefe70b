#pragma once

#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/outcome.hpp"

namespace feedrouter {

/// The settings of a `webhook` registration, validated.
struct webhook_spec {
  enum class signature_kind {
    hmac_sha256, ///< GitHub style: X-Hub-Signature-256: sha256=HMAC(secret, body)
    token,       ///< a shared token in X-Feedrouter-Token
    standard,    ///< Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature under a whsec_ secret
  };

  std::string hook_id; ///< the provider-made id in the hook URL
  std::string secret;
  signature_kind signature = signature_kind::hmac_sha256;
  std::vector<std::string> events; ///< accepted values of event_header; empty accepts every event
  std::string event_header;        ///< the header naming the event kind; empty when none is configured
  /// The header naming each delivery (`deliveryHeader`; X-GitHub-Delivery for github; webhook-id for Standard
  /// Webhooks): a delivery whose id the registration's replay window holds is taken once. Empty: no replay window.
  std::string delivery_header;
  bool answers_ping = false; ///< github: a signed `ping` event is answered 2xx and not fired
};

/// Parameters the provider sets itself and a caller may not give.
inline constexpr std::string_view hook_id_param = "hookId";

/// Validates the webhook parameters (`secret`, `signature`, `events`, `eventHeader`, `deliveryHeader`, and the
/// provider-made `hookId`);
/// failures name the parameter.
outcome<webhook_spec> parse_webhook_spec(const json_members& params);

/// Returns a new secret for a hook registration with `params` that gives none: a Standard Webhooks one ("whsec_...")
/// for `"signature": "standard"`, a hex one otherwise.
std::string generate_webhook_secret(const json_members& params);

/// Returns the trigger payload for a webhook request: the JSON object body as is, any other body wrapped as
/// {"body": ...} (JSON values as they are, other text as a string), with {"event": value} added when an event header
/// is configured.
std::string webhook_payload(std::string_view body, std::string_view event_value, bool has_event_header);

} // namespace feedrouter
