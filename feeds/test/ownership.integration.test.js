'use strict';
// Integration test: a key that does not own a trigger can neither CREATE a registration for it nor READ, UPDATE,
// PAUSE, UNPAUSE or DELETE the owner's, through the feed actions against the real feedrouter provider and the fake
// OpenWhisk controller (docs/api.md, "Authentication and ownership"). The fake controller knows two keys, each owning
// its own namespace, and nothing of a third. Skipped unless FEEDROUTER_BIN and FAKE_CONTROLLER_BIN are set
// (support/provider.js).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { main: webhook } = require('../webhook.js');
const support = require('./support/provider.js');

support.integrationSuite('feed actions with a key that does not own the trigger', { timeout: 120000 }, () => {
  const ownerKey = support.makeAuthKey(); // owns namespace guest
  const otherKey = support.makeAuthKey(); // owns namespace other
  const unknownKey = support.makeAuthKey(); // unknown to OpenWhisk
  const owned = '/guest/owned-hook';
  const unclaimed = '/guest/unclaimed'; // the owner's trigger, with no registration
  const othersOwn = '/other/own-hook';
  let stack;
  let created;

  const run = support.feedRunner(webhook, {
    providerUrl: () => stack.provider.url,
    triggerName: owned,
    authKey: ownerKey,
  });

  // Runs `event` on `triggerName` with `authKey` and returns its error message, failing when there is none.
  const refused = async (event, triggerName, authKey, params = {}) => {
    const result = await run(event, { ...params, triggerName }, authKey);
    assert.equal(typeof result.error, 'string',
      `${event} of ${triggerName} with a key that does not own it must fail, got ${JSON.stringify(result)}`);
    return result.error;
  };

  // READ with the owner's key: the registration as the owner sees it.
  const ownerRead = async () => {
    const result = await run('READ');
    assert.ok(!result.error, `the owner's READ failed: ${result.error}`);
    return result;
  };

  // Checks that the owner's registration is the one created at the start, in `state`.
  const assertUntouched = async (state = 'active') => {
    const result = await ownerRead();
    assert.deepEqual(result.config, created.config);
    assert.equal(result.status.hookUrl, created.hookUrl);
    assert.equal(result.status.state, state);
  };

  // POSTs a signed event to the owner's hook and resolves with its fire at the controller.
  const fireThroughHook = async (event) => {
    const before = (await stack.controller.fires(owned)).length;
    const body = JSON.stringify(event);
    const signature = `sha256=${crypto.createHmac('sha256', created.secret).update(body).digest('hex')}`;
    const res = await support.request('POST', created.hookUrl,
      { headers: { 'X-Hub-Signature-256': signature, 'X-GitHub-Event': 'push' }, body });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.accepted, true, res.text);
    const fires = await stack.controller.waitForFires(owned, before + 1);
    assert.equal(fires.length, before + 1);
    return fires[before];
  };

  before(async () => {
    stack = await support.startStack({
      triggers: [
        { trigger: owned, authKey: ownerKey },
        { trigger: unclaimed, authKey: ownerKey },
        { trigger: othersOwn, authKey: otherKey },
      ],
    });
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('the owner CREATEs a webhook registration; the other key CREATEs one in its own namespace', async () => {
    created = await run('CREATE', { events: ['push'], trigger_payload: { owner: 'guest' } });
    assert.ok(!created.error, `CREATE failed: ${created.error}; provider stderr: ${stack.provider.stderr()}`);
    assert.equal(typeof created.hookUrl, 'string');
    // The other key is valid: what it is refused below is refused because it does not own the trigger.
    const own = await run('CREATE', { triggerName: othersOwn }, otherKey);
    assert.ok(!own.error, `the other key's CREATE in its own namespace failed: ${own.error}`);
  });

  test('another key cannot CREATE a registration for the owner\'s trigger: OpenWhisk refuses it', async () => {
    assert.equal(await refused('CREATE', owned, otherKey, { events: ['issues'] }),
      `authKey: the authKey may not access trigger ${owned}`);
    assert.equal(await refused('CREATE', unclaimed, otherKey),
      `authKey: the authKey may not access trigger ${unclaimed}`);
    assert.equal(await refused('CREATE', owned, unknownKey), 'authKey: OpenWhisk rejected the authKey');

    // Nothing was replaced or created: the owner's registration keeps its hook, and the unclaimed trigger has none.
    await assertUntouched();
    const none = await run('READ', { triggerName: unclaimed });
    assert.equal(typeof none.error, 'string', `no registration of ${unclaimed} was made, got ${JSON.stringify(none)}`);
  });

  test('another key cannot READ the owner\'s registration, and cannot tell it from none', async () => {
    const error = await refused('READ', owned, otherKey);
    const noSuch = await refused('READ', '/guest/no-such-trigger', otherKey);
    assert.equal(error, noSuch.replace('/guest/no-such-trigger', owned));
    assert.ok(!error.includes(created.secret));
  });

  test('another key cannot UPDATE the owner\'s registration', async () => {
    await refused('UPDATE', owned, otherKey, { events: ['issues'], trigger_payload: { owner: 'other' } });
    await assertUntouched();
  });

  test('another key can neither PAUSE nor UNPAUSE the owner\'s registration', async () => {
    await refused('PAUSE', owned, otherKey);
    await assertUntouched('active');

    const paused = await run('PAUSE');
    assert.ok(!paused.error, `the owner's PAUSE failed: ${paused.error}`);
    await refused('UNPAUSE', owned, otherKey);
    await assertUntouched('paused');
    const resumed = await run('UNPAUSE');
    assert.ok(!resumed.error, `the owner's UNPAUSE failed: ${resumed.error}`);
    await assertUntouched('active');
  });

  test('another key\'s DELETE of the owner\'s registration deletes nothing', async () => {
    // The provider answers 404, as for a registration that does not exist, and the action turns a DELETE's 404 into
    // success (a trigger whose registration is gone can always be deleted). So the result is {} but nothing changes.
    assert.deepEqual(await run('DELETE', {}, otherKey), {});
    const direct = await support.request('POST', `${stack.provider.url}/v1/lifecycle`, {
      headers: { Authorization: support.basicAuthorization(otherKey) },
      body: { lifecycleEvent: 'DELETE', triggerName: owned, authKey: otherKey, feed: 'webhook' },
    });
    assert.equal(direct.status, 404, direct.text);

    await assertUntouched();
    // The hook still fires the trigger, with the owner's key.
    const fire = await fireThroughHook({ after: 'delete by another key' });
    assert.equal(fire.authorization, support.basicAuthorization(ownerKey));
    assert.deepEqual(fire.body, { after: 'delete by another key', event: 'push', owner: 'guest' });
  });

  test('the owner cannot reach the other key\'s registration either', async () => {
    await refused('READ', othersOwn, ownerKey);
    await refused('PAUSE', othersOwn, ownerKey);
    const theirs = await run('READ', { triggerName: othersOwn }, otherKey);
    assert.ok(!theirs.error, `the other key's READ of its own registration failed: ${theirs.error}`);
    assert.equal(theirs.status.state, 'active');
  });

  test('each owner DELETEs its own registration', async () => {
    assert.deepEqual(await run('DELETE'), {});
    assert.deepEqual(await run('DELETE', { triggerName: othersOwn }, otherKey), {});
    assert.equal(typeof (await run('READ')).error, 'string');
    assert.equal(typeof (await run('READ', { triggerName: othersOwn }, otherKey)).error, 'string');
  });
});
