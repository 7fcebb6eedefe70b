'use strict';
// Integration test: the github feed action against the real feedrouter provider, the fake OpenWhisk controller and
// the fake GitHub (tests/support/fake_github, as the process fake-github next to fake-controller), through its
// lifecycle as OpenWhisk calls it (docs/github-feed.md). Skipped unless FEEDROUTER_BIN and FAKE_CONTROLLER_BIN are set
// (support/provider.js); FAKE_GITHUB_BIN defaults to fake-github beside FAKE_CONTROLLER_BIN.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { main: github } = require('../github.js');
const support = require('./support/provider.js');

const TOKEN = 'ghp_feedsIntegrationToken0123456789';
const REPOSITORY = 'octocat/hello-world';

function fakeGitHubBin() {
  if (process.env.FAKE_GITHUB_BIN) return process.env.FAKE_GITHUB_BIN;
  return path.join(path.dirname(process.env.FAKE_CONTROLLER_BIN || '.'), 'fake-github');
}

support.integrationSuite('github feed action against feedrouter, the fake controller and the fake GitHub',
  { timeout: 120000 }, () => {
    const authKey = support.makeAuthKey();
    const triggerName = '/guest/on-push';
    let stack;
    let fake;

    const run = support.feedRunner(github, { providerUrl: () => stack.provider.url, triggerName, authKey });
    const hooks = async () => (await support.request('GET', `${fake.url}/_fake/repos/${REPOSITORY}/hooks`)).json;
    const send = async (event, body) =>
      (await support.request('POST', `${fake.url}/_fake/repos/${REPOSITORY}/events/${event}`,
        { body: JSON.stringify(body) })).json;
    const setDown = (down) => support.request('PUT', `${fake.url}/_fake/down`, { body: { down } });
    const fires = () => stack.controller.fires(triggerName);

    before(async () => {
      stack = await support.startStack({ triggers: [{ trigger: triggerName, authKey }] });
      fake = await support.startProcess(fakeGitHubBin(), ['--token', TOKEN, '--repository', REPOSITORY],
        /^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
    });

    after(async () => {
      if (fake) await support.stopProcess(fake.child);
      if (stack) await stack.stop();
    });

    test('CREATE with a token GitHub refuses fails naming accessToken and leaves nothing', async () => {
      const result = await run('CREATE', { repository: REPOSITORY, accessToken: 'ghp_wrong', apiUrl: fake.url });
      assert.match(result.error || '', /^accessToken: /);
      assert.deepEqual(await hooks(), []);
      assert.ok((await run('READ')).error, 'no registration is left');
    });

    test('CREATE installs one hook on the repository, whose ping is answered without a fire', async () => {
      const result = await run('CREATE',
        { repository: REPOSITORY, accessToken: TOKEN, events: 'push, issues', baseUrl: fake.url });
      assert.ok(!result.error, `CREATE failed: ${result.error}; provider stderr: ${stack.provider.stderr()}`);
      const installed = await hooks();
      assert.equal(installed.length, 1);
      const [hook] = installed;
      assert.equal(hook.url, result.status.hookUrl);
      assert.deepEqual(hook.events, ['issues', 'push']);
      assert.equal(hook.contentType, 'json');
      assert.equal(hook.insecureSsl, '0');
      assert.match(hook.secret, /^[0-9a-f]{64}$/);
      assert.equal(result.config.githubHookId, hook.id);
      const shown = JSON.stringify(result);
      assert.ok(!shown.includes(TOKEN) && !shown.includes(hook.secret), 'neither token nor secret is shown');
      assert.equal((await fires()).length, 0, 'the ping fired nothing');
    });

    test('a push fires the trigger once, and its redelivery does not fire again', async () => {
      const [delivery] = await send('push', { ref: 'refs/heads/main', after: 'c0ffee' });
      assert.equal(delivery.status, 202);
      await support.waitFor('the push fired', async () => (await fires()).length === 1);
      const again = await support.request('POST', `${fake.url}/_fake/deliveries/${delivery.id}/redeliver`);
      assert.equal(again.json.status, 202);
      assert.match(again.json.answer, /duplicate/);
      await send('issues', { action: 'opened' });
      await support.waitFor('the issue fired', async () => (await fires()).length >= 2);
      const fired = await fires();
      assert.equal(fired.length, 2);
      assert.equal(fired[0].body.after, 'c0ffee');
      assert.equal(fired[1].body.event, 'issues');
    });

    test('PAUSE and UNPAUSE set the hook inactive and active; UPDATE patches its events', async () => {
      assert.equal((await run('PAUSE')).status.state, 'paused');
      assert.equal((await hooks())[0].active, false);
      assert.equal((await run('UNPAUSE')).status.state, 'active');
      assert.equal((await hooks())[0].active, true);
      const updated = await run('UPDATE', { events: ['push'] });
      assert.ok(!updated.error, `UPDATE failed: ${updated.error}`);
      assert.deepEqual((await hooks())[0].events, ['push']);
    });

    test('DELETE while GitHub is down shows the removal, and retries it until the hook is gone', async () => {
      await setDown(true);
      const removing = await run('DELETE');
      assert.ok(!removing.error, `DELETE failed: ${removing.error}`);
      assert.equal(removing.status.state, 'paused');
      assert.equal(removing.status.hookRemoval.attempts, 1);
      assert.equal((await run('READ')).status.hookRemoval.attempts >= 1, true);
      await setDown(false);
      await support.waitFor('the hook removed at GitHub', async () => (await hooks()).length === 0);
      await support.waitFor('the registration removed', async () => Boolean((await run('READ')).error));
    });
  });
