'use strict';
// Unit tests of the feed actions: main(params) of each feed kind against an in-test fake provider (a node http server
// on 127.0.0.1, port 0) that records each request and answers what the test tells it to.
// The *.integration.test.js files run the same actions against the real provider.
// Run: node --test feeds/test/

const { test, describe, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');

const feedAction = require('../lib/feed_action.js');

const KINDS = ['alarm', 'webhook', 'poll', 'changes', 'mqtt'];
// OpenWhisk's interval and once feeds: alarms at the provider, picked by the flag OpenWhisk binds to each.
const ALARM_ACTIONS = { interval: { isInterval: true }, once: { fireOnce: true } };
const mains = Object.fromEntries([...KINDS, ...Object.keys(ALARM_ACTIONS)]
  .map((kind) => [kind, require(path.join(__dirname, '..', `${kind}.js`)).main]));

const AUTH_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
const TRIGGER = '/guest/t1';

// A fake feedrouter provider: records requests; answers with `respond(request)` -> {status, json} or {status, text}.
function fakeProvider() {
  const provider = {
    requests: [],
    respond: () => ({ status: 200, json: {} }),
    server: null,
    url: '',
  };
  provider.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch (e) {
        body = text;
      }
      const request = { method: req.method, url: req.url, headers: req.headers, body };
      provider.requests.push(request);
      const answer = provider.respond(request);
      if (answer.hang) return; // never answer: the action's timeout must end the request
      if (answer.json !== undefined) {
        const out = JSON.stringify(answer.json);
        res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
        res.end(out);
      } else {
        res.writeHead(answer.status, { 'Content-Type': 'text/plain' });
        res.end(answer.text || '');
      }
    });
  });
  provider.start = () => new Promise((resolve) => {
    provider.server.listen(0, '127.0.0.1', () => {
      provider.url = `http://127.0.0.1:${provider.server.address().port}`;
      resolve();
    });
  });
  provider.stop = () => new Promise((resolve) => {
    provider.server.closeAllConnections();
    provider.server.close(() => resolve());
  });
  return provider;
}

function params(provider, extra) {
  return {
    lifecycleEvent: 'CREATE',
    triggerName: TRIGGER,
    authKey: AUTH_KEY,
    providerUrl: provider.url,
    ...extra,
  };
}

const REGISTRATION = {
  config: { feed: 'alarm', cron: '*/5 * * * *' },
  status: {
    active: true, state: 'active', dateChanged: 1704067200000, dateChangedISO: '2024-01-01T00:00:00Z', fires: 0,
    failures: 0,
  },
};

