#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/egress_policy.hpp"
#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/url.hpp"
#include "core/webhook_spec.hpp"

namespace feedrouter {

/// The settings of a `github` registration, validated: the repository whose hook it installs, and how.
struct github_spec {
  url api;                 ///< apiUrl (or baseUrl): https://api.github.com, or a GitHub Enterprise .../api/v3
  std::string owner;       ///< the repository's owner (`username` when `repository` names no owner)
  std::string repository;  ///< the repository's name
  std::string access_token; ///< sent as `Authorization: Bearer`; never shown or logged
  std::vector<std::string> events; ///< the hook's events at GitHub; "*" is every event
  std::int64_t hook_id = 0; ///< githubHookId: the hook's id at GitHub, 0 until it is installed

  /// Returns "owner/repository".
  std::string full_name() const {
    return owner + "/" + repository;
  }
};

/// The parameter in which the provider keeps the id GitHub gave the hook; a caller may not give it.
inline constexpr std::string_view github_hook_id_param = "githubHookId";

/// The header GitHub names the event kind in.
inline constexpr std::string_view github_event_header = "X-GitHub-Event";

/// The header GitHub names a delivery in; a redelivery repeats it.
inline constexpr std::string_view github_delivery_header = "X-GitHub-Delivery";

/// Where GitHub's API is unless `apiUrl` says otherwise.
inline constexpr std::string_view default_github_api_url = "https://api.github.com";

/// Validates the github parameters (`username`, `repository`, `accessToken`, `events`, `apiUrl` or its alias
/// `baseUrl`, and the provider-made `githubHookId`); failures name the parameter. An `apiUrl` that `egress` refuses
/// without resolving it fails here; one whose name resolves to a refused address fails when it is connected to.
outcome<github_spec> parse_github_spec(const json_members& params, const egress_policy& egress);

/// Returns the ingress settings of a github registration: its webhook spec (hook id and secret, as parse_webhook_spec
/// read them) signed with HMAC-SHA256, its events filtered by X-GitHub-Event, `ping` answered without a fire, and
/// deliveries taken once by X-GitHub-Delivery.
webhook_spec github_ingress(webhook_spec hook, const github_spec& github);

} // namespace feedrouter
