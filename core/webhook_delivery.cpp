#include "core/webhook_delivery.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "core/text.hpp"
#include "core/webhook_signature.hpp"

namespace feedrouter {

std::string_view find_header(const webhook_delivery& delivery, std::string_view name) {
  for (const auto& [key, value] : delivery.headers)
    if (iequals(key, name))
      return value;
  return {};
}

webhook_verdict judge_webhook(const webhook_spec& spec, const webhook_delivery& delivery, std::string_view fire_body) {
  auto token = spec.signature == webhook_spec::signature_kind::token;
  auto header = token ? token_header : signature_header;
  auto signed_ok = token ? verify_token(spec.secret, find_header(delivery, header))
                         : verify_hmac_sha256(spec.secret, delivery.body, find_header(delivery, header));
  if (!signed_ok)
    return {webhook_verdict::kind::bad_signature, {}, std::string{header}};
  std::string_view event_value;
  if (!spec.event_header.empty()) {
    event_value = find_header(delivery, spec.event_header);
    if (!spec.events.empty() && std::find(spec.events.begin(), spec.events.end(), event_value) == spec.events.end())
      return {webhook_verdict::kind::ignore, {}, {}};
  }
  auto payload = webhook_payload(delivery.body, event_value, !spec.event_header.empty());
  return {webhook_verdict::kind::accept, merge_object_defaults(payload, fire_body), {}};
}

} // namespace feedrouter
