'use strict';
// Integration test: OpenWhisk's alarm feeds as a migrating user meets them, through feedrouter's alarm, interval and
// once feed actions against the real provider and the fake controller: deleteAfterFire deleting the OpenWhisk
// trigger (and its rules), the OpenWhisk-shaped READ, UPDATE re-enabling a trigger the provider disabled, and the
// month numbering switch both ways. Skipped unless FEEDROUTER_BIN and FAKE_CONTROLLER_BIN are set.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { main: alarm } = require('../alarm.js');
const { main: interval } = require('../interval.js');
const { main: once } = require('../once.js');
const support = require('./support/provider.js');

// How soon a one-shot fires after CREATE: far enough ahead to be in the future when the provider checks it.
const ONE_SHOT_DELAY_MS = 2000;

// How long a test watches for something that must not happen (a second fire): many times a fire's round trip.
const QUIET_MS = 1500;

support.integrationSuite('OpenWhisk\'s alarm feeds through the feed actions', { timeout: 120000 }, () => {
  const authKey = support.makeAuthKey();
  let stack;

  const runner = (main, triggerName) => support.feedRunner(main, {
    providerUrl: () => stack.provider.url, triggerName, authKey,
  });

  const soon = () => new Date(Date.now() + ONE_SHOT_DELAY_MS).toISOString();

  before(async () => {
    stack = await support.startStack();
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('deleteAfterFire "rules" deletes every rule, then the trigger, then the registration', async () => {
    const trigger = '/guest/new-year';
    await stack.controller.addTrigger(trigger, authKey, { feed: '/guest/feedrouter/once' });
    await stack.controller.addRule('/guest/second-rule', trigger);
    const run = runner(once, trigger);
    const created = await run('CREATE', { date: soon(), deleteAfterFire: 'rules', trigger_payload: { y: 2031 } });
    assert.ok(!created.error, created.error);
    assert.equal(created.config.deleteAfterFire, 'rules');
    const [fire] = await stack.controller.waitForFires(trigger, 1);
    assert.deepEqual(fire.body, { y: 2031 });
    await support.waitFor('the trigger deleted in OpenWhisk',
      async () => (await stack.controller.trigger(trigger)) === null);
    const deletions = await stack.controller.deletions();
    assert.deepEqual(deletions.map((d) => `${d.kind} ${d.namespace}/${d.name}`),
      ['rule guest/new-year-rule', 'rule guest/second-rule', 'trigger guest/new-year']);
    for (const d of deletions) assert.equal(d.authorization, support.basicAuthorization(authKey));
    await support.waitFor('the registration removed', async () => /no registration/.test((await run('READ')).error));
  });

  test('deleteAfterFire true deletes the trigger and leaves its rules', async () => {
    const trigger = '/guest/once-true';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(once, trigger);
    const created = await run('CREATE', { date: soon(), deleteAfterFire: true });
    assert.ok(!created.error, created.error);
    await stack.controller.waitForFires(trigger, 1);
    await support.waitFor('the trigger deleted', async () => (await stack.controller.trigger(trigger)) === null);
    const mine = (await stack.controller.deletions()).filter((d) => d.name.startsWith('once-true'));
    assert.deepEqual(mine.map((d) => d.kind), ['trigger']);
    await support.waitFor('the registration removed', async () => /no registration/.test((await run('READ')).error));
  });

  test('a deletion the controller refuses shows in the status, and the registration stays', async () => {
    const trigger = '/guest/once-refused';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(once, trigger);
    assert.ok(!(await run('CREATE', { date: soon(), deleteAfterFire: 'true' })).error);
    // After the CREATE, whose check of the key reads the trigger too.
    await stack.controller.scriptDeletions(trigger, [{ status: 403 }]);
    await stack.controller.waitForFires(trigger, 1);
    const read = await support.waitFor('the refusal in the status', async () => {
      const r = await run('READ');
      return r.status && r.status.reason && r.status.reason.statusCode === 403 ? r : null;
    });
    assert.equal(read.status.active, false);
    assert.equal(read.status.reason.kind, 'AUTO');
    assert.match(read.status.reason.message, /deleteAfterFire: deleting trigger \/guest\/once-refused/);
    assert.ok(await stack.controller.trigger(trigger), 'the trigger is still there');
  });

  test('READ shows what OpenWhisk\'s alarms READ shows, next to feedrouter\'s own members', async () => {
    const trigger = '/guest/periodic';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(alarm, trigger);
    const startDate = new Date(Date.now() + 86400000).toISOString();
    const created = await run('CREATE', {
      cron: '*/2 * * * *', timezone: 'America/New_York', trigger_payload: { name: 'Odin' }, startDate,
    });
    assert.ok(!created.error, created.error);
    const { config, status } = await run('READ');
    assert.equal(config.name, 'periodic');
    assert.equal(config.namespace, 'guest');
    assert.deepEqual(config.payload, { name: 'Odin' });
    assert.equal(config.strict, false);
    assert.equal(config.cron, '*/2 * * * *');
    assert.equal(config.timezone, 'America/New_York');
    assert.equal(config.startDate, startDate);
    assert.equal(status.active, true);
    assert.equal(typeof status.dateChanged, 'number');
    assert.equal(status.dateChangedISO, new Date(status.dateChanged).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    assert.ok(!('reason' in status), 'an active trigger has no reason');
    // feedrouter's own members are there too.
    assert.equal(config.feed, 'alarm');
    assert.equal(config.triggerName, trigger);
    assert.equal(status.state, 'active');
    assert.equal(status.fires, 0);
    assert.ok(status.nextFire);
    await run('DELETE');
  });

  test('UPDATE re-enables an alarm the provider disabled, with a fresh maxTriggers count', async () => {
    const trigger = '/guest/every-second';
    await stack.controller.addTrigger(trigger, authKey);
    const run = runner(alarm, trigger);
    assert.ok(!(await run('CREATE', { cron: '* * * * * *', maxTriggers: 2 })).error);
    await stack.controller.waitForFires(trigger, 2);
    const ended = await support.waitFor('disabled after maxTriggers', async () => {
      const r = await run('READ');
      return r.status.active === false ? r : null;
    });
    assert.equal(ended.status.reason.kind, 'AUTO');
    assert.match(ended.status.reason.message, /max triggers/);
    assert.ok(!('statusCode' in ended.status.reason), 'no status code caused it');
    const updated = await run('UPDATE', { trigger_payload: { again: true } });
    assert.ok(!updated.error, updated.error);
    assert.equal(updated.status.active, true);
    assert.equal(updated.status.triggersLeft, 2);
    const fires = await stack.controller.waitForFires(trigger, 4);
    assert.deepEqual(fires[3].body, { again: true });
    await run('DELETE');
  });

  test('UPDATE re-enables an alarm a refused fire disabled; a paused one stays paused', async () => {
    const trigger = '/guest/refused';
    await stack.controller.addTrigger(trigger, authKey, { rule: true });
    await support.request('PUT', `${stack.controller.url}/_fake/triggers/guest/refused/hold`,
      { body: { status: 404 } });
    const run = runner(interval, trigger);
    const startDate = new Date(Date.now() + 1000).toISOString();
    assert.ok(!(await run('CREATE', { minutes: 1, startDate })).error);
    const disabled = await support.waitFor('disabled by the 404', async () => {
      const r = await run('READ');
      return r.status.active === false ? r : null;
    });
    assert.equal(disabled.status.reason.statusCode, 404);
    await support.request('DELETE', `${stack.controller.url}/_fake/triggers/guest/refused/hold`);
    const updated = await run('UPDATE', { startDate: new Date(Date.now() + 1000).toISOString() });
    assert.ok(!updated.error, updated.error);
    assert.equal(updated.status.active, true);
    await stack.controller.waitForFires(trigger, 1);
    assert.ok(!(await run('PAUSE')).error);
    const paused = await run('UPDATE', { minutes: 2 });
    assert.equal(paused.status.state, 'paused');
    assert.equal(paused.status.active, false);
    await run('DELETE');
  });

  test('the interval and once feeds fire as OpenWhisk\'s do', async () => {
    const every = '/guest/every-minute';
    const single = '/guest/single';
    await stack.controller.addTrigger(every, authKey);
    await stack.controller.addTrigger(single, authKey);
    const runInterval = runner(interval, every);
    const created = await runInterval('CREATE', { minutes: '1', startDate: new Date(Date.now() + 1000).toISOString() });
    assert.ok(!created.error, created.error);
    assert.equal(created.config.minutes, 1);
    const runOnce = runner(once, single);
    assert.ok(!(await runOnce('CREATE', { date: soon() })).error);
    const [tick] = await stack.controller.waitForFires(every, 1);
    const [shot] = await stack.controller.waitForFires(single, 1);
    // Without trigger_payload a fire carries {"payload": ""}, as OpenWhisk's package binds it.
    assert.deepEqual(tick.body, { payload: '' });
    assert.deepEqual(shot.body, { payload: '' });
    const done = await support.waitFor('the one-shot disabled', async () => {
      const r = await runOnce('READ');
      return r.status.active === false ? r : null;
    });
    assert.equal(done.status.reason.kind, 'AUTO');
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.equal((await stack.controller.fires(single)).length, 1);
    await runInterval('DELETE');
    await runOnce('DELETE');
  });
});

const MONTHS_SUITE = 'numeric cron months: the operator switch, fixed per registration';

support.integrationSuite(MONTHS_SUITE, { timeout: 120000 }, () => {
  const authKey = support.makeAuthKey();
  const trigger = '/guest/first-of-december';
  let controller;
  let provider;

  before(async () => {
    controller = await support.FakeController.start([{ trigger, authKey }]);
  });

  after(async () => {
    if (provider) await provider.stop();
    if (controller) await controller.stop();
  });

  // Returns the month (1-12) of `iso`.
  const monthOf = (iso) => new Date(iso).getUTCMonth() + 1;

  test('without the switch, 11 is November; with it, December, and the choice survives the switch', async () => {
    provider = await support.Provider.start({ apiHost: controller.url });
    const run = support.feedRunner(alarm, { providerUrl: () => provider.url, triggerName: trigger, authKey });
    const standard = await run('CREATE', { cron: '0 9 1 11 *', strict: true });
    assert.ok(!standard.error, standard.error);
    assert.ok(!('cronMonths' in standard.config), 'standard numbering unless the switch is on');
    assert.equal(monthOf((await run('READ')).status.nextFire), 11);
    // Month names mean the same either way.
    await run('CREATE', { cron: '0 9 1 nov *', strict: true });
    assert.equal(monthOf((await run('READ')).status.nextFire), 11);
    await provider.stop({ keepStore: true });

    provider = await support.Provider.start({ apiHost: controller.url, args: ['--openwhisk-cron-months'],
      dir: provider.dir });
    // The registration made before keeps its numbering.
    assert.equal(monthOf((await run('READ')).status.nextFire), 11);
    const openwhisk = await run('CREATE', { cron: '0 9 1 11 *', strict: true });
    assert.ok(!openwhisk.error, openwhisk.error);
    assert.equal(openwhisk.config.cronMonths, '0-11');
    assert.equal(monthOf((await run('READ')).status.nextFire), 12);
    await run('CREATE', { cron: '0 9 1 nov *', strict: true });
    assert.equal(monthOf((await run('READ')).status.nextFire), 11);
    await run('CREATE', { cron: '0 9 1 11 *', strict: true });
    // Month 12 is out of range in OpenWhisk's numbering, refused at CREATE.
    assert.match((await run('UPDATE', { cron: '0 9 1 12 *' })).error, /^cron: .*0-11/);
    await provider.stop({ keepStore: true });

    provider = await support.Provider.start({ apiHost: controller.url, dir: provider.dir });
    // Turning the switch off changes no existing schedule.
    const read = await run('READ');
    assert.equal(read.config.cronMonths, '0-11');
    assert.equal(monthOf(read.status.nextFire), 12);
  });
});
