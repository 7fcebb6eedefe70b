'use strict';
// Integration test: the alarm feed action against the real feedrouter provider and the fake OpenWhisk controller.
// It runs only when both binaries are given, and is skipped otherwise:
//   FEEDROUTER_BIN=build/app/feedrouter FAKE_CONTROLLER_BIN=build/tests/support/fake-controller node --test feeds/test/
// (paths as your build lays them out). The other kinds have their own files: webhook.integration.test.js,
// poll.integration.test.js, and ownership.integration.test.js for keys that do not own a trigger. The processes are
// started and stopped by support/provider.js.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { main: alarm } = require('../alarm.js');
const support = require('./support/provider.js');

support.integrationSuite('alarm feed action against feedrouter and the fake controller', { timeout: 120000 }, () => {
  const authKey = support.makeAuthKey();
  const otherKey = support.makeAuthKey();
  const triggerName = '/guest/t1';
  let stack;

  const run = support.feedRunner(alarm, { providerUrl: () => stack.provider.url, triggerName, authKey });

  const read = async () => {
    const result = await run('READ');
    assert.ok(!result.error, `READ failed: ${result.error}`);
    return result;
  };

  before(async () => {
    stack = await support.startStack({ triggers: [{ trigger: triggerName, authKey }] });
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('CREATE registers an alarm firing every second', async () => {
    const result = await run('CREATE', { cron: '* * * * * *', trigger_payload: { source: 'feeds-it' } });
    assert.ok(!result.error, `CREATE failed: ${result.error}; provider stderr: ${stack.provider.stderr()}`);
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
    const [fire] = await stack.controller.waitForFires(triggerName, 1,
      { describe: () => `provider stderr: ${stack.provider.stderr()}` });
    assert.equal(fire.authorization, support.basicAuthorization(authKey));
    assert.equal(fire.body.source, 'feeds-it', 'trigger_payload is merged into the fire');
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
    assert.equal(result.status.state, 'paused');
    assert.equal((await read()).status.state, 'paused');
  });

  test('UNPAUSE makes it active again', async () => {
    const result = await run('UNPAUSE');
    assert.ok(!result.error, `UNPAUSE failed: ${result.error}`);
    assert.equal(result.status.state, 'active');
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
    assert.deepEqual(result, {});
    const after = await run('READ');
    assert.equal(typeof after.error, 'string', `READ after DELETE must fail, got ${JSON.stringify(after)}`);
  });

  test('DELETE again succeeds', async () => {
    const result = await run('DELETE');
    assert.ok(!result.error, `second DELETE failed: ${result.error}`);
    assert.deepEqual(result, {});
  });
});
