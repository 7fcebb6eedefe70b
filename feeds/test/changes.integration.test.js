'use strict';
// Integration test: the changes feed action against the real feedrouter provider, the fake OpenWhisk controller and a
// real CouchDB-compatible server (pouchdb-server, which `scripts/dev build` installs in tests/support/couchdb), through
// its lifecycle as OpenWhisk calls it (docs/changes-feed.md). Skipped unless FEEDROUTER_BIN and FAKE_CONTROLLER_BIN
// are set (support/provider.js); with them, a missing pouchdb-server fails the suite saying how to install it.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { main: changes } = require('../changes.js');
const support = require('./support/provider.js');

const DB = 'orders';

// The server admin whose credentials the registration carries; READ must never show the password.
const ADMIN = 'feeds-it-admin';
const PASSWORD = 'feeds-it-secret-7f3a';
const WRONG_PASSWORD = 'feeds-it-wrong-91c2';

// How long a test watches for a fire that must not happen (while paused, after DELETE). A change reaches the
// controller within milliseconds of its write while the feed is open, so this is many times that; only these
// negative checks wait a fixed time, everything else waits for what it expects, with a deadline.
const QUIET_MS = 1500;

const SUITE = 'changes feed action against feedrouter, the fake controller and pouchdb-server';

support.integrationSuite(SUITE, { timeout: 120000 }, () => {
  const authKey = support.makeAuthKey();
  const triggerName = '/guest/order-changed';
  const noDbTrigger = '/guest/no-such-db';
  const wrongPasswordTrigger = '/guest/wrong-password';
  const triggerPayload = { source: 'feeds-it', id: 'overridden by the change' };
  let couch;
  let stack;
  let createdSeq; // the checkpoint CREATE answered with: where the database ended

  const run = support.feedRunner(changes, { providerUrl: () => stack.provider.url, triggerName, authKey });

  const read = async (name = triggerName) => {
    const result = await run('READ', { triggerName: name });
    assert.ok(!result.error, `READ of ${name} failed: ${result.error}`);
    return result;
  };

  const fireIds = async () => (await stack.controller.fires(triggerName)).map((fire) => fire.body.id);

  const waitForFires = (count) => stack.controller.waitForFires(triggerName, count, {
    describe: async () => `READ: ${JSON.stringify(await run('READ'))}; provider stderr: ${stack.provider.stderr()}`,
  });

  // Resolves once the provider has taken the answer of every fire: a PAUSE with a fire in flight would send it again
  // after UNPAUSE (at least once), which would spoil the exact lists below.
  const settled = () => support.waitFor('no pending events', async () => {
    const { status } = await read();
    return status.pendingEvents === 0 && !status.retrying;
  });

  // Returns status.checkpoint as an object, {source, seq}. docs/changes-feed.md shows it as an object; the provider
  // currently sends the stored JSON text as a string (core/status_json.cpp), so both forms are read here.
  const checkpointOf = (status) => {
    const { checkpoint } = status;
    assert.ok(checkpoint !== undefined, `no checkpoint in status ${JSON.stringify(status)}`);
    return typeof checkpoint === 'string' ? JSON.parse(checkpoint) : checkpoint;
  };

  // The change rows of DB after `since`, as pouchdb-server sends them to anyone who asks.
  const rowsSince = (since) => couch.changes(DB, since);

  before(async () => {
    couch = await support.CouchDb.start();
    await couch.createDb(DB);
    await couch.addAdmin(ADMIN, PASSWORD);
    await couch.putDoc(DB, 'before-1', { n: 0 });
    stack = await support.startStack({
      triggers: [triggerName, noDbTrigger, wrongPasswordTrigger].map((trigger) => ({ trigger, authKey })),
    });
  });

  after(async () => {
    if (stack) await stack.stop();
    if (couch) await couch.stop();
  });

  test('CREATE starts where the database ends (since: now by default) and answers with that checkpoint', async () => {
    const result = await run('CREATE', {
      url: couch.url,
      dbname: DB,
      username: ADMIN,
      password: PASSWORD,
      trigger_payload: triggerPayload,
    });
    assert.ok(!result.error, `CREATE failed: ${result.error}; provider stderr: ${stack.provider.stderr()}`);
    assert.equal(result.status.state, 'active');
    assert.equal(result.config.feed, 'changes');
    assert.equal(result.config.url, couch.url);
    assert.equal(result.config.dbname, DB);
    assert.ok(!('password' in result.config), 'the password is never shown');
    assert.ok(!JSON.stringify(result).includes(PASSWORD), 'the password is never shown');

    const checkpoint = checkpointOf(result.status);
    assert.deepEqual(Object.keys(checkpoint).sort(), ['seq', 'source']);
    assert.equal(checkpoint.source, `${couch.url}/${DB}`);
    const rows = await rowsSince(0);
    assert.equal(String(checkpoint.seq), String(rows[rows.length - 1].seq),
      'since=now: the position is the seq of the last change before CREATE');
    createdSeq = checkpoint.seq;
  });

  test('a write after CREATE fires once with its row, dbname and trigger_payload; one before never fires', async () => {
    const rev = await couch.putDoc(DB, 'after-1', { n: 1 });
    const [fire] = await waitForFires(1);
    assert.equal(fire.authorization, support.basicAuthorization(authKey));

    const [row] = await rowsSince(createdSeq);
    assert.equal(row.id, 'after-1');
    assert.deepEqual(row.changes, [{ rev }]);
    // The row as the server sent it plus dbname; the change's own members (id) win over trigger_payload's.
    assert.deepEqual(fire.body, { ...triggerPayload, ...row, dbname: DB });
    assert.ok(!('doc' in fire.body), 'no doc without includeDocs');
    // Changes fire in seq order, so before-1 would have come first.
    assert.deepEqual(await fireIds(), ['after-1']);
  });

  test('READ returns the config and status, never the password', async () => {
    const result = await support.waitFor('READ shows the fire and the checkpoint past it', async () => {
      const r = await read();
      return r.status.fires === 1 && String(checkpointOf(r.status).seq) !== String(createdSeq) && r;
    });
    assert.deepEqual(Object.keys(result).sort(), ['config', 'status']);
    assert.equal(result.config.feed, 'changes');
    assert.equal(result.config.url, couch.url);
    assert.equal(result.config.dbname, DB);
    assert.equal(result.config.username, ADMIN);
    assert.deepEqual(result.config.trigger_payload, triggerPayload);
    assert.ok(!('password' in result.config), 'READ never shows the password');
    assert.ok(!JSON.stringify(result).includes(PASSWORD), 'READ never shows the password');
    assert.equal(result.status.state, 'active');
    const [row] = await rowsSince(createdSeq);
    const checkpoint = checkpointOf(result.status);
    assert.equal(checkpoint.source, `${couch.url}/${DB}`);
    assert.equal(String(checkpoint.seq), String(row.seq), 'the position moved past the fired change, no further');
  });

  test('UPDATE with includeDocs: the next change carries its document, and the position is kept', async () => {
    const result = await run('UPDATE', { includeDocs: true });
    assert.ok(!result.error, `UPDATE failed: ${result.error}`);
    assert.equal(result.config.includeDocs, true);
    assert.equal(result.config.username, ADMIN, 'UPDATE merges into the stored parameters');
    assert.equal(result.status.state, 'active');

    const rev = await couch.putDoc(DB, 'after-2', { n: 2 });
    const fires = await waitForFires(2);
    assert.deepEqual(fires[1].body.doc, { _id: 'after-2', _rev: rev, n: 2 });
    assert.equal(fires[1].body.dbname, DB);
    assert.equal(fires[1].body.source, 'feeds-it');
    // after-1 is not fired again from the old position, nor before-1 from the start.
    assert.deepEqual(await fireIds(), ['after-1', 'after-2']);
  });

  test('PAUSE closes the feed: documents written meanwhile do not fire', async () => {
    await settled();
    const result = await run('PAUSE');
    assert.ok(!result.error, `PAUSE failed: ${result.error}`);
    assert.equal(result.status.state, 'paused');
    await couch.putDoc(DB, 'paused-1', { n: 3 });
    await couch.putDoc(DB, 'paused-2', { n: 4 });

    await new Promise((resolve) => setTimeout(resolve, QUIET_MS)); // a negative check: nothing to wait for
    assert.deepEqual(await fireIds(), ['after-1', 'after-2']);
    assert.equal((await read()).status.state, 'paused');
  });

  test('UNPAUSE fires the documents written meanwhile, in order, once each', async () => {
    const result = await run('UNPAUSE');
    assert.ok(!result.error, `UNPAUSE failed: ${result.error}`);
    assert.equal(result.status.state, 'active');

    const fires = await waitForFires(4);
    assert.deepEqual(fires.slice(2).map((fire) => fire.body.doc.n), [3, 4]);
    // A change written after them fires after them: had one of them fired twice, it would show by then.
    await couch.putDoc(DB, 'after-unpause', { n: 5 });
    await waitForFires(5);
    assert.deepEqual(await fireIds(), ['after-1', 'after-2', 'paused-1', 'paused-2', 'after-unpause']);
    const seqs = (await stack.controller.fires(triggerName)).map((fire) => Number(fire.body.seq));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'fires come in seq order');
  });

  test('DELETE removes it: the feed stops and READ fails', async () => {
    await settled();
    const result = await run('DELETE');
    assert.deepEqual(result, {}, `DELETE must succeed, got ${JSON.stringify(result)}`);
    const gone = await run('READ');
    assert.equal(typeof gone.error, 'string', `READ after DELETE must fail, got ${JSON.stringify(gone)}`);
    await couch.putDoc(DB, 'after-delete', { n: 6 });

    await new Promise((resolve) => setTimeout(resolve, QUIET_MS)); // a negative check: nothing to wait for
    assert.deepEqual(await fireIds(), ['after-1', 'after-2', 'paused-1', 'paused-2', 'after-unpause']);
  });

  test('DELETE again succeeds', async () => {
    const result = await run('DELETE');
    assert.deepEqual(result, {}, `second DELETE must succeed, got ${JSON.stringify(result)}`);
  });

  test('CREATE for a database that does not exist fails naming dbname, and registers nothing', async () => {
    const result = await run('CREATE', {
      triggerName: noDbTrigger, url: couch.url, dbname: 'no-such-db', username: ADMIN, password: PASSWORD,
    });
    assert.match(result.error || '', /^dbname: /, `expected a dbname error, got ${JSON.stringify(result)}`);
    assert.match(result.error, /404/, 'the message says what the database answered');
    const none = await run('READ', { triggerName: noDbTrigger });
    assert.equal(typeof none.error, 'string', `nothing must be registered, got ${JSON.stringify(none)}`);
  });

  test('CREATE with wrong credentials fails naming username, and registers nothing', async () => {
    const result = await run('CREATE', {
      triggerName: wrongPasswordTrigger, url: couch.url, dbname: DB, username: ADMIN, password: WRONG_PASSWORD,
    });
    assert.match(result.error || '', /^username: /, `expected a username error, got ${JSON.stringify(result)}`);
    assert.match(result.error, /401/, 'the message says what the database answered');
    assert.ok(!result.error.includes(WRONG_PASSWORD), 'the message does not repeat the password');
    const none = await run('READ', { triggerName: wrongPasswordTrigger });
    assert.equal(typeof none.error, 'string', `nothing must be registered, got ${JSON.stringify(none)}`);
  });
});
