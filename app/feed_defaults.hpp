#pragma once

#include "actors/messages.hpp"

namespace feedrouter {

/// What the operator sets for alarm registrations, as OpenWhisk's alarms let an operator set it (docs/operations.md).
struct feed_defaults {
  /// --openwhisk-cron-months: alarms created through the feed-action protocol (`POST /v1/lifecycle`) number cron
  /// months 0-11 as OpenWhisk's alarms do. Stored in the registration at CREATE (`cronMonths`), so that turning the
  /// switch later changes no existing schedule.
  bool openwhisk_cron_months = false;
  /// --limit-cron-fields: no alarm CREATE or UPDATE may have a cron with a seconds field other than 0
  /// (`limitCronFields`), whatever the request says, as OpenWhisk's LIMIT_CRON_FIELDS.
  bool limit_cron_fields = false;
};

/// Adds to `cmd`, a request the control API routed, the alarm parameters `defaults` stand for: `cronMonths: "0-11"` on
/// an alarm CREATE through the feed-action protocol that names no numbering itself, and `limitCronFields: true` on
/// every alarm CREATE and UPDATE.
void apply_feed_defaults(api_command& cmd, const feed_defaults& defaults);

} // namespace feedrouter