describe('feed actions against a fake provider', () => {
  const provider = fakeProvider();
  before(() => provider.start());
  after(() => provider.stop());
  beforeEach(() => {
    provider.requests = [];
    provider.respond = () => ({ status: 200, json: REGISTRATION });
  });

  test('each kind exports main(params) returning a Promise', async () => {
    for (const kind of KINDS) {
      assert.equal(typeof mains[kind], 'function', kind);
      const result = mains[kind]({});
      assert.ok(result instanceof Promise, `${kind}: main returns a Promise`);
      assert.ok((await result).error, `${kind}: missing parameters give {error}`);
    }
  });

  test('CREATE posts the lifecycle request with Basic auth and the feed params', async () => {
    provider.respond = () => ({ status: 201, json: REGISTRATION });
    const result = await mains.alarm(params(provider, {
      cron: '*/5 * * * *',
      timezone: 'Europe/Berlin',
      trigger_payload: { hello: 'world' },
      maxTriggers: 10,
    }));
    assert.deepEqual(result, REGISTRATION);
    assert.equal(provider.requests.length, 1);
    const [req] = provider.requests;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1/lifecycle');
    assert.equal(req.headers.authorization, 'Basic ' + Buffer.from(AUTH_KEY).toString('base64'));
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.deepEqual(req.body, {
      lifecycleEvent: 'CREATE',
      triggerName: TRIGGER,
      authKey: AUTH_KEY,
      feed: 'alarm',
      cron: '*/5 * * * *',
      timezone: 'Europe/Berlin',
      trigger_payload: { hello: 'world' },
      maxTriggers: 10,
    });
  });

  test('providerUrl and OpenWhisk-internal __ keys are not forwarded; feed names the action kind', async () => {
    await mains.poll(params(provider, {
      url: 'https://example.com/items.json',
      intervalSeconds: 60,
      feed: 'alarm', // a user parameter cannot change the kind
      __ow_method: 'post',
      __ow_headers: { 'x-a': 'b' },
      __internal: 1,
    }));
    const { body } = provider.requests[0];
    assert.equal(body.feed, 'poll');
    assert.equal(body.url, 'https://example.com/items.json');
    assert.equal(body.intervalSeconds, 60);
    for (const key of Object.keys(body)) {
      assert.ok(!key.startsWith('__'), `${key} must not be forwarded`);
    }
    assert.ok(!('providerUrl' in body), 'providerUrl must not be forwarded');
  });

  test('every kind sends its own feed name', async () => {
    for (const kind of KINDS) {
      provider.requests = [];
      const result = await mains[kind](params(provider));
      assert.ok(!result.error, `${kind}: ${result.error}`);
      assert.equal(provider.requests[0].body.feed, kind);
    }
  });

  test('interval and once send alarms with the flag OpenWhisk binds, which a user cannot lift', async () => {
    for (const [action, flag] of Object.entries(ALARM_ACTIONS)) {
      provider.requests = [];
      const user = action === 'interval' ? { minutes: 5, isInterval: false } : { date: 1924992000000, fireOnce: 0 };
      for (const event of ['CREATE', 'UPDATE']) {
        const result = await mains[action](params(provider, { lifecycleEvent: event, ...user }));
        assert.ok(!result.error, `${action} ${event}: ${result.error}`);
      }
      const [create, update] = provider.requests;
      assert.equal(create.body.feed, 'alarm');
      assert.equal(create.headers['user-agent'], `feedrouter-feed-action/${action}`);
      for (const req of [create, update]) {
        for (const [name, value] of Object.entries(flag)) assert.equal(req.body[name], value, `${action}: ${name}`);
      }
    }
  });

  test('an alarm CREATE without trigger_payload fires {"payload": ""}, as OpenWhisk\'s package binds it', async () => {
    for (const action of ['alarm', 'interval', 'once']) {
      provider.requests = [];
      await mains[action](params(provider, { minutes: 5 }));
      await mains[action](params(provider, { minutes: 5, trigger_payload: { a: 1 } }));
      await mains[action](params(provider, { lifecycleEvent: 'UPDATE', minutes: 6 }));
      const [bare, given, update] = provider.requests.map((req) => req.body);
      assert.equal(bare.trigger_payload, '', action);
      assert.deepEqual(given.trigger_payload, { a: 1 }, action);
      assert.ok(!('trigger_payload' in update), `${action}: UPDATE changes only what it is given`);
    }
    provider.requests = [];
    await mains.changes(params(provider, { url: 'https://h', dbname: 'd' }));
    assert.ok(!('trigger_payload' in provider.requests[0].body), 'not the other feeds');
  });

  test('providerUrl with a path prefix and trailing slash', async () => {
    const result = await mains.alarm(params(provider, { providerUrl: `${provider.url}/feedrouter/` }));
    assert.ok(!result.error, result.error);
    assert.equal(provider.requests[0].url, '/feedrouter/v1/lifecycle');
  });

  test('webhook CREATE returns hookUrl and secret', async () => {
    const answer = {
      hookUrl: 'https://feedrouter.example.com/v1/hooks/9f2c',
      secret: 's3cr3t',
      config: { feed: 'webhook', signature: 'hmac-sha256' },
      status: { state: 'active' },
    };
    provider.respond = () => ({ status: 201, json: answer });
    const result = await mains.webhook(params(provider, { signature: 'hmac-sha256', events: ['push'] }));
    assert.deepEqual(result, answer);
    assert.deepEqual(provider.requests[0].body.events, ['push']);
  });

  test('CREATE that replaces a registration (200) is a success too', async () => {
    provider.respond = () => ({ status: 200, json: REGISTRATION });
    assert.deepEqual(await mains.alarm(params(provider, { cron: '* * * * *' })), REGISTRATION);
  });

  test('READ returns {config, status} and sends no feed params', async () => {
    const result = await mains.changes(params(provider, {
      lifecycleEvent: 'READ',
      url: 'https://db.example.com', // e.g. bound to the package: only CREATE and UPDATE carry feed params
      password: 'pw',
    }));
    assert.deepEqual(result, REGISTRATION);
    assert.deepEqual(provider.requests[0].body, {
      lifecycleEvent: 'READ',
      triggerName: TRIGGER,
      authKey: AUTH_KEY,
      feed: 'changes',
    });
  });

  test('UPDATE forwards only the parameters it is given', async () => {
    const result = await mains.alarm(params(provider, { lifecycleEvent: 'UPDATE', cron: '0 * * * *' }));
    assert.deepEqual(result, REGISTRATION);
    assert.deepEqual(provider.requests[0].body, {
      lifecycleEvent: 'UPDATE',
      triggerName: TRIGGER,
      authKey: AUTH_KEY,
      feed: 'alarm',
      cron: '0 * * * *',
    });
  });

  test('PAUSE and UNPAUSE return the provider answer', async () => {
    for (const [event, state] of [['PAUSE', 'paused'], ['UNPAUSE', 'active']]) {
      provider.requests = [];
      const answer = { config: REGISTRATION.config, status: { state } };
      provider.respond = (req) => (req.body.lifecycleEvent === event
        ? { status: 200, json: answer }
        : { status: 400, json: { error: 'wrong event' } });
      assert.deepEqual(await mains.alarm(params(provider, { lifecycleEvent: event })), answer);
      assert.equal(provider.requests[0].body.lifecycleEvent, event);
    }
  });

  test('lifecycleEvent is matched case-insensitively and sent upper-case', async () => {
    await mains.alarm(params(provider, { lifecycleEvent: 'pause' }));
    assert.equal(provider.requests[0].body.lifecycleEvent, 'PAUSE');
  });

  test('DELETE 204 succeeds', async () => {
    provider.respond = () => ({ status: 204 });
    const result = await mains.alarm(params(provider, { lifecycleEvent: 'DELETE' }));
    assert.deepEqual(result, {});
    assert.equal(provider.requests[0].body.lifecycleEvent, 'DELETE');
  });

  test('DELETE of an unknown registration (404) succeeds', async () => {
    provider.respond = () => ({ status: 404, json: { error: 'no such trigger' } });
    const result = await mains.webhook(params(provider, { lifecycleEvent: 'DELETE' }));
    assert.deepEqual(result, {});
  });

  test('READ of an unknown registration (404) is an error with the provider message', async () => {
    provider.respond = () => ({ status: 404, json: { error: 'no such trigger' } });
    assert.deepEqual(await mains.alarm(params(provider, { lifecycleEvent: 'READ' })), { error: 'no such trigger' });
  });

  test('a 400 error names the field', async () => {
    provider.respond = () => ({ status: 400, json: { error: 'hour field: 25 is out of range', field: 'cron' } });
    const result = await mains.alarm(params(provider, { cron: '0 25 * * *' }));
    assert.deepEqual(result, { error: 'cron: hour field: 25 is out of range' });
  });

  test('a message that already starts with its field is not prefixed twice', async () => {
    provider.respond = () => ({ status: 400, json: { error: 'cron: hour field: 25 is out of range', field: 'cron' } });
    assert.deepEqual(await mains.alarm(params(provider)), { error: 'cron: hour field: 25 is out of range' });
  });

  test('errors without a field: 401 and 409 carry the provider message', async () => {
    provider.respond = () => ({ status: 401, json: { error: 'authKey was rejected by OpenWhisk' } });
    assert.deepEqual(await mains.alarm(params(provider)), { error: 'authKey was rejected by OpenWhisk' });
    provider.respond = () => ({ status: 409, json: { error: 'conflict' } });
    assert.deepEqual(await mains.alarm(params(provider)), { error: 'conflict' });
  });

  test('an error answer that is not JSON names the HTTP status', async () => {
    provider.respond = () => ({ status: 502, text: 'Bad Gateway from proxy' });
    const result = await mains.alarm(params(provider));
    assert.match(result.error, /HTTP 502/);
    assert.match(result.error, /Bad Gateway from proxy/);
  });

  test('a 2xx answer that is not JSON is an error', async () => {
    provider.respond = () => ({ status: 200, text: '<html>' });
    const result = await mains.alarm(params(provider));
    assert.match(result.error, /not JSON/);
  });

  for (const name of ['lifecycleEvent', 'triggerName', 'authKey', 'providerUrl']) {
    test(`missing ${name} is an error naming it, without calling the provider`, async () => {
      const p = params(provider);
      delete p[name];
      const result = await mains.alarm(p);
      assert.equal(typeof result.error, 'string');
      assert.match(result.error, new RegExp(name));
      const empty = await mains.alarm({ ...params(provider), [name]: '' });
      assert.match(empty.error, new RegExp(name));
      assert.equal(provider.requests.length, 0);
    });
  }

  test('an unknown lifecycleEvent is an error, without calling the provider', async () => {
    const result = await mains.alarm(params(provider, { lifecycleEvent: 'RESTART' }));
    assert.match(result.error, /lifecycleEvent/);
    assert.match(result.error, /RESTART/);
    assert.equal(provider.requests.length, 0);
  });

  test('a providerUrl that is not http(s) is an error, without calling the provider', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'not a url']) {
      const result = await mains.alarm(params(provider, { providerUrl: url }));
      assert.match(result.error, /providerUrl/);
    }
    assert.equal(provider.requests.length, 0);
  });

  test('a 503 (provider starting) is asked again, and the answer that follows is returned', async () => {
    let calls = 0;
    provider.respond = () => (++calls < 3
      ? { status: 503, json: { error: 'the provider is starting; retry shortly' } }
      : { status: 201, json: REGISTRATION });
    const result = await feedAction.lifecycle('alarm', params(provider), { retryDelaysMs: [10, 10, 10] });
    assert.deepEqual(result, REGISTRATION);
    assert.equal(provider.requests.length, 3);
    assert.deepEqual(provider.requests[2].body, provider.requests[0].body);
  });

  test('a 503 that lasts through every retry is returned as the error', async () => {
    provider.respond = () => ({ status: 503, json: { error: 'the provider is starting; retry shortly' } });
    const result = await feedAction.lifecycle('alarm', params(provider), { retryDelaysMs: [10, 10] });
    assert.deepEqual(result, { error: 'the provider is starting; retry shortly' });
    assert.equal(provider.requests.length, 3);
  });

  test('no retry waits past the deadline of the call', async () => {
    provider.respond = () => ({ status: 503, json: { error: 'busy' } });
    const result = await feedAction.lifecycle('alarm', params(provider), { timeoutMs: 300, retryDelaysMs: [1000] });
    assert.deepEqual(result, { error: 'busy' });
    assert.equal(provider.requests.length, 1);
  });

  test('other errors are not asked again', async () => {
    provider.respond = () => ({ status: 500, json: { error: 'boom' } });
    await feedAction.lifecycle('alarm', params(provider), { retryDelaysMs: [10] });
    assert.equal(provider.requests.length, 1);
  });

  test('a 429 (the namespace at its quota) is not asked again, whatever its Retry-After: the error names the limit',
    async () => {
      const quota = 'namespace: guest has 3 registrations, the most this provider allows per namespace ' +
        '(--max-registrations-per-namespace); delete one before creating another';
      provider.respond = () => ({ status: 429, json: { error: quota, field: 'namespace' } });
      const result = await feedAction.lifecycle('alarm', params(provider), { retryDelaysMs: [10, 10, 10] });
      assert.deepEqual(result, { error: quota });
      assert.equal(provider.requests.length, 1);
    });

  test('a provider that does not answer in time is reported as unreachable', async () => {
    provider.respond = () => ({ hang: true });
    const result = await feedAction.lifecycle('alarm', params(provider), { timeoutMs: 200 });
    assert.match(result.error, new RegExp(`^feedrouter provider unreachable at ${provider.url}: `));
    assert.match(result.error, /200 ms/);
  });
});

test('an unreachable provider gives {error} naming its URL', async () => {
  // Take a free port, then close it, so nothing listens there.
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  await new Promise((resolve) => server.close(resolve));
  const result = await mains.alarm({
    lifecycleEvent: 'CREATE', triggerName: TRIGGER, authKey: AUTH_KEY, providerUrl: `${url}/`, cron: '* * * * *',
  });
  assert.match(result.error, new RegExp(`^feedrouter provider unreachable at ${url}: .*ECONNREFUSED`));
});

test('feedParams drops reserved and internal keys', () => {
  assert.deepEqual(feedAction.feedParams({
    lifecycleEvent: 'CREATE', triggerName: 't', authKey: 'a:b', providerUrl: 'http://x', feed: 'x',
    __ow_user: 'u', cron: '* * * * *', trigger_payload: { a: 1 },
  }), { cron: '* * * * *', trigger_payload: { a: 1 } });
});
