'use strict';
// Shared support of the integration tests that run the feed actions' main(params) against the real feedrouter
// provider and the fake OpenWhisk controller (tests/support/fake_controller.hpp), both as processes on 127.0.0.1 with
// free ports:
//
//   FEEDROUTER_BIN=build/app/feedrouter FAKE_CONTROLLER_BIN=build/tests/support/fake-controller node --test feeds/test/
//
// Without both variables the suites are skipped (integrationSuite), except in CI (CI set), where they fail. One test
// file per feed kind starts its own stack (startStack): a fake controller that knows the file's triggers and keys, and
// a provider with its own SQLite store firing at it. A feed kind with an outside source starts that source itself: poll
// a URL served with startServer, changes a real CouchDB-compatible server with CouchDb.start (pouchdb-server, installed
// by `scripts/dev build`).
//
// node --test loads every .js file under a test/ directory, this one too: it defines no tests, so it shows up as one
// passing file.

const { test, describe } = require('node:test');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const FEEDROUTER_BIN = process.env.FEEDROUTER_BIN;
const FAKE_CONTROLLER_BIN = process.env.FAKE_CONTROLLER_BIN;

// How long a process may take to print its "listening on" line, and the provider to become ready.
const STARTUP_MS = 15000;

// How long stop() waits after SIGTERM before SIGKILL; the provider's own --shutdown-grace is set below it.
const STOP_MS = 5000;

// --shutdown-grace of the test provider: fires in flight at the end of a test are not worth waiting for.
const SHUTDOWN_GRACE_SECONDS = '1';

// Default deadline of waitFor(): only reached when something is broken.
const WAIT_MS = 20000;

// Pause between two probes of waitFor(): short against the waits it bounds, long enough not to load the processes.
const PROBE_INTERVAL_MS = 50;

// Deadline of one HTTP request made by a test.
const REQUEST_MS = 10000;

// Stderr kept per process for failure messages: the latest output, where the cause usually is.
const STDERR_KEEP = 32768;

// Children still running; killed when the test process exits, so an interrupted run leaves none behind.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// -- skipping -------------------------------------------------------------------------------------------------------

// Returns why the integration tests cannot run (a binary not given), or null when they can.
function skipReason() {
  const missing = [['FEEDROUTER_BIN', FEEDROUTER_BIN], ['FAKE_CONTROLLER_BIN', FAKE_CONTROLLER_BIN]]
    .filter(([, value]) => !value).map(([name]) => name);
  if (missing.length > 0) {
    return `set ${missing.join(' and ')} (the built feedrouter and fake-controller binaries) to run this test`;
  }
  // A path that is given but wrong fails the tests (spawn: ENOENT) instead of hiding them behind a skip.
  return null;
}

// Returns whether this runs in CI (CI set, as CI services do, to anything but "false" or "0").
function inCi() {
  const value = process.env.CI;
  return Boolean(value) && value !== 'false' && value !== '0';
}

// Declares the suite `name`, or one skipped test saying what is missing when the binaries are not given. In CI a
// missing binary fails that test instead: a suite that cannot run there must not pass as skipped.
function integrationSuite(name, options, fn) {
  const reason = skipReason();
  if (reason && inCi()) {
    test(name, () => {
      throw new Error(`CI is set but the integration test cannot run: ${reason}`);
    });
    return;
  }
  if (reason) {
    test(name, { skip: reason }, () => {});
    return;
  }
  describe(name, options, fn);
}

// -- small helpers --------------------------------------------------------------------------------------------------

// Returns a fresh OpenWhisk-style authKey, "uuid:key".
function makeAuthKey() {
  return `${crypto.randomUUID()}:${crypto.randomBytes(32).toString('hex')}`;
}

// Returns the Authorization header value OpenWhisk sends for `authKey`.
function basicAuthorization(authKey) {
  return `Basic ${Buffer.from(authKey, 'utf8').toString('base64')}`;
}

