'use strict';
// OpenWhisk feed action kafkaFeed of the feedrouter package: the kafka feed under the name of OpenWhisk's own
// /whisk.system/messaging/kafkaFeed, with its parameters (`brokers`, `topic`, `isJSONData`, `isBinaryKey`,
// `isBinaryValue`), so that triggers move over by changing the package name. Parameters: docs/kafka-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('kafka', params);
}

exports.main = main;
