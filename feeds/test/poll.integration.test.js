'use strict';
// Integration test: the poll feed action against the real feedrouter provider and the fake OpenWhisk controller. The
// provider polls a small items API this test serves on 127.0.0.1 (docs/poll-feed.md: the first poll is the baseline,
// later polls fire the items not seen before). Skipped unless FEEDROUTER_BIN and FAKE_CONTROLLER_BIN are set
// (support/provider.js).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { main: poll } = require('../poll.js');
const support = require('./support/provider.js');

// The shortest interval the poll feed takes; the waits below count polls, not seconds.
const INTERVAL_SECONDS = 1;

// How long a test watches for something that must not happen (a poll or a fire while paused or deleted): a few
// intervals. Only negative checks wait this long; everything else waits for what it expects, with a deadline.
const QUIET_MS = 2500 * INTERVAL_SECONDS;

// Sent with every poll; READ must never show it.
const API_TOKEN = 'Bearer feeds-it-token';

// An items API as most have it: GET /items answers {"items": [...]}, newest first, with an ETag, and 304 to a
// matching If-None-Match. It records every request.
function itemsApi() {
  const api = {
    items: [],
    etag: 0,
    requests: [],
    server: null,
    url: '',
    // Adds an item at the front, as a new one is listed.
    add(item) {
      api.items.unshift(item);
      api.etag += 1;
    },
    // Resolves once `count` more requests than `since` were answered.
    waitForPolls: (since, count) => support.waitFor(`${count} poll(s) after the first ${since}`,
      () => api.requests.length >= since + count,
      { describe: () => `requests: ${api.requests.length}` }),
  };
  api.start = async () => {
    const started = await support.startServer((req, res) => {
      // The document is taken when the request arrives, so an item added afterwards is not in this answer.
      const etag = `"v${api.etag}"`;
      const body = JSON.stringify({ items: api.items });
      const notModified = req.headers['if-none-match'] === etag;
      api.requests.push({ method: req.method, url: req.url, headers: req.headers, notModified });
      if (req.method !== 'GET' || req.url !== '/items') {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"error":"not found"}');
      } else if (notModified) {
        res.writeHead(304, { ETag: etag });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json', ETag: etag, 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      }
    });
    api.server = started;
    api.url = started.url;
  };
  api.stop = () => (api.server ? api.server.stop() : Promise.resolve());
  return api;
}

