'use strict';
// The OpenWhisk parameter matrix (feeds/test/matrix/*.json): every parameter of OpenWhisk's alarm, interval, once and
// cloudant changes feeds, in the values OpenWhisk takes and those it refuses, run through feedrouter's feed actions
// against the real provider (with --openwhisk-cron-months, as a migration runs it), the fake controller, a real
// pouchdb-server and a stand-in IAM token service. Each row says what OpenWhisk answers, what feedrouter answers, and
// whether that is OpenWhisk's behaviour or a deliberate difference (docs/migrating-from-openwhisk.md lists those).
// Skipped unless FEEDROUTER_BIN and FAKE_CONTROLLER_BIN are set (support/provider.js).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const support = require('./support/provider.js');
const fakeIam = require('../../tests/support/fake_iam.js');
const alarms = require('./matrix/alarms.json');
const changes = require('./matrix/changes.json');

const ACTIONS = Object.fromEntries(['alarm', 'interval', 'once', 'changes']
  .map((feed) => [feed, require(path.join(__dirname, '..', `${feed}.js`)).main]));

const DAY_MS = 24 * 3600 * 1000;
const MINUTE_MS = 60 * 1000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// The test's CouchDB admin and database, which the changes rows call "u", "p" and "db"; "k" is the IAM key.
const COUCH_USER = 'u';
const COUCH_PASSWORD = 'p';
const COUCH_DB = 'db';
const IAM_KEY = 'k';
// The operator's key of the admin routes, for the rows an administrator has disabled ("admin": "disable").
const ADMIN_KEY = 'matrix-admin-key';

// Returns the value of each placeholder a row may hold, computed from `now` (Date.now() at the row's start).
function placeholders(now, env) {
  const iso = (ms) => new Date(ms).toISOString();
  const pad = (n) => String(n).padStart(2, '0');
  // A future instant on a whole minute, two days ahead: far from every boundary a row tests.
  const f = Math.floor((now + 2 * DAY_MS) / MINUTE_MS) * MINUTE_MS;
  const d = new Date(f);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const nextYear = new Date(now).getUTCFullYear() + 1;
  const thisDec1 = Date.UTC(nextYear - 1, 11, 1, 9);
  const dayAfter = new Date(f + DAY_MS);
  const dayAfterText = `${dayAfter.getUTCFullYear()}-${pad(dayAfter.getUTCMonth() + 1)}-${pad(dayAfter.getUTCDate())}`;
  return {
    $F: iso(f),
    $F_ISO: iso(f),
    $Fms: f,
    $Fms_string: String(f),
    $P: iso(now - DAY_MS),
    $F10s: iso(now + 10 * 1000),
    $F_PLUS_2D: iso(f + 2 * DAY_MS),
    $F_DAY: dayAfterText,
    $F_DAY_ISO: `${dayAfterText}T00:00:00.000Z`,
    $F_NO_OFFSET: `${day}T${clock}:00`,
    $F_SPACE: `${day} ${clock}`,
    $F_RFC1123: d.toUTCString(),
    $F_LEGACY: `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${clock}:00 GMT`,
    $F_MINUTE_ISO: iso(f),
    $F_COMPACT_OFFSET: `${day}T${clock}:00+0100`,
    $F_MINUTE_MINUS_1H_ISO: iso(f - 3600 * 1000),
    $BEFORE_NEXT_JAN1: iso(Date.UTC(nextYear, 0, 1) - 1),
    $NEXT_DEC1_0900: iso(now < thisDec1 ? thisDec1 : Date.UTC(nextYear, 11, 1, 9)),
    $COUCH_URL: env.couchUrl,
    $COUCH_HOST: '127.0.0.1',
    $IAM_URL: `${env.iamUrl}/identity/token`,
  };
}

// Returns `value` with every placeholder string replaced by its value (a whole-string match only).
function substitute(value, values) {
  if (typeof value === 'string') return Object.hasOwn(values, value) ? values[value] : value;
  if (Array.isArray(value)) return value.map((x) => substitute(x, values));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values)]));
  }
  return value;
}

// Points a changes row's "h" at the test's CouchDB (or, with iamApiKey, at the token-checking proxy in front of it),
// which speaks http on its own port.
function serverOf(params, env) {
  if (params.host !== 'h') return params;
  const iam = 'iamApiKey' in params;
  const out = { ...params, host: '127.0.0.1' };
  const port = iam ? env.iamPort : env.couchPort;
  out.port = typeof params.port === 'string' ? String(port) : port;
  if (!('protocol' in params)) out.protocol = 'http';
  if (iam && !('iamUrl' in params)) out.iamUrl = `${env.iamUrl}/identity/token`;
  return out;
}

// Returns the value at "a.b" in `object`, or undefined.
function at(object, dotted) {
  return dotted.split('.').reduce((x, key) => (x && typeof x === 'object' ? x[key] : undefined), object);
}

