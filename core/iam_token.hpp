#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/outcome.hpp"

namespace feedrouter {

// IBM Cloud IAM: an API key is exchanged for a short-lived bearer token (`POST {iamUrl}`), which every request to the
// database then carries as `Authorization: Bearer <token>`. The token lives in memory only; the key is a secret like
// a password (sealed at rest, never shown, never logged).

/// The grant of the exchange, as IBM's token service names it.
inline constexpr std::string_view iam_grant_type = "urn:ibm:params:oauth:grant-type:apikey";

/// The share of a token's lifetime after which it is renewed before the next request, as IBM's SDKs do: early enough
/// that a request never carries a token that expires on its way.
inline constexpr double iam_refresh_share = 0.8;

/// The lifetime assumed when the service names none, and the longest taken from it: IBM's tokens live an hour.
inline constexpr std::chrono::seconds iam_default_lifetime{3600};
inline constexpr std::chrono::seconds iam_max_lifetime{24 * 3600};

/// Longest token taken from the service; IBM's are a few KB.
inline constexpr std::size_t iam_max_token_length = 16 * 1024;

/// Returns the form body of the exchange (Content-Type application/x-www-form-urlencoded):
/// grant_type=...&response_type=cloud_iam&apikey=<key>, each value percent-encoded.
std::string iam_token_request_body(std::string_view api_key);

/// A token from the service, and when to renew it.
struct iam_token {
  std::string access_token;
  /// Renew after this long from when it was received (iam_refresh_share of its lifetime).
  std::chrono::milliseconds renew_after{0};
};

/// Reads the service's 200 answer: `access_token` (a non-empty string) and `expires_in` (seconds; `expiration`, epoch
/// seconds, is not used: the provider's clock need not agree with the service's). A failure names "iamApiKey" and
/// says what is wrong in words of ours: the answer itself, which may echo credentials, is never quoted.
outcome<iam_token> read_iam_token(std::string_view body);

/// Returns the Authorization header value for `token`.
std::string bearer_authorization(std::string_view token);

} // namespace feedrouter
