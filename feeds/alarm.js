'use strict';
// OpenWhisk feed action alarm of the feedrouter package.
// Timer: `cron` (5 fields, or 6 with seconds) + `timezone`, a `minutes` / `seconds` interval, or a
// one-shot `date`.
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/feed-actions.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('alarm', params);
}

exports.main = main;
