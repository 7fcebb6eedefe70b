'use strict';
// OpenWhisk feed action mqtt of the feedrouter package.
// Connections: an MQTT topic filter of a broker (`url` mqtt:// or mqtts://, `topic`, `qos`, `clientId`, `username`,
// `password`, `cleanSession`, `binary`); every fire carries {"topic", "payload", "qos", "retain"}. QoS 1 messages are
// acknowledged to the broker only once feedrouter has stored them.
// It forwards each lifecycle event to the feedrouter provider through lib/feed_action.js; install.sh inlines that
// module to deploy this file as a single-file action. Parameters: docs/mqtt-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('mqtt', params);
}

exports.main = main;
