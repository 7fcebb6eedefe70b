'use strict';
// Integration test: `feedrouter import-openwhisk` against a pouchdb-server loaded with trigger documents in the shapes
// OpenWhisk's alarms and cloudant providers keep (docs/migrating-from-openwhisk.md), the fake controller standing in
// for OpenWhisk, and then the provider started on the store the import wrote. Skipped unless FEEDROUTER_BIN and
// FAKE_CONTROLLER_BIN are set.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const support = require('./support/provider.js');

const ADMIN = 'import-it-admin';
const PASSWORD = 'import-it-secret-2a9f';
const ALARMS_DB = 'alarmservice';
const CLOUDANT_DB = 'cloudanttrigger';
const USER_DB = 'orders';
const OLD_FEED = '/whisk.system/alarms/alarm';
const MIGRATED = 'Disabled after migration to feedrouter';

// How long a test watches for a fire that must not happen.
const QUIET_MS = 1500;

// The environment without FEEDROUTER_* variables: the command takes its options from flags alone.
function withoutFeedrouterVariables() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FEEDROUTER_')));
}

support.integrationSuite('import-openwhisk from an OpenWhisk provider\'s database', { timeout: 180000 }, () => {
  const owner = support.makeAuthKey();
  const stranger = support.makeAuthKey(); // a key OpenWhisk does not know: its trigger is gone
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedrouter-import-it-'));
  const store = `sqlite:${path.join(dir, 'fr.db')}`;
  let couch;
  let controller;
  let provider;
  const past = Date.now() - 3600 * 1000;
  const later = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();

  const alarmDoc = (name, members, key = owner) => ({
    _id: `${key}/guest/${name}`, apikey: key, name, namespace: 'guest', payload: { from: name }, maxTriggers: -1,
    status: { active: true, dateChanged: past }, worker: 'worker0', ...members,
  });

  // Runs `feedrouter import-openwhisk` for `db` of `kind`; resolves with {status, stdout, stderr}.
  const importFrom = (db, kind, ...extra) => {
    const couchdb = couch.url.replace('http://', `http://${ADMIN}:${PASSWORD}@`);
    const res = spawnSync(process.env.FEEDROUTER_BIN, ['import-openwhisk', '--couchdb', couchdb, '--db', db,
      '--kind', kind, '--store', store, '--api-host', controller.url, '--allow-egress', '127.0.0.1', ...extra],
    { encoding: 'utf8', env: withoutFeedrouterVariables() });
    assert.ok(!res.stdout.includes(owner) && !res.stderr.includes(owner), 'no report shows a key');
    assert.ok(!res.stdout.includes(PASSWORD), 'no report shows a password');
    return res;
  };

  const line = (out, start, name) => out.split('\n').find((l) => l.startsWith(start) && l.includes(name));

  const read = async (name) => {
    const res = await support.request('GET', `${provider.url}/v1/triggers/guest/${name}`,
      { headers: { Authorization: support.basicAuthorization(owner) } });
    assert.equal(res.status, 200, `READ of ${name}: ${res.text}`);
    return res.json;
  };

  before(async () => {
    couch = await support.CouchDb.start();
    await couch.addAdmin(ADMIN, PASSWORD);
    for (const db of [ALARMS_DB, CLOUDANT_DB, USER_DB]) await couch.createDb(db);
    const triggers = ['every-second', 'every5', 'new-year', 'expired', 'used-up', 'by-admin', 'december',
      'docs-changed'].map((name) => ({ trigger: `/guest/${name}`, authKey: owner }));
    controller = await support.FakeController.start(triggers);
    for (const { trigger } of triggers) await controller.addTrigger(trigger, owner, { feed: OLD_FEED });
    const docs = [
      alarmDoc('every-second', { cron: '* * * * * *', strict: 'false' }),
      alarmDoc('every5', { minutes: 5, startDate: past }),
      alarmDoc('new-year', { date: later, deleteAfterFire: 'rules' }),
      alarmDoc('expired', { date: new Date(past).toISOString() }),
      alarmDoc('used-up', {
        cron: '0 9 * * *', maxTriggers: 5,
        status: { active: false, dateChanged: past,
          reason: { kind: 'AUTO', message: 'Automatically disabled after reaching max triggers' } },
      }),
      alarmDoc('by-admin', {
        cron: '0 9 * * *', status: { active: false, dateChanged: past, reason: { kind: 'ADMIN', message: 'support' } },
      }),
      alarmDoc('december', { cron: '0 9 1 12 *' }), // month 12 in OpenWhisk's 0-11: never ran there either
      alarmDoc('gone', { cron: '0 9 * * *' }, stranger),
      { _id: '_design/triggerViews', views: { triggers_by_worker: { map: 'function (doc) {}' } } },
      { _id: `${owner}/guest/alarms_worker0host_1`, monitor: 'host', apikey: owner, maxTriggers: 1, cron: '* * * * *' },
    ];
    for (const doc of docs) await couch.putDoc(ALARMS_DB, doc._id, doc);
    await couch.putDoc(USER_DB, 'before-import', {});
    await couch.putDoc(CLOUDANT_DB, ':guest:docs-changed', {
      id: ':guest:docs-changed', host: '127.0.0.1', port: Number(new URL(couch.url).port), protocol: 'http',
      dbname: USER_DB, user: ADMIN, pass: PASSWORD, apikey: owner, since: 'now', maxTriggers: -1,
      status: { active: true, dateChanged: past }, iamUrl: 'https://iam.bluemix.net/identity/token', worker: 'worker0',
    });
  });

  after(async () => {
    if (provider) await provider.stop();
    if (controller) await controller.stop();
    if (couch) await couch.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a dry run reports what it would import and writes nothing anywhere', async () => {
    const res = importFrom(ALARMS_DB, 'alarms', '--dry-run');
    assert.equal(res.status, 1, `${res.stdout}${res.stderr}`);
    assert.ok(line(res.stdout, 'would import', '/guest/every-second'), res.stdout);
    assert.ok(line(res.stdout, 'not imported', '/guest/december'), res.stdout);
    assert.match(res.stdout, /summary: 7 to import, 0 unchanged, 1 not imported, 2 skipped/);
    assert.ok(!fs.existsSync(path.join(dir, 'fr.db')), 'no store is made');
    assert.ok((await couch.getDoc(ALARMS_DB, `${owner}/guest/every-second`)).status.active);
  });

  test('the alarms import writes each trigger with its state, reports the rest, and disables the sources', async () => {
    const res = importFrom(ALARMS_DB, 'alarms', '--disable-source');
    assert.equal(res.status, 1, `${res.stdout}${res.stderr}`);
    const out = res.stdout;
    assert.ok(line(out, 'imported', '/guest/every-second: cron, active'), out);
    assert.ok(line(out, 'imported', '/guest/expired: once, disabled'), out);
    assert.ok(line(out, 'imported', '/guest/gone: cron, disabled (Automatically disabled after receiving a 401'), out);
    assert.match(line(out, 'not imported', '/guest/december'), /cron: month field \(numbered 0-11/);
    assert.ok(line(out, 'skipped', 'design document _design/triggerViews'), out);
    assert.ok(line(out, 'skipped', 'health monitor'), out);
    assert.ok(line(out, 'old feed annotation', '/guest/every-second: /whisk.system/alarms/alarm'), out);
    assert.ok(line(out, 'restart the old provider', '/guest/every5'), out);
    assert.match(out, /summary: 7 imported, 0 unchanged, 1 not imported, 2 skipped, 5 disabled at source/);
    // The active ones are now disabled at the source, as the provider marks a trigger an operator disabled.
    for (const name of ['every-second', 'every5', 'new-year']) {
      const doc = await couch.getDoc(ALARMS_DB, `${owner}/guest/${name}`);
      assert.equal(doc.status.active, false, name);
      assert.deepEqual(doc.status.reason, { kind: 'ADMIN', message: MIGRATED }, name);
      assert.equal(doc.maxTriggers, -1, `${name}: the provider's filter still sees it`);
    }
    // What was not imported stays as it was.
    assert.equal((await couch.getDoc(ALARMS_DB, `${owner}/guest/december`)).status.active, true);
  });

  test('a second import changes nothing', () => {
    const res = importFrom(ALARMS_DB, 'alarms', '--disable-source');
    assert.equal(res.status, 1, res.stdout);
    assert.match(res.stdout, /summary: 0 imported, 7 unchanged, 1 not imported, 2 skipped, 0 disabled at source/);
  });

  test('the cloudant import gives the feed the position where its database ended', () => {
    const res = importFrom(CLOUDANT_DB, 'cloudant', '--disable-source');
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    assert.ok(line(res.stdout, 'imported', '/guest/docs-changed: changes, active'), res.stdout);
    assert.match(res.stdout, /summary: 1 imported, 0 unchanged, 0 not imported, 0 skipped, 1 disabled at source/);
  });

  test('the provider started on the imported store runs them as OpenWhisk did', async () => {
    provider = await support.Provider.start({ apiHost: controller.url, dir });
    const second = await read('every-second');
    assert.equal(second.status.active, true);
    assert.equal(second.config.cronMonths, '0-11');
    assert.equal(second.config.strict, true);
    const [fire] = await controller.waitForFires('/guest/every-second', 1);
    assert.deepEqual(fire.body, { from: 'every-second' });
    assert.equal(fire.authorization, support.basicAuthorization(owner));

    const every5 = await read('every5');
    assert.equal(every5.config.isInterval, true);
    assert.equal(every5.config.startDate, past, 'the phase is kept');
    assert.equal(new Date(every5.status.nextFire).getTime() % (5 * 60000), past % (5 * 60000));

    const newYear = await read('new-year');
    assert.equal(newYear.config.deleteAfterFire, 'rules');
    assert.equal(newYear.status.nextFire, later);

    const usedUp = await read('used-up');
    assert.equal(usedUp.status.active, false);
    assert.equal(usedUp.status.triggersLeft, 0);
    assert.equal(usedUp.status.reason.message, 'Automatically disabled after reaching max triggers');
    assert.equal(usedUp.status.dateChanged, past);

    const admin = await read('by-admin');
    assert.equal(admin.status.reason.kind, 'ADMIN');

    const expired = await read('expired');
    assert.match(expired.status.reason.message, /the fire once date has expired/);

    // The changes feed fires what was written after the import, not what came before.
    await couch.putDoc(USER_DB, 'after-import', {});
    const [change] = await controller.waitForFires('/guest/docs-changed', 1);
    assert.equal(change.body.id, 'after-import');
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.deepEqual((await controller.fires('/guest/docs-changed')).map((f) => f.body.id), ['after-import']);
    const docs = await read('docs-changed');
    assert.equal(docs.config.host, '127.0.0.1');
    assert.ok(!JSON.stringify(docs).includes(PASSWORD));
  });
});