// Checks one `read` expectation: null means absent; "$CREATE+30s" a time 30 s after the call began and ended.
function checkRead(result, dotted, expected, values, started, ended) {
  const actual = at(result, dotted);
  if (expected === null) {
    assert.equal(actual, undefined, `${dotted} must be absent, is ${JSON.stringify(actual)}`);
  } else if (expected === '$CREATE+30s') {
    assert.equal(typeof actual, 'number', `${dotted}: ${JSON.stringify(actual)}`);
    assert.ok(actual >= started + 30000 && actual <= ended + 30000, `${dotted}: ${actual} not CREATE + 30 s`);
  } else {
    assert.deepEqual(actual, substitute(expected, values), dotted);
  }
}

support.integrationSuite('the OpenWhisk parameter matrix through the feed actions', { timeout: 300000 }, () => {
  const authKey = support.makeAuthKey();
  let couch;
  let iam;
  let stack;
  let adminDir;
  const env = {};

  before(async () => {
    couch = await support.CouchDb.start();
    await couch.createDb(COUCH_DB);
    await couch.addAdmin(COUCH_USER, COUCH_PASSWORD);
    iam = await fakeIam.start({
      target: couch.url, targetAuth: `${COUCH_USER}:${COUCH_PASSWORD}`, apiKey: IAM_KEY, ttlSeconds: 600,
    });
    adminDir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedrouter-matrix-admin-'));
    const adminKeyFile = path.join(adminDir, 'admin.key');
    fs.writeFileSync(adminKeyFile, `${ADMIN_KEY}\n`, { mode: 0o600 });
    stack = await support.startStack({
      providerArgs: ['--openwhisk-cron-months', '--admin-key-file', adminKeyFile],
    });
    Object.assign(env, {
      couchUrl: couch.url, couchPort: Number(new URL(couch.url).port), iamUrl: iam.url, iamPort: iam.port,
    });
  });

  after(async () => {
    if (stack) await stack.stop();
    if (iam) await iam.stop();
    if (couch) await couch.stop();
    if (adminDir) fs.rmSync(adminDir, { recursive: true, force: true });
  });

  const rows = [...alarms.rows, ...changes.rows];

  test(`the matrix holds ${rows.length} rows, each with OpenWhisk's answer and a target`, () => {
    const ids = new Set();
    for (const row of rows) {
      assert.ok(!ids.has(row.id), `row ${row.id} twice`);
      ids.add(row.id);
      assert.ok(row.openwhisk && row.target, `row ${row.id}: openwhisk and target`);
      assert.ok(row.feed in ACTIONS, `row ${row.id}: feed ${row.feed}`);
    }
  });

  for (const row of rows) {
    const expected = row.expect === 'ok' ? 'ok' : `refused naming ${row.expect.error || 'nothing'}`;
    const name = `${row.id} ${row.feed} ${row.event || 'CREATE'} ${JSON.stringify(row.params)}: ${expected} ` +
      `(${row.target})`;
    test(name, async () => {
      const triggerName = `/guest/m-${row.id.toLowerCase()}`;
      await stack.controller.addTrigger(triggerName, authKey);
      const run = support.feedRunner(ACTIONS[row.feed], {
        providerUrl: () => stack.provider.url, triggerName, authKey,
      });
      const values = placeholders(Date.now(), env);
      const prepare = (params) => {
        const given = substitute(params, values);
        return row.feed === 'changes' ? serverOf(given, env) : given;
      };
      try {
        if (row.create) {
          const created = await run('CREATE', prepare(row.create));
          assert.ok(!created.error, `setting up ${row.id}: ${created.error}`);
        }
        if (row.admin) {
          const [, ns, name] = triggerName.split('/');
          const res = await fetch(`${stack.provider.url}/v1/admin/triggers/${ns}/${name}/${row.admin}`, {
            method: 'POST', headers: { Authorization: `Bearer ${ADMIN_KEY}` },
          });
          assert.equal(res.status, 200, `setting up ${row.id}: admin ${row.admin}: ${await res.text()}`);
        }
        if (row.waitFor) {
          await support.waitFor(`${row.id}: ${JSON.stringify(row.waitFor)}`, async () => {
            const read = await run('READ');
            return Object.entries(row.waitFor).every(([dotted, value]) => at(read, dotted) === value);
          });
        }
        const started = Date.now();
        const result = await run(row.event || 'CREATE', prepare(row.params));
        const ended = Date.now();
        if (row.expect === 'ok') {
          assert.ok(!result.error, `expected success, got ${result.error}; provider: ${stack.provider.stderr()}`);
          // The answer shows the registration as stored; what only its running trigger knows (the next fire) is in
          // a READ.
          const read = Object.keys(row.read || {}).some((dotted) => dotted === 'status.nextFire')
            ? await run('READ') : result;
          for (const [dotted, value] of Object.entries(row.read || {})) {
            checkRead(read, dotted, value, values, started, ended);
          }
        } else {
          assert.ok(typeof result.error === 'string', `expected an error, got ${JSON.stringify(result)}`);
          if (row.expect.error) {
            assert.ok(result.error.startsWith(`${row.expect.error}: `), `names ${row.expect.error}: ${result.error}`);
          }
          if (row.expect.text) {
            assert.ok(result.error.includes(row.expect.text), `says "${row.expect.text}": ${result.error}`);
          }
        }
      } finally {
        await run('DELETE');
      }
    });
  }
});
