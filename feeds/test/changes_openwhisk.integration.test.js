'use strict';
// Integration test: OpenWhisk's cloudant `changes` feed parameters through feedrouter's changes feed action against
// the real provider, the fake controller and a real pouchdb-server: `host` + `port` + `protocol` and `dbName`,
// `maxTriggers`, IBM Cloud IAM (`iamApiKey`, `iamUrl`; tests/support/fake_iam.js issues short-lived tokens and checks
// them in front of the database), and CouchDB's `_doc_ids` and `_view` filters. Skipped unless FEEDROUTER_BIN and
// FAKE_CONTROLLER_BIN are set.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { main: changes } = require('../changes.js');
const support = require('./support/provider.js');
const fakeIam = require('../../tests/support/fake_iam.js');

const DB = 'orders';
const ADMIN = 'cloudant-it-admin';
const PASSWORD = 'cloudant-it-secret-5d1e';
const IAM_KEY = 'iam-it-key-0b7c';

// The tokens' lifetime: short, so that the feed outlives its first token within the test.
const TOKEN_SECONDS = 2;

// How long a test watches for a fire that must not happen; a change fires within milliseconds while the feed is open.
const QUIET_MS = 1500;

const SUITE = 'OpenWhisk\'s cloudant parameters through the changes feed action';

