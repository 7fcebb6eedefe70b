#include "core/webhook_delivery.hpp"

#include <algorithm>
#include <optional>

#include "core/json.hpp"
#include "core/replay_window.hpp"
#include "core/text.hpp"
#include "core/webhook_signature.hpp"

namespace feedrouter {

namespace {

/// The event GitHub sends when a hook is created (and on demand) to check that the URL answers.
constexpr std::string_view ping_event = "ping";

/// Returns why a Standard Webhooks delivery is refused, or nullopt when it is signed and fresh: the signature over its
/// id, timestamp and body first, then the timestamp against the tolerance.
std::optional<webhook_verdict> judge_standard(const webhook_spec& spec, const webhook_delivery& delivery, sys_ms now) {
  auto key = standard_secret_key(spec.secret);
  auto id = find_header(delivery, standard_id_header);
  auto timestamp = find_header(delivery, standard_timestamp_header);
  if (!key || !verify_standard_signature(*key, id, timestamp, delivery.body,
                                         find_header(delivery, standard_signature_header)))
    return webhook_verdict{webhook_verdict::kind::bad_signature, {}, std::string{standard_signature_header}, {}};
  auto seconds = parse_standard_timestamp(timestamp);
  if (!seconds || !standard_timestamp_fresh(*seconds, now))
    return webhook_verdict{webhook_verdict::kind::bad_timestamp, {}, std::string{standard_timestamp_header}, {}};
  return std::nullopt;
}

} // namespace

std::string_view find_header(const webhook_delivery& delivery, std::string_view name) {
  for (const auto& [key, value] : delivery.headers)
    if (iequals(key, name))
      return value;
  return {};
}

webhook_verdict judge_webhook(const webhook_spec& spec, const webhook_delivery& delivery, std::string_view fire_body,
                              sys_ms now) {
  if (spec.signature == webhook_spec::signature_kind::standard) {
    if (auto refused = judge_standard(spec, delivery, now))
      return std::move(*refused);
  } else {
    auto token = spec.signature == webhook_spec::signature_kind::token;
    auto header = token ? token_header : signature_header;
    auto signed_ok = token ? verify_token(spec.secret, find_header(delivery, header))
                           : verify_hmac_sha256(spec.secret, delivery.body, find_header(delivery, header));
    if (!signed_ok)
      return {webhook_verdict::kind::bad_signature, {}, std::string{header}, {}};
  }
  std::string_view event_value;
  if (!spec.event_header.empty())
    event_value = find_header(delivery, spec.event_header);
  if (spec.answers_ping && event_value == ping_event)
    return {webhook_verdict::kind::ping, {}, {}, {}};
  std::string delivery_id;
  if (!spec.delivery_header.empty()) {
    auto id = find_header(delivery, spec.delivery_header);
    if (id.empty() || id.size() > max_delivery_id_length)
      return {webhook_verdict::kind::bad_delivery_id, {}, spec.delivery_header, {}};
    delivery_id = std::string{id};
  }
  if (!spec.events.empty() && std::find(spec.events.begin(), spec.events.end(), event_value) == spec.events.end())
    return {webhook_verdict::kind::ignore, {}, {}, std::move(delivery_id)};
  auto payload = webhook_payload(delivery.body, event_value, !spec.event_header.empty());
  return {webhook_verdict::kind::accept, merge_object_defaults(payload, fire_body), {}, std::move(delivery_id)};
}

} // namespace feedrouter
