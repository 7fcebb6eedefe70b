#include "core/iam_token.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "core/url.hpp"

namespace feedrouter {

std::string iam_token_request_body(std::string_view api_key) {
  return "grant_type=" + percent_encode(iam_grant_type) + "&response_type=cloud_iam&apikey=" + percent_encode(api_key);
}

outcome<iam_token> read_iam_token(std::string_view body) {
  auto members = parse_json_object(body, "iamApiKey");
  if (!members)
    return field_error{"iamApiKey", "the IAM token service's answer is not a JSON object"};
  const auto* raw = find_member(*members, "access_token");
  auto token = raw != nullptr ? json_as_string(*raw) : std::nullopt;
  if (!token || token->empty() || token->size() > iam_max_token_length)
    return field_error{"iamApiKey", "the IAM token service's answer holds no usable access_token"};
  auto lifetime = iam_default_lifetime;
  if (const auto* expires_in = find_member(*members, "expires_in"))
    if (auto seconds = json_as_int(*expires_in); seconds && *seconds > 0)
      lifetime = std::min(std::chrono::seconds{*seconds}, iam_max_lifetime);
  const auto renew = std::chrono::duration_cast<std::chrono::milliseconds>(lifetime * iam_refresh_share);
  return iam_token{std::move(*token), renew};
}

std::string bearer_authorization(std::string_view token) {
  return "Bearer " + std::string{token};
}

} // namespace feedrouter
