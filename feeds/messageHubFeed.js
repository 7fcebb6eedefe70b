'use strict';
// OpenWhisk feed action messageHubFeed of the feedrouter package: the kafka feed under the name of OpenWhisk's
// /whisk.system/messaging/messageHubFeed, with its parameters (`kafka_brokers_sasl`, `user`, `password`, `topic` and
// the flags): SASL over TLS. As there, the credentials may come from a service binding (`__bx_creds.messagehub`);
// parameters given explicitly win. `kafka_admin_url` is accepted and not passed on: feedrouter checks the topic with
// the brokers themselves. Parameters: docs/kafka-feed.md.
const feedAction = require('./lib/feed_action.js');

const BOUND_CREDENTIALS = ['kafka_brokers_sasl', 'user', 'password'];

// Returns the parameters with the service binding's credentials filled in where none were given.
function withBinding(params) {
  const out = Object.assign({}, params);
  const creds = params && params.__bx_creds && params.__bx_creds.messagehub;
  if (creds && typeof creds === 'object') {
    for (const name of BOUND_CREDENTIALS) {
      if (out[name] === undefined && creds[name] !== undefined) out[name] = creds[name];
    }
  }
  delete out.kafka_admin_url;
  return out;
}

function main(params) {
  return feedAction.lifecycle('kafka', withBinding(params && typeof params === 'object' ? params : {}));
}

exports.main = main;
