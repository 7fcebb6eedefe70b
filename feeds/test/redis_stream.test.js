'use strict';
// Unit test of the redisStream feed action against an in-test fake provider on 127.0.0.1 that records each request.
// Run: node --test feeds/test/

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const { main } = require('../redisStream.js');

const AUTH_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9l';
const REGISTRATION = { config: { feed: 'redis-stream' }, status: { state: 'active' } };

let server;
let providerUrl;
const requests = [];

before(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => {
      requests.push(JSON.parse(text));
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(REGISTRATION));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => {
  server.closeAllConnections();
  server.close(resolve);
}));

test('redisStream creates a redis-stream registration with the parameters given', async () => {
  const result = await main({
    lifecycleEvent: 'CREATE', triggerName: '/guest/t1', authKey: AUTH_KEY, providerUrl,
    url: 'rediss://reader:pw@redis.example.com:6380/2', stream: 'jobs', start: '0', batchSize: 10,
  });
  assert.deepEqual(result, REGISTRATION);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].feed, 'redis-stream');
  assert.equal(requests[0].url, 'rediss://reader:pw@redis.example.com:6380/2');
  assert.equal(requests[0].stream, 'jobs');
  assert.equal(requests[0].start, '0');
  assert.equal(requests[0].batchSize, 10);
});
