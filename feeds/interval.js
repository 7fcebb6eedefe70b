'use strict';
// OpenWhisk feed action interval of the feedrouter package, OpenWhisk's /whisk.system/alarms/interval.
// Timer: every `minutes`, from `startDate` (default: 30 s after CREATE) to `stopDate`.
// It forwards each lifecycle event to the feedrouter provider as an alarm with isInterval, as OpenWhisk binds it,
// through lib/feed_action.js; install.sh inlines that module to deploy this file as a single-file action.
// Parameters: docs/alarm-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('alarm', params, feedAction.ALARM_FEEDS.interval);
}

exports.main = main;
