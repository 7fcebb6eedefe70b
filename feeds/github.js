'use strict';
// OpenWhisk feed action github of the feedrouter package: installs a webhook on a GitHub repository whose events fire
// the trigger, with the parameters of OpenWhisk's /whisk.system/github/webhook (`username`, `repository`,
// `accessToken`, `events`, and `baseUrl` or `apiUrl` for GitHub Enterprise). The provider creates, pauses, changes and
// removes the hook at GitHub itself; the authKey never leaves it. Parameters: docs/github-feed.md.
const feedAction = require('./lib/feed_action.js');

function main(params) {
  return feedAction.lifecycle('github', params);
}

exports.main = main;
