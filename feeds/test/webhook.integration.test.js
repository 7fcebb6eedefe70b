'use strict';
// Integration test: the webhook feed action against the real feedrouter provider and the fake OpenWhisk controller,
// through its lifecycle as OpenWhisk calls it, with events POSTed to the hook URL as a GitHub-style sender would
// (docs/webhook-feed.md). Skipped unless FEEDROUTER_BIN and FAKE_CONTROLLER_BIN are set (support/provider.js).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { main: webhook } = require('../webhook.js');
const support = require('./support/provider.js');

// A hook id is 128 random bits, a generated secret 256, both in hex.
const HOOK_PATH = /^\/v1\/hooks\/[0-9a-f]{32}$/;
const GENERATED_SECRET = /^[0-9a-f]{64}$/;

// Returns the GitHub-style signature header value of `body` under `secret`.
function sign(secret, body) {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

// POSTs `event` (an object, sent as JSON) to `hookUrl` as GitHub does: signed with `secret`, the kind in X-GitHub-Event.
// options.signature replaces the signature header (null: none); options.body replaces the bytes sent after signing.
function deliver(hookUrl, secret, kind, event, options = {}) {
  const body = JSON.stringify(event);
  const headers = { 'Content-Type': 'application/json', 'X-GitHub-Event': kind };
  const signature = options.signature === undefined ? sign(secret, body) : options.signature;
  if (signature !== null) headers['X-Hub-Signature-256'] = signature;
  return support.request('POST', hookUrl, { headers, body: options.body === undefined ? body : options.body });
}

support.integrationSuite('webhook feed action against feedrouter and the fake controller', { timeout: 120000 }, () => {
  const authKey = support.makeAuthKey();
  const triggerName = '/guest/on-push';
  let stack;
  let hookUrl;
  let secret;

  const run = support.feedRunner(webhook, { providerUrl: () => stack.provider.url, triggerName, authKey });

  const read = async () => {
    const result = await run('READ');
    assert.ok(!result.error, `READ failed: ${result.error}`);
    return result;
  };

  const fires = () => stack.controller.fires(triggerName);

  // Resolves once the provider has taken the answer of every fire: a PAUSE with a fire in flight would send it again
  // after UNPAUSE (at least once), which would spoil the exact counts below.
  const settled = () => support.waitFor('no pending events', async () => {
    const { status } = await read();
    return status.pendingEvents === 0 && !status.retrying;
  });

  before(async () => {
    stack = await support.startStack({ triggers: [{ trigger: triggerName, authKey }] });
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('CREATE returns the hook URL and a generated secret', async () => {
    const result = await run('CREATE', { events: ['push'], trigger_payload: { source: 'feeds-it', ref: 'none' } });
    assert.ok(!result.error, `CREATE failed: ${result.error}; provider stderr: ${stack.provider.stderr()}`);
    ({ hookUrl, secret } = result);
    assert.equal(typeof hookUrl, 'string');
    assert.ok(hookUrl.startsWith(`${stack.provider.url}/v1/hooks/`),
      `without --public-url the hook URL is where the provider listens: ${hookUrl}`);
    assert.match(new URL(hookUrl).pathname, HOOK_PATH);
    assert.match(secret, GENERATED_SECRET);
    assert.equal(result.status.state, 'active');
    assert.equal(result.status.hookUrl, hookUrl);
    assert.deepEqual(result.config.events, ['push']);
    assert.ok(!('secret' in result.config), 'the secret is shown at the top only');
  });

  test('a signed push fires the trigger with the event, its kind and the trigger_payload', async () => {
    const event = { ref: 'refs/heads/main', commits: [{ id: 'c0ffee' }] };
    // Refused before anything is stored: no signature, another secret's, a body changed after signing.
    assert.equal((await deliver(hookUrl, secret, 'push', event, { signature: null })).status, 401);
    assert.equal((await deliver(hookUrl, 'not-the-secret-at-all', 'push', event)).status, 401);
    assert.equal((await deliver(hookUrl, secret, 'push', event, { body: '{"ref":"refs/heads/evil"}' })).status, 401);
    // Signed, but not an event the registration listens to.
    const ignored = await deliver(hookUrl, secret, 'issues', { action: 'opened' });
    assert.equal(ignored.status, 202);
    assert.deepEqual(ignored.json, { ignored: true });

    const accepted = await deliver(hookUrl, secret, 'push', event);
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.json.accepted, true);
    assert.equal(typeof accepted.json.seq, 'number');

    // Fires keep the order of their events, so once this one arrived none of the refused POSTs can follow.
    const [fire, ...more] = await stack.controller.waitForFires(triggerName, 1,
      { describe: () => `provider stderr: ${stack.provider.stderr()}` });
    assert.deepEqual(more, []);
    assert.equal(fire.authorization, support.basicAuthorization(authKey));
    // The event's own members win over trigger_payload's (ref); the event header's value is added as "event".
    assert.deepEqual(fire.body, { ...event, event: 'push', source: 'feeds-it' });
  });

  test('READ returns the config and status with the hook URL, never the secret', async () => {
    const result = await support.waitFor('READ shows the fire', async () => {
      const r = await read();
      return r.status.fires === 1 && r;
    });
    assert.deepEqual(result.config.events, ['push']);
    assert.equal(result.config.feed, 'webhook');
    assert.equal(result.config.triggerName, triggerName);
    assert.equal(result.status.state, 'active');
    assert.equal(result.status.hookUrl, hookUrl);
    assert.equal(typeof result.status.lastFired, 'string');
    assert.ok(!JSON.stringify(result).includes(secret), 'READ never shows the secret');
    assert.ok(!('providerUrl' in result.config), 'providerUrl is not a feed parameter');
  });

  test('UPDATE widens the events filter; the hook URL and secret stay', async () => {
    const bad = await run('UPDATE', { signature: 'md5' });
    assert.match(bad.error || '', /^signature: /, `expected a signature error, got ${JSON.stringify(bad)}`);

    const result = await run('UPDATE', { events: ['push', 'issues'] });
    assert.ok(!result.error, `UPDATE failed: ${result.error}`);
    assert.deepEqual(result.config.events, ['push', 'issues']);
    assert.equal(result.status.hookUrl, hookUrl);
    assert.ok(!JSON.stringify(result).includes(secret), 'UPDATE never shows the secret');
    assert.deepEqual((await read()).config.events, ['push', 'issues']);

    const accepted = await deliver(hookUrl, secret, 'issues', { action: 'opened' });
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.json.accepted, true);
    const all = await stack.controller.waitForFires(triggerName, 2);
    assert.equal(all.length, 2);
    assert.deepEqual(all[1].body, { action: 'opened', event: 'issues', source: 'feeds-it', ref: 'none' });
  });

  test('PAUSE leaves it paused: the hook answers 503 and nothing fires', async () => {
    await settled();
    const result = await run('PAUSE');
    assert.ok(!result.error, `PAUSE failed: ${result.error}`);
    assert.equal(result.status.state, 'paused');
    assert.equal((await read()).status.state, 'paused');

    const refused = await deliver(hookUrl, secret, 'push', { ref: 'refs/heads/paused' });
    assert.equal(refused.status, 503, refused.text);
    assert.equal(typeof refused.json.error, 'string');
  });

  test('UNPAUSE makes it active again: the hook takes events and fires', async () => {
    const result = await run('UNPAUSE');
    assert.ok(!result.error, `UNPAUSE failed: ${result.error}`);
    assert.equal(result.status.state, 'active');

    const accepted = await deliver(hookUrl, secret, 'push', { ref: 'refs/heads/resumed' });
    assert.equal(accepted.status, 202, accepted.text);
    const all = await stack.controller.waitForFires(triggerName, 3);
    // The event refused while paused never fires: the sender keeps it.
    assert.deepEqual(all.map((f) => f.body.ref), ['refs/heads/main', 'none', 'refs/heads/resumed']);
  });

  test('DELETE removes it: the hook URL is gone and READ fails', async () => {
    await settled();
    const result = await run('DELETE');
    assert.ok(!result.error, `DELETE failed: ${result.error}`);
    assert.deepEqual(result, {});
    assert.equal((await deliver(hookUrl, secret, 'push', { ref: 'refs/heads/deleted' })).status, 404);
    const after = await run('READ');
    assert.equal(typeof after.error, 'string', `READ after DELETE must fail, got ${JSON.stringify(after)}`);
    assert.equal((await fires()).length, 3, 'nothing fired after DELETE');
  });

  test('DELETE again succeeds', async () => {
    const result = await run('DELETE');
    assert.deepEqual(result, {}, `second DELETE must succeed, got ${JSON.stringify(result)}`);
  });
});

support.integrationSuite('webhook feed action with --public-url', { timeout: 60000 }, () => {
  const authKey = support.makeAuthKey();
  const triggerName = '/guest/behind-proxy';
  // Where senders reach the provider, e.g. a reverse proxy that forwards /feedrouter/* to it.
  const publicUrl = 'https://hooks.example.test/feedrouter';
  let stack;

  const run = support.feedRunner(webhook, { providerUrl: () => stack.provider.url, triggerName, authKey });

  before(async () => {
    stack = await support.startStack({
      triggers: [{ trigger: triggerName, authKey }],
      providerArgs: ['--public-url', `${publicUrl}/`],
    });
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('CREATE with a chosen secret returns a hook URL under --public-url that the provider serves', async () => {
    const chosen = crypto.randomBytes(24).toString('base64');
    const created = await run('CREATE', { secret: chosen });
    assert.ok(!created.error, `CREATE failed: ${created.error}`);
    assert.equal(created.secret, chosen);
    assert.ok(created.hookUrl.startsWith(`${publicUrl}/v1/hooks/`), created.hookUrl);
    assert.equal((await run('READ')).status.hookUrl, created.hookUrl);

    // What the proxy would forward: the hook's path, on the provider itself.
    const target = stack.provider.url + created.hookUrl.slice(publicUrl.length);
    const accepted = await deliver(target, chosen, 'ping', { zen: 'Keep it logically awesome.' });
    assert.equal(accepted.status, 202, accepted.text);
    const [fire] = await stack.controller.waitForFires(triggerName, 1);
    // Without `events` no event header is configured, so the kind is not added.
    assert.deepEqual(fire.body, { zen: 'Keep it logically awesome.' });
    assert.deepEqual(await run('DELETE'), {});
  });
});
