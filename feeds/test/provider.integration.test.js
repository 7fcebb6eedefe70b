'use strict';
// Integration test: the alarm feed action against the real feedrouter provider and the fake OpenWhisk controller.
// It runs only when both binaries are given:
//   FEEDROUTER_BIN=build/app/feedrouter FAKE_CONTROLLER_BIN=build/tests/support/fake-controller node --test feeds/test/
// (paths as your build lays them out). Otherwise it is skipped.
//
// Only the alarm feed is implemented in the provider so far, so only alarm is covered here; webhook, poll and changes
// are covered by feed_action.test.js against a fake provider.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const { main: alarm } = require('../alarm.js');

const FEEDROUTER_BIN = process.env.FEEDROUTER_BIN;
const FAKE_CONTROLLER_BIN = process.env.FAKE_CONTROLLER_BIN;
const missing = [['FEEDROUTER_BIN', FEEDROUTER_BIN], ['FAKE_CONTROLLER_BIN', FAKE_CONTROLLER_BIN]]
  .filter(([, value]) => !value).map(([name]) => name);

const STARTUP_MS = 15000;
const FIRE_WAIT_MS = 20000;

// Starts `bin args`, waits for its first stdout line, which must match `pattern` (its group 1 is the URL), and
// resolves with {child, url}. Rejects with the process's stderr if it exits or stays silent.
function start(bin, args, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { if (stderr.length < 16384) stderr += d; });
    child.stderrText = () => stderr;
    let done = false;
    const settle = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn(value);
    };
    const describeRun = () => `${bin} ${args.join(' ')}`;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(reject, new Error(`${describeRun()} printed no first line within ${STARTUP_MS} ms; stderr: ${stderr}`));
    }, STARTUP_MS);
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const m = pattern.exec(line.trim());
      if (m) {
        settle(resolve, { child, url: m[1] });
      } else {
        child.kill('SIGKILL');
        settle(reject, new Error(`${describeRun()}: first line ${JSON.stringify(line)} does not match ${pattern}`));
      }
    });
    child.once('error', (err) => settle(reject, new Error(`cannot start ${describeRun()}: ${err.message}`)));
    child.once('exit', (code, signal) => settle(reject,
      new Error(`${describeRun()} exited (${signal || code}) before listening; stderr: ${stderr}`)));
  });
}

