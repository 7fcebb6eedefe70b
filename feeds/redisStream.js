'use strict';
// OpenWhisk feed action redisStream of the feedrouter package.
// Connections: the entries of a Redis stream (`url` redis:// or rediss://, `stream`, `start`, `create`); every fire
// carries one entry as {"stream", "id", "fields"}, or {"events": [...]} with batchSize above 1.
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/redis-stream-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('redis-stream', params);
}

exports.main = main;
