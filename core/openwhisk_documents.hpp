#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/registration.hpp"
#include "core/time_format.hpp"
#include "core/trigger_ref.hpp"

namespace feedrouter {

// The trigger documents OpenWhisk's alarms and cloudant providers keep in their CouchDB databases, read as the
// registrations `feedrouter import-openwhisk` makes of them (docs/migrating-from-openwhisk.md). Pure: the command
// does the reading, checking and writing (app/openwhisk_import.cpp).

/// Which provider's database the documents come from.
enum class openwhisk_provider { alarms, cloudant };

/// A trigger document read as a registration to make.
struct openwhisk_trigger {
  std::string id;  ///< the document's _id; an alarms id holds the owner's key, so it is never shown
  std::string rev; ///< its _rev
  trigger_ref trigger; ///< the namespace may be "_", which the owner's key resolves
  std::string auth_key; ///< the owner's "uuid:key" (`apikey`)
  std::string feed;     ///< "alarm" or "changes"
  json_members params;  ///< the registration's parameters
  registration_state state = registration_state::active;
  state_reason reason; ///< why the provider disabled it (kept as it is)
  sys_ms date_changed{};
  /// Its `maxTriggers` are used up ("reaching max triggers"): the registration starts with none left.
  bool max_triggers_used_up = false;
  /// The old alarms provider may still start it after its document is disabled, until it restarts: an interval, or a
  /// cron with a future startDate (their jobs start from a pending timer that a disable does not reach).
  bool old_provider_may_fire = false;
  std::string kind; ///< what it is, for the report: "cron", "interval", "once", "changes"
  std::vector<std::string> notes; ///< what the import changed or carried, and why, for the report
};

/// What one document of a provider's database is.
struct openwhisk_document {
  std::optional<openwhisk_trigger> trigger; ///< a trigger to import
  std::string skipped; ///< why it is none (a design document, a health monitor, a canary); empty otherwise
  std::string error;   ///< why a trigger document cannot be imported; empty otherwise
};

/// Reads one document (the JSON of a row's `doc`) of `provider`'s database; `now` judges whether a one-shot date has
/// expired (OpenWhisk's provider disables such a trigger when it loads it).
openwhisk_document read_openwhisk_document(std::string_view json, openwhisk_provider provider, sys_ms now);

/// The reason message of a document the import disabled at its source.
inline constexpr std::string_view migrated_reason_message = "Disabled after migration to feedrouter";

/// Returns `json` (a trigger document) marked inactive as its provider marks a trigger disabled by an operator:
/// status {"active": false, "dateChanged": now, "reason": {"kind": "ADMIN", "message": migrated_reason_message}},
/// every other member kept (`maxTriggers` and `worker` must stay, or the provider would not see the change). ADMIN
/// because OpenWhisk's alarms UPDATE re-enables a trigger disabled AUTO but refuses one disabled ADMIN.
std::string disabled_at_source(std::string_view json, sys_ms now);

/// Returns whether `json` (a trigger document) is active in its provider: no status, or status.active true.
bool active_at_source(std::string_view json);

/// Returns the value of the "feed" annotation in OpenWhisk's JSON of a trigger, or an empty string when it has none.
std::string feed_annotation(std::string_view trigger_json);

} // namespace feedrouter
