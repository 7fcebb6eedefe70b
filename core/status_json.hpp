#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/registration.hpp"

namespace feedrouter {

/// What a READ shows beside the stored record: facts only the running registration knows.
struct live_status {
  std::optional<sys_ms> next_fire; ///< alarms: when the next occurrence fires
  std::int64_t pending_events = 0; ///< events accepted and not yet fired or dead-lettered
  bool retrying = false;           ///< the controller did not take the last fire; it is being retried
  std::string hook_url;            ///< webhooks: where senders POST
  std::int64_t source_errors = 0;  ///< failed attempts of the source (polls) since the registration started
  std::string source_error;        ///< the last one's error; empty once the source works again
  /// github: a DELETE whose hook GitHub has not removed yet: the attempts made, the last one's error, and when the next
  /// one is due (none: no more are made until the next DELETE).
  std::int64_t hook_removal_attempts = 0;
  std::string hook_removal_error;
  std::optional<sys_ms> next_hook_removal;
};

/// Parameters never shown after CREATE: credentials the owner gave or the provider generated.
inline constexpr std::string_view redacted_params[] = {"secret", "password", "headers", "iamApiKey", "accessToken"};

/// Returns the members OpenWhisk's READ shows in `config` for a registration of feed `feed` with parameters
/// `params` that the parameters as given do not spell out: an alarm's `payload` (what each fire carries) and `strict`,
/// a changes feed's `host`, `port` and `protocol` (from `url`), `dbname` (from `dbName`) and default `iamUrl`.
json_members openwhisk_config_members(std::string_view feed, const json_members& params);

/// Returns `t` as OpenWhisk's `dateChangedISO` writes it: ISO-8601 UTC to the second, "2025-01-01T00:00:00Z".
std::string format_iso8601_seconds(sys_ms t);

/// What the API shows of one registration: its stored parameters and status, and what only its trigger knows. Never
/// its authKey.
struct registration_view {
  trigger_ref trigger;
  std::string feed;
  std::string params_json; ///< as stored; rendered without the redacted_params
  sys_ms created{};
  registration_status status;
  live_status live;
  /// CREATE of a webhook only: the secret, shown this once beside the hook URL.
  std::string secret;
  /// Cluster mode: answered from the store while no instance runs the registration (a takeover is under way), so
  /// the live facts are missing; rendered as "stale": true.
  bool stale = false;
};

/// Returns the view of `record` with the live facts `live`.
registration_view make_view(const registration_record& record, live_status live);

/// Renders the API view of a registration: {"config": {...}, "status": {...}}, a superset of what OpenWhisk's alarms
/// and cloudant feeds show (docs/api.md); a view with a secret (CREATE of a webhook) adds "hookUrl" and "secret"
/// beside them.
std::string render_registration(const registration_view& view);

/// Renders a list of dead letters: {"deadLetters": [{seq, accepted, failed, statusCode, error, attempts, payload}],
/// "count": N}.
std::string render_dead_letters(const std::vector<dead_letter>& letters);

/// Renders an error answer: {"error": message, "field": field}; `field` is left out when empty.
std::string render_error(std::string_view message, std::string_view field = {});

} // namespace feedrouter
