'use strict';
// OpenWhisk feed action changes of the feedrouter package.
// Connections: a CouchDB/Cloudant `_changes` feed (`url`, `dbname`, credentials, `filter` / `selector`, `since`).
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/feed-actions.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('changes', params);
}

exports.main = main;
