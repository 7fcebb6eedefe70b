'use strict';
// Unit tests of the kafka feed actions (kafka, and OpenWhisk's names kafkaFeed and messageHubFeed) against an in-test
// fake provider on 127.0.0.1 that records each request.
// Run: node --test feeds/test/

const { test, describe, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const mains = {
  kafka: require('../kafka.js').main,
  kafkaFeed: require('../kafkaFeed.js').main,
  messageHubFeed: require('../messageHubFeed.js').main,
};

const AUTH_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9l';
const REGISTRATION = { config: { feed: 'kafka' }, status: { state: 'active' } };

describe('kafka feed actions', () => {
  let server;
  let providerUrl;
  let requests;

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

  beforeEach(() => { requests = []; });

  const create = (extra) => ({
    lifecycleEvent: 'CREATE', triggerName: '/guest/t1', authKey: AUTH_KEY, providerUrl, ...extra,
  });

  test('each of the three names creates a kafka registration with the parameters given', async () => {
    for (const name of Object.keys(mains)) {
      requests = [];
      const result = await mains[name](create({ brokers: ['b1:9092', 'b2:9092'], topic: 'orders', isJSONData: true }));
      assert.deepEqual(result, REGISTRATION, name);
      assert.equal(requests.length, 1);
      assert.equal(requests[0].feed, 'kafka', name);
      assert.deepEqual(requests[0].brokers, ['b1:9092', 'b2:9092']);
      assert.equal(requests[0].topic, 'orders');
      assert.equal(requests[0].isJSONData, true);
    }
  });

  test('messageHubFeed takes the credentials of a service binding where none are given, and drops kafka_admin_url',
    async () => {
      const binding = {
        messagehub: { kafka_brokers_sasl: ['bound:9093'], user: 'bound-user', password: 'bound-password' },
      };
      await mains.messageHubFeed(create({
        topic: 'events', user: 'explicit-user', __bx_creds: binding, kafka_admin_url: 'https://admin.example.com',
      }));
      assert.equal(requests.length, 1);
      const body = requests[0];
      assert.deepEqual(body.kafka_brokers_sasl, ['bound:9093']);
      assert.equal(body.user, 'explicit-user');
      assert.equal(body.password, 'bound-password');
      assert.ok(!('kafka_admin_url' in body), 'kafka_admin_url is not passed on');
      assert.ok(!('__bx_creds' in body), 'the binding itself is not passed on');
    });

  test('messageHubFeed without a binding passes what it is given', async () => {
    await mains.messageHubFeed(create({ kafka_brokers_sasl: 'b:9093', user: 'u', password: 'p', topic: 't' }));
    assert.equal(requests[0].kafka_brokers_sasl, 'b:9093');
    assert.equal(requests[0].user, 'u');
    assert.match((await mains.messageHubFeed(undefined)).error, /lifecycleEvent/);
  });
});
