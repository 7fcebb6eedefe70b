'use strict';
// OpenWhisk feed action kafka of the feedrouter package.
// Connections: a Kafka topic read from its brokers (`brokers` and `topic`, OpenWhisk's kafkaFeed parameters, or
// `kafka_brokers_sasl`, `user` and `password` as messageHubFeed takes them); every fire carries {"messages": [...]}.
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/kafka-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('kafka', params);
}

exports.main = main;
