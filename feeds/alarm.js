'use strict';
// OpenWhisk feed action alarm of the feedrouter package, OpenWhisk's /whisk.system/alarms/alarm.
// Timer: `cron` (5 fields, or 6 with seconds) + `timezone`; it also takes every other timer kind: a `minutes` /
// `seconds` interval, a one-shot `date`, and OpenWhisk's `isInterval` / `fireOnce` flags.
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/alarm-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('alarm', params, feedAction.ALARM_FEEDS.alarm);
}

exports.main = main;
