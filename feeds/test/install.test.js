'use strict';
// Tests of feeds/install.sh and feeds/uninstall.sh with a fake wsk CLI: a script written by the test that records its
// arguments (one JSON line per call) and keeps a copy of each action file it is given, so the test can check that
// every built action is one self-contained file that loads under node and exports main.
// Run: node --test feeds/test/

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const FEEDS = path.join(__dirname, '..');
const INSTALL = path.join(FEEDS, 'install.sh');
const UNINSTALL = path.join(FEEDS, 'uninstall.sh');
const KINDS = ['alarm', 'interval', 'once', 'webhook', 'poll', 'changes', 'kafka', 'kafkaFeed', 'messageHubFeed',
  'github', 'mqtt', 'redisStream'];
// The feed kind an action registers, where it is not the action's own name (OpenWhisk's names of the kafka feed, and
// redisStream, whose kind has a dash).
const FEED_OF = { kafkaFeed: 'kafka', messageHubFeed: 'kafka', redisStream: 'redis-stream' };
const AUTH = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secretkey';

// Fake wsk. Environment: FAKE_WSK_LOG (file of JSON lines), FAKE_WSK_CAPTURE (dir for action files),
// FAKE_WSK_MODE: "" (succeed), "missing" (deletes answer "does not exist"), "fail" (every call fails).
const FAKE_WSK = `#!${process.execPath}
'use strict';
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_WSK_LOG, JSON.stringify(args) + '\\n');
const mode = process.env.FAKE_WSK_MODE || '';
if (mode === 'fail') {
  console.error('error: The connection failed, or timed out. (HTTP status code 500)');
  process.exit(1);
}
const i = args.indexOf('update');
if (args[i - 1] === 'action') {
  const rest = args.slice(i + 1).filter((a, k, all) => !a.startsWith('-') && !(all[k - 1] || '').startsWith('-'));
  const [name, file] = rest;
  fs.copyFileSync(file, path.join(process.env.FAKE_WSK_CAPTURE, name.replace(/\\//g, '__') + '.js'));
}
if (mode === 'missing' && args.includes('delete')) {
  console.error('error: Unable to delete: The requested resource does not exist. (code 1234)');
  process.exit(148);
}
console.log('ok: ' + args.filter((a) => !a.startsWith('-')).slice(-2).join(' '));
`;

let tmp;
let wsk;

function run(script, args, mode) {
  const log = path.join(tmp, `log-${Date.now()}-${Math.random().toString(16).slice(2)}.jsonl`);
  const capture = fs.mkdtempSync(path.join(tmp, 'capture-'));
  const res = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FAKE_WSK_LOG: log, FAKE_WSK_CAPTURE: capture, FAKE_WSK_MODE: mode || '' },
  });
  const calls = fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls, capture };
}

// Removes the global flags install.sh puts in front of every wsk call and checks them.
function command(call, { insecure = false } = {}) {
  assert.deepEqual(call.slice(0, 4), ['--apihost', 'https://ow.example.com', '--auth', AUTH]);
  const rest = call.slice(4);
  if (insecure) {
    assert.equal(rest[0], '--insecure');
    return rest.slice(1);
  }
  assert.notEqual(rest[0], '--insecure');
  return rest;
}

