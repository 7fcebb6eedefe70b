#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time_format.hpp"
#include "core/webhook_spec.hpp"

namespace feedrouter {

/// The header carrying a GitHub-style HMAC-SHA256 signature of the body.
inline constexpr std::string_view signature_header = "X-Hub-Signature-256";

/// The header carrying a shared token.
inline constexpr std::string_view token_header = "X-Feedrouter-Token";

/// One request a webhook sender made, as the control API read it: the raw body and the sender's headers, from which a
/// registration takes its signature and, when it names one, its event header.
struct webhook_delivery {
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< name and value, as sent
};

/// What a webhook registration makes of a delivery.
struct webhook_verdict {
  enum class kind {
    accept,        ///< fire `payload`
    ignore,        ///< the event kind is not among the registration's `events`
    bad_signature, ///< the signature (or token) in `header` is missing or wrong
    ping,          ///< a signed `ping` of a registration that answers pings: answered, not fired
    bad_delivery_id, ///< the delivery id header `header` is missing, or longer than max_delivery_id_length
    bad_timestamp,   ///< Standard Webhooks: `header` (webhook-timestamp) is malformed or outside the tolerance
  };

  kind what = kind::accept;
  std::string payload; ///< accept: the trigger payload, `fire_body` merged in
  std::string header;  ///< bad_signature, bad_delivery_id, bad_timestamp: the header to fix
  std::string delivery_id; ///< accept, ignore: the delivery's id when the registration has a replay window
};

/// Returns the value of header `name` (compared without regard to case), or an empty view when it is absent.
std::string_view find_header(const webhook_delivery& delivery, std::string_view name);

/// Judges `delivery` for a registration with `spec` at `now`: the signature first, then (Standard Webhooks) its
/// timestamp, a ping, the delivery id and the event filter; an accepted event's payload is webhook_payload() with the
/// registration's `trigger_payload` object `fire_body` merged in. Whether the id was seen before is for the
/// registration's replay window to say.
webhook_verdict judge_webhook(const webhook_spec& spec, const webhook_delivery& delivery, std::string_view fire_body,
                              sys_ms now);

} // namespace feedrouter