support.integrationSuite(SUITE, { timeout: 120000 }, () => {
  const authKey = support.makeAuthKey();
  let couch;
  let iam;
  let stack;
  let port;

  const runner = (triggerName) => support.feedRunner(changes, {
    providerUrl: () => stack.provider.url, triggerName, authKey,
  });

  const ids = async (trigger) => (await stack.controller.fires(trigger)).map((fire) => fire.body.id);

  before(async () => {
    couch = await support.CouchDb.start();
    await couch.createDb(DB);
    await couch.addAdmin(ADMIN, PASSWORD);
    port = Number(new URL(couch.url).port);
    iam = await fakeIam.start({
      target: couch.url, targetAuth: `${ADMIN}:${PASSWORD}`, apiKey: IAM_KEY, ttlSeconds: TOKEN_SECONDS,
    });
    stack = await support.startStack();
  });

  after(async () => {
    if (stack) await stack.stop();
    if (iam) await iam.stop();
    if (couch) await couch.stop();
  });

  test('host, port, protocol and dbName name the database as OpenWhisk\'s feed takes them', async () => {
    const trigger = '/guest/by-host';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(trigger);
    const created = await run('CREATE', {
      host: '127.0.0.1', port: String(port), protocol: 'http', dbName: DB, username: ADMIN, password: PASSWORD,
    });
    assert.ok(!created.error, `${created.error}; provider: ${stack.provider.stderr()}`);
    assert.equal(created.config.host, '127.0.0.1');
    assert.equal(created.config.port, port);
    assert.equal(created.config.protocol, 'http');
    assert.equal(created.config.dbname, DB);
    assert.equal(created.config.username, ADMIN);
    assert.ok(!JSON.stringify(created).includes(PASSWORD), 'the password is never shown');
    await couch.putDoc(DB, 'by-host-1', { n: 1 });
    const [fire] = await stack.controller.waitForFires(trigger, 1);
    assert.equal(fire.body.id, 'by-host-1');
    assert.equal(fire.body.dbname, DB);
    await run('DELETE');
  });

  test('maxTriggers disables the feed after that many fires; UPDATE starts a fresh count', async () => {
    const trigger = '/guest/limited';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(trigger);
    const created = await run('CREATE', {
      url: couch.url, dbname: DB, username: ADMIN, password: PASSWORD, maxTriggers: 2,
    });
    assert.ok(!created.error, created.error);
    assert.equal(created.status.triggersLeft, 2);
    for (const id of ['limited-1', 'limited-2', 'limited-3']) await couch.putDoc(DB, id, {});
    await stack.controller.waitForFires(trigger, 2);
    const disabled = await support.waitFor('disabled after 2 fires', async () => {
      const read = await run('READ');
      return read.status.active === false ? read : null;
    });
    assert.equal(disabled.status.reason.kind, 'AUTO');
    assert.match(disabled.status.reason.message, /Automatically disabled after reaching max triggers/);
    assert.equal(disabled.status.triggersLeft, 0);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.deepEqual(await ids(trigger), ['limited-1', 'limited-2']);
    // The change that did not fire waits at the position; the re-enabled feed fires it.
    const updated = await run('UPDATE', { maxTriggers: 2 });
    assert.equal(updated.status.active, true);
    await stack.controller.waitForFires(trigger, 3);
    assert.deepEqual(await ids(trigger), ['limited-1', 'limited-2', 'limited-3']);
    await run('DELETE');
  });

  test('an IAM key is exchanged for tokens that are renewed before they expire', async () => {
    const trigger = '/guest/iam';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(trigger);
    const created = await run('CREATE', {
      host: '127.0.0.1', port: iam.port, protocol: 'http', dbname: DB, iamApiKey: IAM_KEY,
      iamUrl: `${iam.url}/identity/token`,
    });
    assert.ok(!created.error, `${created.error}; provider: ${stack.provider.stderr()}`);
    assert.ok(!JSON.stringify(created).includes(IAM_KEY), 'the key is never shown');
    assert.equal(created.config.iamUrl, `${iam.url}/identity/token`);
    await couch.putDoc(DB, 'iam-1', {});
    await stack.controller.waitForFires(trigger, 1);
    // The token-checking proxy cuts the feed when its token expires; the feed comes back with a new token.
    await support.waitFor('the first token expired on the open feed', async () => iam.stats().cut >= 1,
      { describe: async () => JSON.stringify(iam.stats()) });
    await couch.putDoc(DB, 'iam-2', {});
    await stack.controller.waitForFires(trigger, 2);
    assert.deepEqual(await ids(trigger), ['iam-1', 'iam-2']);
    const stats = iam.stats();
    assert.ok(stats.tokens >= 2, `tokens issued: ${stats.tokens}`);
    assert.equal(stats.rejected, 0, 'no request ever carried an expired token');
    assert.ok(!stack.provider.stderr().includes(IAM_KEY), 'the key is never logged');
    await run('DELETE');
  });

  test('a key the token service refuses fails the CREATE naming iamApiKey', async () => {
    const trigger = '/guest/iam-wrong';
    await stack.controller.addTrigger(trigger, authKey);
    const result = await runner(trigger)('CREATE', {
      host: '127.0.0.1', port: iam.port, protocol: 'http', dbname: DB, iamApiKey: 'not-the-key',
      iamUrl: `${iam.url}/identity/token`,
    });
    assert.match(result.error, /^iamApiKey: cannot get an IAM token: the IAM token service answered 400/);
  });

  test('the _doc_ids filter fires only the listed documents', async () => {
    const trigger = '/guest/doc-ids';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(trigger);
    const created = await run('CREATE', {
      url: couch.url, dbname: DB, username: ADMIN, password: PASSWORD,
      filter: '_doc_ids', query_params: { doc_ids: ['ids-a', 'ids-c'] },
    });
    assert.ok(!created.error, created.error);
    for (const id of ['ids-a', 'ids-b', 'ids-c']) await couch.putDoc(DB, id, {});
    await stack.controller.waitForFires(trigger, 2);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.deepEqual(await ids(trigger), ['ids-a', 'ids-c']);
    await run('DELETE');
  });

  test('the _view filter fires only the documents its view emits', async () => {
    const trigger = '/guest/view';
    await stack.controller.addTrigger(trigger, authKey);
    await couch.putDoc(DB, '_design/shop', {
      views: { orders: { map: 'function (doc) { if (doc.type === "order") emit(doc._id); }' } },
    });
    const run = runner(trigger);
    const created = await run('CREATE', {
      url: couch.url, dbname: DB, username: ADMIN, password: PASSWORD,
      filter: '_view', query_params: { view: 'shop/orders' },
    });
    assert.ok(!created.error, created.error);
    await couch.putDoc(DB, 'view-order', { type: 'order' });
    await couch.putDoc(DB, 'view-note', { type: 'note' });
    await couch.putDoc(DB, 'view-order-2', { type: 'order' });
    await stack.controller.waitForFires(trigger, 2);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.deepEqual(await ids(trigger), ['view-order', 'view-order-2']);
    await run('DELETE');
  });
});