describe('install.sh and uninstall.sh with a fake wsk', () => {
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedrouter-install-test-'));
    wsk = path.join(tmp, 'fake-wsk');
    fs.writeFileSync(wsk, FAKE_WSK, { mode: 0o755 });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const base = () => ['--apihost', 'https://ow.example.com', '--auth', AUTH, '--wsk', wsk];

  test('install creates the package with providerUrl and one feed action per kind', () => {
    const r = run(INSTALL, [...base(), '--provider-url', 'https://feedrouter.example.com:8443', '-i']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.calls.length, 1 + KINDS.length);
    const pkg = command(r.calls[0], { insecure: true });
    assert.deepEqual(pkg.slice(0, 5), ['package', 'update', 'feedrouter', '-p', 'providerUrl']);
    assert.equal(pkg[5], 'https://feedrouter.example.com:8443');
    assert.ok(!pkg.includes('--shared'), 'not shared unless asked');
    KINDS.forEach((kind, k) => {
      const cmd = command(r.calls[1 + k], { insecure: true });
      assert.deepEqual(cmd.slice(0, 5), ['action', 'update', '--kind', 'nodejs:20', `feedrouter/${kind}`]);
      assert.match(cmd[5], new RegExp(`${kind}\\.js$`));
      assert.deepEqual(cmd.slice(6, 9), ['-a', 'feed', 'true']);
      assert.ok(fs.existsSync(path.join(r.capture, `feedrouter__${kind}.js`)), `${kind} file was passed to wsk`);
    });
  });

  test('each built action is self-contained, loads under node and exports a working main', async () => {
    const r = run(INSTALL, [...base(), '--provider-url', 'http://127.0.0.1:1']);
    assert.equal(r.status, 0, r.stderr);

    // A provider that echoes the feed kind it was asked about, to run the built mains end to end.
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => { text += c; });
      req.on('end', () => {
        const body = JSON.parse(text);
        res.writeHead(201, { 'Content-Type': 'application/json' });
        // The alarm feeds are one kind at the provider; interval and once say which by OpenWhisk's flags.
        const feed = body.isInterval ? 'interval' : body.fireOnce ? 'once' : body.feed;
        res.end(JSON.stringify({ config: { feed }, status: { state: 'active' } }));
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const providerUrl = `http://127.0.0.1:${server.address().port}`;
    try {
      for (const kind of KINDS) {
        const file = path.join(r.capture, `feedrouter__${kind}.js`);
        const code = fs.readFileSync(file, 'utf8');
        const requires = [...code.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
        for (const name of requires) {
          assert.ok(['http', 'https'].includes(name), `${kind}: requires only Node.js built-ins, found ${name}`);
        }

        const mod = require(file);
        assert.equal(typeof mod.main, 'function', `${kind}: exports.main`);
        assert.match((await mod.main({})).error, /lifecycleEvent/);
        const result = await mod.main({
          lifecycleEvent: 'CREATE', triggerName: '/guest/t1', authKey: AUTH, providerUrl,
        });
        assert.deepEqual(result, { config: { feed: FEED_OF[kind] || kind }, status: { state: 'active' } });

        // The way OpenWhisk's Node.js runtime loads a single-file action: the code in a function scope, then `main`.
        const load = new Function('require', 'exports', 'module', `${code}\nreturn main;`);
        const main = load(require, {}, { exports: {} });
        assert.equal(typeof main, 'function', `${kind}: defines main at top level`);
        assert.ok(main({}) instanceof Promise, `${kind}: main returns a Promise`);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('install honours --package, --runtime, --shared and --build-dir', () => {
    const buildDir = path.join(tmp, 'build');
    const r = run(INSTALL, [...base(), '--provider-url', 'http://p:9000', '--package', 'fr2', '--runtime', 'nodejs:22',
      '--shared', '--build-dir', buildDir]);
    assert.equal(r.status, 0, r.stderr);
    const pkg = command(r.calls[0]);
    assert.deepEqual(pkg.slice(0, 3), ['package', 'update', 'fr2']);
    assert.deepEqual(pkg.slice(-2), ['--shared', 'yes']);
    KINDS.forEach((kind, k) => {
      const cmd = command(r.calls[1 + k]);
      assert.deepEqual(cmd.slice(0, 6), ['action', 'update', '--kind', 'nodejs:22', `fr2/${kind}`,
        path.join(buildDir, `${kind}.js`)]);
      assert.ok(fs.existsSync(path.join(buildDir, `${kind}.js`)), 'build dir is kept');
    });
  });

  test('install usage errors are clear and call no wsk', () => {
    const cases = [
      [['--auth', AUTH, '--provider-url', 'http://p', '--wsk', wsk], /--apihost/],
      [['--apihost', 'h', '--provider-url', 'http://p', '--wsk', wsk], /--auth/],
      [['--apihost', 'h', '--auth', AUTH, '--wsk', wsk], /--provider-url/],
      [['--apihost', 'h', '--auth', AUTH, '--provider-url', 'ftp://p', '--wsk', wsk], /http:\/\/ or https:\/\//],
      [['--apihost', 'h', '--auth', 'nocolon', '--provider-url', 'http://p', '--wsk', wsk], /UUID:KEY/],
      [['--apihost', 'h', '--auth', AUTH, '--provider-url', 'http://p', '--wsk', wsk, '--bogus'],
        /unknown argument: --bogus/],
      [['--apihost', '--auth', AUTH], /--apihost needs a value/],
      [['--apihost', 'h', '--auth', AUTH, '--provider-url', 'http://p', '--wsk', path.join(tmp, 'no-such-wsk')],
        /wsk CLI not found/],
    ];
    for (const [args, message] of cases) {
      const r = run(INSTALL, args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /--help/);
      assert.equal(r.calls.length, 0);
    }
    const help = run(INSTALL, ['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: feeds\/install\.sh/);
  });

  test('install fails when wsk fails', () => {
    const r = run(INSTALL, [...base(), '--provider-url', 'http://p'], 'fail');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /package update feedrouter failed/);
    assert.equal(r.calls.length, 1, 'stops at the first failure');
  });

  test('uninstall deletes the actions, then the package', () => {
    const r = run(UNINSTALL, [...base(), '--package', 'fr2', '--insecure']);
    assert.equal(r.status, 0, r.stderr);
    const cmds = r.calls.map((c) => command(c, { insecure: true }));
    assert.deepEqual(cmds, [
      ...KINDS.map((kind) => ['action', 'delete', `fr2/${kind}`]),
      ['package', 'delete', 'fr2'],
    ]);
  });

  test('uninstall treats what is already gone as removed', () => {
    const r = run(UNINSTALL, base(), 'missing');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.calls.length, KINDS.length + 1);
    assert.match(r.stdout, /already gone/);
  });

  test('uninstall reports other failures with a non-zero exit', () => {
    const r = run(UNINSTALL, base(), 'fail');
    assert.equal(r.status, 1);
    assert.equal(r.calls.length, KINDS.length + 1, 'tries every deletion');
    assert.match(r.stderr, new RegExp(`${KINDS.length + 1} deletion\\(s\\) failed`));
  });

  test('uninstall usage errors', () => {
    const r = run(UNINSTALL, ['--auth', AUTH, '--wsk', wsk]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing --apihost/);
    assert.equal(r.calls.length, 0);
  });
});
