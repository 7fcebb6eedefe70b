'use strict';
// OpenWhisk feed action poll of the feedrouter package.
// Polling: `url`, `headers`, `intervalSeconds`, `itemsPointer`, `idPointer`.
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/feed-actions.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('poll', params);
}

exports.main = main;
