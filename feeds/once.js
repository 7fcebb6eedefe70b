'use strict';
// OpenWhisk feed action once of the feedrouter package, OpenWhisk's /whisk.system/alarms/once.
// Timer: once at `date`; `deleteAfterFire` true or "rules" then deletes the trigger (with its rules first).
// It forwards each lifecycle event to the feedrouter provider as an alarm with fireOnce, as OpenWhisk binds it,
// through lib/feed_action.js; install.sh inlines that module to deploy this file as a single-file action.
// Parameters: docs/alarm-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('alarm', params, feedAction.ALARM_FEEDS.once);
}

exports.main = main;