// Stops a child: SIGTERM, then SIGKILL if it has not exited after 5 s.
async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(text) });
        } catch (e) {
          reject(new Error(`GET ${url}: ${res.statusCode} ${text}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (missing.length > 0) {
  test('feed actions against the real provider', {
    skip: `set ${missing.join(' and ')} (the built feedrouter and fake-controller binaries) to run this test`,
  }, () => {});
} else {
  describe('alarm feed action against feedrouter and the fake controller', { timeout: 120000 }, () => {
    const uuid = crypto.randomUUID();
    const authKey = `${uuid}:${crypto.randomBytes(32).toString('hex')}`;
    const otherKey = `${crypto.randomUUID()}:${crypto.randomBytes(32).toString('hex')}`;
    const triggerName = '/guest/t1';
    let tmp;
    let controller;
    let provider;

    const run = (event, extra, key) => alarm({
      lifecycleEvent: event,
      triggerName,
      authKey: key || authKey,
      providerUrl: provider.url,
      __ow_activation_id: 'not-forwarded',
      ...extra,
    });

    const read = async () => {
      const result = await run('READ');
      assert.ok(!result.error, `READ failed: ${result.error}`);
      return result;
    };

    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedrouter-feeds-it-'));
      controller = await start(FAKE_CONTROLLER_BIN,
        ['--listen', '127.0.0.1:0', '--trigger', `guest/t1=${authKey}`],
        /^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
      provider = await start(FEEDROUTER_BIN,
        ['--listen', '127.0.0.1:0', '--api-host', controller.url, '--store', `sqlite:${path.join(tmp, 'fr.db')}`],
        /^feedrouter listening on (http:\/\/127\.0\.0\.1:\d+)$/);
    });

    after(async () => {
      await Promise.all([stop(provider && provider.child), stop(controller && controller.child)]);
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    test('CREATE registers an alarm firing every second', async () => {
      const result = await run('CREATE', { cron: '* * * * * *', trigger_payload: { source: 'feeds-it' } });
      assert.ok(!result.error, `CREATE failed: ${result.error}; provider stderr: ${provider.child.stderrText()}`);
      assert.equal(typeof result.config, 'object');
      assert.equal(typeof result.status, 'object');
      assert.equal(result.status.state, 'active');
    });

    test('READ returns the config and status active', async () => {
      const result = await read();
      assert.equal(result.config.cron, '* * * * * *');
      assert.equal(result.status.state, 'active');
      assert.ok(!('providerUrl' in result.config), 'providerUrl is not a feed parameter');
      assert.ok(!Object.keys(result.config).some((k) => k.startsWith('__')), 'no __ow_* key in config');
    });

    test('the trigger fires at the controller', async () => {
      // No event crosses the process boundary to await, so poll the fake controller: bounded, short waits.
      let fires = { count: 0 };
      for (let waited = 0; waited < FIRE_WAIT_MS && fires.count < 1; waited += 200) {
        fires = (await getJson(`${controller.url}/_fake/fires`)).body;
        if (fires.count < 1) await sleep(200);
      }
      assert.ok(fires.count >= 1, `no fire within ${FIRE_WAIT_MS} ms; provider stderr: ${provider.child.stderrText()}`);
      const [fire] = fires.fires || [];
      if (fire) {
        assert.equal(fire.authorization, `Basic ${Buffer.from(authKey).toString('base64')}`);
        const body = typeof fire.body === 'string' ? JSON.parse(fire.body) : fire.body;
        assert.equal(body.source, 'feeds-it', 'trigger_payload is merged into the fire');
      }
    });

    test('UPDATE reconfigures it; a bad cron is rejected naming the field', async () => {
      const updated = await run('UPDATE', { cron: '*/2 * * * * *' });
      assert.ok(!updated.error, `UPDATE failed: ${updated.error}`);
      assert.equal((await read()).config.cron, '*/2 * * * * *');

      const bad = await run('UPDATE', { cron: '0 0 25 * * *' });
      assert.match(bad.error || '', /^cron: /, `expected a cron error, got ${JSON.stringify(bad)}`);
      assert.equal((await read()).config.cron, '*/2 * * * * *', 'a rejected UPDATE changes nothing');
    });

    test('PAUSE leaves it paused', async () => {
      const result = await run('PAUSE');
      assert.ok(!result.error, `PAUSE failed: ${result.error}`);
      if (result.status) assert.equal(result.status.state, 'paused');
      assert.equal((await read()).status.state, 'paused');
    });

    test('UNPAUSE makes it active again', async () => {
      const result = await run('UNPAUSE');
      assert.ok(!result.error, `UNPAUSE failed: ${result.error}`);
      if (result.status) assert.equal(result.status.state, 'active');
      assert.equal((await read()).status.state, 'active');
    });

    test('another key can neither READ nor DELETE it', async () => {
      const result = await run('READ', {}, otherKey);
      assert.equal(typeof result.error, 'string', `READ with another key must fail, got ${JSON.stringify(result)}`);
      // DELETE of what the key cannot see answers 404, which the action reports as success; it must not delete.
      assert.ok(!(await run('DELETE', {}, otherKey)).error);
      assert.equal((await read()).config.cron, '*/2 * * * * *');
    });

    test('DELETE removes it; READ then fails', async () => {
      const result = await run('DELETE');
      assert.ok(!result.error, `DELETE failed: ${result.error}`);
      const after = await run('READ');
      assert.equal(typeof after.error, 'string', `READ after DELETE must fail, got ${JSON.stringify(after)}`);
    });

    test('DELETE again succeeds', async () => {
      const result = await run('DELETE');
      assert.ok(!result.error, `second DELETE failed: ${result.error}`);
    });
  });
}