// Sends one request; resolves with {status, headers, text, json} (json undefined when the body is not JSON).
// `body` may be a string or Buffer (sent as is) or any other value (sent as JSON).
function request(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const outgoing = { ...headers };
    let payload = null;
    if (body !== undefined) {
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
      if (!Object.keys(outgoing).some((h) => h.toLowerCase() === 'content-type')) {
        outgoing['Content-Type'] = 'application/json';
      }
      outgoing['Content-Length'] = payload.length;
    }
    const req = http.request(url, { method, headers: outgoing, agent: false, timeout: REQUEST_MS }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch (e) {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${REQUEST_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// Calls `probe` until it returns a truthy value and resolves with that value; rejects once `timeoutMs` passed,
// with `what` and `describe()` (the state at the deadline) in the message. The processes under test tell no event
// across the process boundary that a test could await, so tests ask repeatedly, with a deadline.
async function waitFor(what, probe, { timeoutMs = WAIT_MS, describe: describeState } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() >= deadline) {
      const state = describeState ? `; ${await describeState()}` : '';
      throw new Error(`${what}: not within ${timeoutMs} ms${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
  }
}

// Starts an HTTP server on 127.0.0.1 and a free port; resolves with {url, server, stop()}. For the outside sources
// of feeds (the URL a poll feed polls, the database of a changes feed).
function startServer(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        server,
        url: `http://127.0.0.1:${server.address().port}`,
        stop: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

// -- processes ------------------------------------------------------------------------------------------------------

// Returns the environment for a child without FEEDROUTER_* variables: the provider reads its options from them
// (FEEDROUTER_NO_VERIFY_AUTH, ...), and the test decides those with flags alone.
function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FEEDROUTER_')));
}

// Starts `bin args`, waits for its first stdout line, which must match `pattern` (group 1 is the URL), and resolves
// with {child, url, stderr()}. Rejects with the process's stderr if it exits or stays silent.
function startProcess(bin, args, pattern) {
  return new Promise((resolve, reject) => {
    const describeRun = () => `${bin} ${args.join(' ')}`;
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-STDERR_KEEP);
    });
    let done = false;
    const settle = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(reject, new Error(`${describeRun()} printed no first line within ${STARTUP_MS} ms; stderr: ${stderr}`));
    }, STARTUP_MS);
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const m = pattern.exec(line.trim());
      if (m) {
        settle(resolve, { child, url: m[1], stderr: () => stderr });
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

// Stops a child: SIGTERM, then SIGKILL if it has not exited after STOP_MS.
async function stopProcess(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await exited;
  clearTimeout(timer);
}

// -- the fake controller --------------------------------------------------------------------------------------------

const enc = encodeURIComponent;

// Splits "/ns/name" or "ns/name" into {namespace, name}.
function splitTrigger(triggerName) {
  const [namespace, name, ...rest] = triggerName.replace(/^\//, '').split('/');
  if (!namespace || !name || rest.length > 0) throw new Error(`not a trigger name "ns/name": ${triggerName}`);
  return { namespace, name };
}

// The fake OpenWhisk controller as a process. Its admin routes (/_fake/...) add triggers and show fires.
class FakeController {
  constructor(proc) {
    this.child = proc.child;
    this.url = proc.url;
    this.stderr = proc.stderr;
  }

  // Starts it knowing `triggers`, [{trigger: "/ns/name", authKey, rule = true}]: each key owns its triggers'
  // namespaces, and may fire and read only those.
  static async start(triggers = []) {
    const args = ['--listen', '127.0.0.1:0'];
    for (const { trigger, authKey, rule = true } of triggers) {
      const { namespace, name } = splitTrigger(trigger);
      args.push('--trigger', `${namespace}/${name}=${authKey}`);
      if (!rule) args.push('--no-rule', `${namespace}/${name}`);
    }
    return new FakeController(
      await startProcess(FAKE_CONTROLLER_BIN, args, /^listening on (http:\/\/127\.0\.0\.1:\d+)$/));
  }

  // Adds (or replaces) a trigger owned by `authKey` while it runs; `feed` is its feed annotation (none by default),
  // `rule` whether it has its one rule "{ns}/{name}-rule".
  async addTrigger(trigger, authKey, { rule = true, feed } = {}) {
    const { namespace, name } = splitTrigger(trigger);
    const body = feed === undefined ? { authKey, rule } : { authKey, rule, feed };
    const res = await request('PUT', `${this.url}/_fake/triggers/${enc(namespace)}/${enc(name)}`, { body });
    if (res.status !== 201) throw new Error(`fake controller: adding ${trigger} answered ${res.status} ${res.text}`);
  }

  // Adds the active rule `rule` ("/ns/name") of `trigger` ("/ns/name").
  async addRule(rule, trigger) {
    const { namespace, name } = splitTrigger(rule);
    const target = splitTrigger(trigger);
    const res = await request('PUT', `${this.url}/_fake/rules/${enc(namespace)}/${enc(name)}`,
      { body: { trigger: `${target.namespace}/${target.name}` } });
    if (res.status !== 201) throw new Error(`fake controller: adding rule ${rule} answered ${res.status} ${res.text}`);
  }

  // Resolves with the trigger's JSON as the controller shows it, or null once it is deleted.
  async trigger(trigger) {
    const { namespace, name } = splitTrigger(trigger);
    const res = await request('GET', `${this.url}/_fake/triggers/${enc(namespace)}/${enc(name)}`);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`fake controller: trigger ${trigger} answered ${res.status} ${res.text}`);
    return res.json;
  }

  // Resolves with the triggers and rules deleted through the API, in order: [{kind, namespace, name, authorization}].
  async deletions() {
    const res = await request('GET', `${this.url}/_fake/deletions`);
    if (res.status !== 200) throw new Error(`fake controller: deletions answered ${res.status} ${res.text}`);
    return res.json.deletions;
  }

  // Answers the next requests that read, or delete, `trigger` or its rules with `answers` ([{status: 503}, ...]).
  async scriptDeletions(trigger, answers) {
    const { namespace, name } = splitTrigger(trigger);
    const res = await request('PUT', `${this.url}/_fake/triggers/${enc(namespace)}/${enc(name)}/deletion-script`,
      { body: { answers } });
    if (res.status !== 204) throw new Error(`fake controller: deletion script answered ${res.status} ${res.text}`);
  }

  // Resolves with the fires of `trigger` ("/ns/name") recorded so far, oldest first: [{authorization, body, ...}].
  async fires(trigger) {
    const { namespace, name } = splitTrigger(trigger);
    const res = await request('GET', `${this.url}/_fake/fires`);
    if (res.status !== 200 || !res.json) throw new Error(`fake controller: fires answered ${res.status} ${res.text}`);
    return res.json.fires.filter((fire) => fire.namespace === namespace && fire.trigger === name);
  }

  // Resolves with the fires of `trigger` once there are at least `count`; rejects at the deadline.
  async waitForFires(trigger, count, { timeoutMs = WAIT_MS, describe: describeState } = {}) {
    let fires = [];
    await waitFor(`${count} fire(s) of ${trigger} at the fake controller`, async () => {
      fires = await this.fires(trigger);
      return fires.length >= count;
    }, {
      timeoutMs,
      describe: async () => `fires: ${JSON.stringify(fires)}` + (describeState ? `; ${await describeState()}` : ''),
    });
    return fires;
  }

  async stop() {
    await stopProcess(this.child);
  }
}

// -- the provider ---------------------------------------------------------------------------------------------------

// The feedrouter provider as a process, with its own SQLite store in a temporary directory.
class Provider {
  constructor(proc, dir) {
    this.child = proc.child;
    this.url = proc.url;
    this.stderr = proc.stderr;
    this.dir = dir;
  }

  // Starts it firing at `apiHost`, with `args` added to the command line (e.g. ['--public-url', URL]), and resolves
  // once it is ready: it prints its URL before the stored registrations run, and answers 503 until then. With `dir`
  // (the `dir` of a provider stopped with keepStore) it starts on that provider's store again.
  static async start({ apiHost, args = [], dir: reused }) {
    const dir = reused || fs.mkdtempSync(path.join(os.tmpdir(), 'feedrouter-feeds-it-'));
    let proc;
    try {
      proc = await startProcess(FEEDROUTER_BIN, [
        '--listen', '127.0.0.1:0',
        '--api-host', apiHost,
        '--store', `sqlite:${path.join(dir, 'fr.db')}`,
        '--shutdown-grace', SHUTDOWN_GRACE_SECONDS,
        // The tests' poll servers and CouchDB listen on 127.0.0.1, which the default egress policy refuses.
        '--allow-egress', '127.0.0.1',
        ...args,
      ], /^feedrouter listening on (http:\/\/127\.0\.0\.1:\d+)$/);
      const provider = new Provider(proc, dir);
      await waitFor('provider ready (GET /ready answers 200)',
        async () => (await request('GET', `${proc.url}/ready`)).status === 200,
        { timeoutMs: STARTUP_MS, describe: () => `stderr: ${proc.stderr()}` });
      return provider;
    } catch (e) {
      if (proc) await stopProcess(proc.child);
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  // Stops it; its store is removed unless `keepStore` (then Provider.start({dir}) starts on it again).
  async stop({ keepStore = false } = {}) {
    await stopProcess(this.child);
    if (!keepStore) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // Returns the store flag value of this provider, for a command run on its store while it is stopped.
  storeSpec() {
    return `sqlite:${path.join(this.dir, 'fr.db')}`;
  }
}

// Starts a fake controller knowing `triggers` (see FakeController.start) and a provider firing at it; resolves with
// {controller, provider, stop()}.
async function startStack({ triggers = [], providerArgs = [] } = {}) {
  const controller = await FakeController.start(triggers);
  let provider;
  try {
    provider = await Provider.start({ apiHost: controller.url, args: providerArgs });
  } catch (e) {
    await controller.stop();
    throw e;
  }
  return {
    controller,
    provider,
    stop: () => Promise.all([provider.stop(), controller.stop()]),
  };
}

// -- the CouchDB-compatible server ---------------------------------------------------------------------------------

// Where `scripts/dev build` (npm ci in tests/support/couchdb) puts pouchdb-server's start script.
const COUCHDB_SCRIPT = path.join(__dirname, '..', '..', '..',
  'tests', 'support', 'couchdb', 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');

// Written as the data directory's config.json before the start: without it, pouchdb-server logs a line per request
// to log.txt. Warnings and errors still go there.
const COUCHDB_CONFIG = '{"log":{"level":"warning"}}\n';

// Returns the path of pouchdb-server's start script; throws, saying how to install it, when it is missing.
function couchDbScript(script = COUCHDB_SCRIPT) {
  if (!fs.existsSync(script)) {
    throw new Error(`pouchdb-server is not installed (${script} is missing): run \`scripts/dev build\`, ` +
      'which runs npm ci in tests/support/couchdb');
  }
  return script;
}

// Resolves with a port of 127.0.0.1 that was free a moment ago: pouchdb-server cannot listen on port 0 and say
// which port it got, so the kernel picks one for a socket that is closed again.
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Returns the percent-encoded path of document `id` in `db`; a `_design/` or `_local/` prefix keeps its slash.
function docPath(db, id) {
  const special = ['_design/', '_local/'].find((prefix) => id.startsWith(prefix)) || '';
  return `/${encodeURIComponent(db)}/${special}${encodeURIComponent(id.slice(special.length))}`;
}

// pouchdb-server as a process on 127.0.0.1, with its data in a temporary directory, and the requests a test makes
// to it. After addAdmin every request carries the admin's credentials: pouchdb-server 4.2 crashes on an anonymous
// database PUT once it has an admin.
class CouchDb {
  constructor(child, url, dir, output) {
    this.child = child;
    this.url = url;
    this.dir = dir;
    this.output = output;
    this.authorization = null;
  }

  // Starts it and resolves once GET / answers 200; rejects with its output if it ends or stays silent.
  // options.script overrides where pouchdb-server's start script is (default: the one `scripts/dev build` installs).
  static async start({ script } = {}) {
    const bin = couchDbScript(script);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedrouter-feeds-couch-'));
    let child;
    try {
      const port = await freePort();
      const config = path.join(dir, 'config.json');
      fs.writeFileSync(config, COUCHDB_CONFIG);
      // It writes config.json and log.txt into its working directory: that is the data directory too.
      child = spawn(process.execPath, [bin, '--host', '127.0.0.1', '--port', String(port), '--dir', dir,
        '--config', config, '--no-stdout-logs', '--no-color'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
      running.add(child);
      child.once('exit', () => running.delete(child));
      let output = '';
      const keep = (d) => {
        output = (output + d).slice(-STDERR_KEEP);
      };
      for (const stream of [child.stdout, child.stderr]) {
        stream.setEncoding('utf8');
        stream.on('data', keep);
      }
      let spawnError = null;
      child.once('error', (err) => {
        spawnError = err;
      });
      const url = `http://127.0.0.1:${port}`;
      // It tells nobody when it listens (its log goes to a file): ask until it answers.
      await waitFor('pouchdb-server answers GET / with 200', async () => {
        if (spawnError) throw new Error(`cannot start pouchdb-server: ${spawnError.message}`);
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`pouchdb-server on port ${port} ended during start-up ` +
            `(${child.signalCode || child.exitCode}); its output: ${output}`);
        }
        try {
          return (await request('GET', `${url}/`)).status === 200;
        } catch (e) {
          return false; // not listening yet
        }
      }, { timeoutMs: STARTUP_MS, describe: () => `its output: ${output}` });
      return new CouchDb(child, url, dir, () => output);
    } catch (e) {
      if (child) await stopProcess(child);
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  // Sends one request to `target` (a path), with the admin's credentials once there is an admin.
  request(method, target, body) {
    const headers = { Accept: 'application/json' };
    if (this.authorization) headers.Authorization = this.authorization;
    return request(method, `${this.url}${target}`, { headers, body });
  }

  // Sends one request and resolves with its answer; rejects naming `what` unless the status is one of `statuses`.
  async expect(what, method, target, body, statuses) {
    const res = await this.request(method, target, body);
    if (!statuses.includes(res.status)) {
      throw new Error(`${what}: ${method} ${target} answered ${res.status} ${res.text}; pouchdb-server output: ` +
        this.output());
    }
    return res;
  }

  async createDb(db) {
    await this.expect('create the database', 'PUT', `/${encodeURIComponent(db)}`, undefined, [201]);
  }

  // Writes document `id` (an object) and resolves with its new rev.
  async putDoc(db, id, doc) {
    return (await this.expect(`put ${id}`, 'PUT', docPath(db, id), doc, [201, 202])).json.rev;
  }

  // Resolves with the rows of `db`'s changes after `since`, as the server sends them: [{seq, id, changes, ...}].
  async changes(db, since) {
    const target = `/${encodeURIComponent(db)}/_changes?since=${encodeURIComponent(since)}`;
    return (await this.expect('read the changes', 'GET', target, undefined, [200])).json.results;
  }

  // Resolves with document `id` of `db`, or null when there is none.
  async getDoc(db, id) {
    const res = await this.request('GET', docPath(db, id));
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`get ${id}: answered ${res.status} ${res.text}`);
    return res.json;
  }

  // Makes `name` a server admin (which ends the "admin party") and sends its credentials from then on.
  async addAdmin(name, password) {
    await this.expect(`add admin ${name}`, 'PUT', `/_config/admins/${encodeURIComponent(name)}`,
      JSON.stringify(password), [200]);
    this.authorization = basicAuthorization(`${name}:${password}`);
  }

  async stop() {
    await stopProcess(this.child);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// -- the feed actions -----------------------------------------------------------------------------------------------

// Returns run(event, params = {}, authKey = defaults.authKey): calls a feed action's `main` as OpenWhisk does, with
// lifecycleEvent, triggerName, authKey, the package's providerUrl, an OpenWhisk-internal key that must not be
// forwarded, and `params` (which may override triggerName). `defaults` is {providerUrl, triggerName, authKey}, where
// providerUrl is a function read at each call, so the runner can be made before the provider starts.
function feedRunner(main, defaults) {
  return (event, params = {}, authKey = defaults.authKey) => main({
    lifecycleEvent: event,
    triggerName: defaults.triggerName,
    authKey,
    providerUrl: defaults.providerUrl(),
    __ow_activation_id: 'not-forwarded',
    ...params,
  });
}

module.exports = {
  CouchDb,
  FakeController,
  Provider,
  basicAuthorization,
  feedRunner,
  integrationSuite,
  makeAuthKey,
  request,
  skipReason,
  startProcess,
  startServer,
  startStack,
  stopProcess,
  waitFor,
};
