'use strict';
// OpenWhisk feed action webhook of the feedrouter package.
// Hooks: the CREATE answer carries `hookUrl` (where to send events) and `secret`.
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/feed-actions.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('webhook', params);
}

exports.main = main;