support.integrationSuite('poll feed action against feedrouter and the fake controller', { timeout: 120000 }, () => {
  const authKey = support.makeAuthKey();
  const triggerName = '/guest/new-issues';
  const api = itemsApi();
  let stack;

  const run = support.feedRunner(poll, { providerUrl: () => stack.provider.url, triggerName, authKey });

  const read = async () => {
    const result = await run('READ');
    assert.ok(!result.error, `READ failed: ${result.error}`);
    return result;
  };

  const fireIds = async () => (await stack.controller.fires(triggerName)).map((fire) => fire.body.id);

  // Resolves once the provider has taken the answer of every fire (see webhook.integration.test.js).
  const settled = () => support.waitFor('no pending events', async () => {
    const { status } = await read();
    return status.pendingEvents === 0 && !status.retrying;
  });

  before(async () => {
    await api.start();
    api.add({ id: 'i1', title: 'there before the registration' });
    stack = await support.startStack({ triggers: [{ trigger: triggerName, authKey }] });
  });

  after(async () => {
    if (stack) await stack.stop();
    await api.stop();
  });

  test('CREATE registers the poll; its first poll is the baseline and fires nothing', async () => {
    const result = await run('CREATE', {
      url: `${api.url}/items`,
      intervalSeconds: INTERVAL_SECONDS,
      itemsPointer: '/items',
      idPointer: '/id',
      headers: { Authorization: API_TOKEN },
      trigger_payload: { source: 'feeds-it', title: 'untitled' },
    });
    assert.ok(!result.error, `CREATE failed: ${result.error}; provider stderr: ${stack.provider.stderr()}`);
    assert.equal(result.status.state, 'active');
    assert.equal(result.config.url, `${api.url}/items`);
    assert.ok(!('headers' in result.config), 'headers are never shown');

    await api.waitForPolls(0, 1);
    const [first] = api.requests;
    assert.equal(first.method, 'GET');
    assert.equal(first.url, '/items');
    assert.equal(first.headers.authorization, API_TOKEN);
  });

  test('a new item fires exactly once, with the trigger_payload', async () => {
    api.add({ id: 'i2', title: 'new' });
    const seen = api.requests.length;
    const [fire] = await stack.controller.waitForFires(triggerName, 1,
      { describe: () => `polls: ${api.requests.length}; provider stderr: ${stack.provider.stderr()}` });
    assert.equal(fire.authorization, support.basicAuthorization(authKey));
    // The item's own members win over trigger_payload's (title).
    assert.deepEqual(fire.body, { id: 'i2', title: 'new', source: 'feeds-it' });

    // Two more polls: neither the new item nor the baseline one fires again. They carry the ETag and get 304.
    await api.waitForPolls(api.requests.length, 2);
    assert.deepEqual(await fireIds(), ['i2']);
    const later = api.requests.slice(seen + 1);
    assert.ok(later.some((r) => r.notModified), 'later polls send If-None-Match with the last ETag');
  });

  test('READ returns the config and status, never the headers', async () => {
    const result = await support.waitFor('READ shows the fire', async () => {
      const r = await read();
      return r.status.fires === 1 && r;
    });
    assert.equal(result.config.feed, 'poll');
    assert.equal(result.config.url, `${api.url}/items`);
    assert.equal(result.config.intervalSeconds, INTERVAL_SECONDS);
    assert.equal(result.config.itemsPointer, '/items');
    assert.equal(result.status.state, 'active');
    assert.ok(!JSON.stringify(result).includes(API_TOKEN), 'READ never shows the headers');
  });

  test('UPDATE with a bad interval is rejected naming the field and changes nothing', async () => {
    const bad = await run('UPDATE', { intervalSeconds: 0 });
    assert.match(bad.error || '', /^intervalSeconds: /, `expected an intervalSeconds error, got ${JSON.stringify(bad)}`);
    assert.equal((await read()).config.intervalSeconds, INTERVAL_SECONDS);
  });

  test('PAUSE stops polling: an item listed meanwhile does not fire', async () => {
    await settled();
    const result = await run('PAUSE');
    assert.ok(!result.error, `PAUSE failed: ${result.error}`);
    assert.equal(result.status.state, 'paused');
    const atPause = api.requests.length;
    api.add({ id: 'i3', title: 'listed while paused' });

    await new Promise((resolve) => setTimeout(resolve, QUIET_MS)); // a negative check: nothing to wait for
    // A poll already on the wire when PAUSE arrived may still be answered; none starts afterwards.
    assert.ok(api.requests.length <= atPause + 1, `${api.requests.length - atPause} polls while paused`);
    assert.deepEqual(await fireIds(), ['i2']);
    assert.equal((await read()).status.state, 'paused');
  });

  test('UNPAUSE polls again from the kept position: only the item listed meanwhile fires', async () => {
    const result = await run('UNPAUSE');
    assert.ok(!result.error, `UNPAUSE failed: ${result.error}`);
    assert.equal(result.status.state, 'active');

    const fires = await stack.controller.waitForFires(triggerName, 2);
    assert.deepEqual(fires[1].body, { id: 'i3', title: 'listed while paused', source: 'feeds-it' });
    await api.waitForPolls(api.requests.length, 2);
    assert.deepEqual(await fireIds(), ['i2', 'i3'], 'no item fires twice and the baseline stays');
  });

  test('DELETE removes it: polling stops and READ fails', async () => {
    await settled();
    const result = await run('DELETE');
    assert.deepEqual(result, {}, `DELETE must succeed, got ${JSON.stringify(result)}`);
    const atDelete = api.requests.length;
    api.add({ id: 'i4', title: 'listed after DELETE' });
    const after = await run('READ');
    assert.equal(typeof after.error, 'string', `READ after DELETE must fail, got ${JSON.stringify(after)}`);

    await new Promise((resolve) => setTimeout(resolve, QUIET_MS)); // a negative check: nothing to wait for
    assert.ok(api.requests.length <= atDelete + 1, `${api.requests.length - atDelete} polls after DELETE`);
    assert.deepEqual(await fireIds(), ['i2', 'i3']);
  });

  test('DELETE again succeeds', async () => {
    const result = await run('DELETE');
    assert.deepEqual(result, {}, `second DELETE must succeed, got ${JSON.stringify(result)}`);
  });
});
