'use strict';
// A stand-in for IBM Cloud IAM and an IAM-protected Cloudant, for the tests of the changes feed's `iamApiKey`:
//
//   POST /identity/token   form grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=KEY (as IBM's token service
//                          takes it) -> 200 {access_token, refresh_token, token_type: "Bearer", expires_in, expiration,
//                          scope}; a short lifetime (ttlSeconds) so that tests see tokens expire. Another key -> 400
//                          {errorCode, errorMessage}, as IBM answers.
//   GET  /_fake/stats      -> {tokens, accepted, rejected, cut}: tokens issued, database requests let through and
//                          refused (401), streams cut at their token's expiry.
//   anything else          -> the database: with a valid, unexpired `Authorization: Bearer <token>` proxied to
//                          `target` (a pouchdb-server) with the target's own Basic credentials instead; else 401. A
//                          response still streaming when its token expires is cut, as a strict server would, so a
//                          continuous _changes feed must come back with a new token.
//
// pouchdb-server and CouchDB know nothing of IAM: this proxy is the part of Cloudant that checks tokens. Used in
// process by feeds/test (require it), or as a process: node tests/support/fake_iam.js --target URL
// --target-auth user:pass --api-key KEY [--ttl-seconds N], which prints "listening on http://127.0.0.1:PORT".
// Listens on 127.0.0.1 and a free port only.

const crypto = require('node:crypto');
const http = require('node:http');

const GRANT_TYPE = 'urn:ibm:params:oauth:grant-type:apikey';

// Largest token request read; IBM's is a few hundred bytes.
const MAX_FORM_BYTES = 16 * 1024;

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// Starts the stand-in; resolves with {url, stats(), stop()}.
// options: target (the database server's URL), targetAuth ("user:pass" the proxy sends it), apiKey (the one key the
// token service accepts), ttlSeconds (token lifetime, default 3).
function start({ target, targetAuth, apiKey, ttlSeconds = 3 }) {
  const tokens = new Map(); // token -> expiry (Date.now() ms)
  const stats = { tokens: 0, accepted: 0, rejected: 0, cut: 0 };
  const targetUrl = new URL(target);
  const targetAuthorization = targetAuth ? `Basic ${Buffer.from(targetAuth).toString('base64')}` : null;

  function issueToken(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('grant_type') !== GRANT_TYPE || form.get('apikey') !== apiKey) {
        json(res, 400, { errorCode: 'BXNIM0415E', errorMessage: 'Provided API key could not be found.' });
        return;
      }
      const token = crypto.randomBytes(24).toString('hex');
      const now = Date.now();
      tokens.set(token, now + ttlSeconds * 1000);
      stats.tokens += 1;
      json(res, 200, {
        access_token: token,
        refresh_token: 'not-used',
        token_type: 'Bearer',
        expires_in: ttlSeconds,
        expiration: Math.floor(now / 1000) + ttlSeconds,
        scope: 'ibm openid',
      });
    });
  }

  // Returns the expiry of the request's bearer token, or null when it has none that is valid now.
  function tokenExpiry(req) {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    const expiry = match ? tokens.get(match[1]) : undefined;
    return expiry !== undefined && expiry > Date.now() ? expiry : null;
  }

  function proxy(req, res) {
    const expiry = tokenExpiry(req);
    if (expiry === null) {
      stats.rejected += 1;
      req.resume();
      json(res, 401, { error: 'unauthorized', reason: 'invalid or expired IAM token' });
      return;
    }
    stats.accepted += 1;
    const headers = { ...req.headers, host: targetUrl.host };
    delete headers.authorization;
    if (targetAuthorization) headers.authorization = targetAuthorization;
    const upstream = http.request({
      hostname: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers,
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
      // The token runs out while the answer streams: cut it, as a server that checks tokens would.
      const cut = setTimeout(() => {
        if (!res.writableEnded) {
          stats.cut += 1;
          upstream.destroy();
          res.destroy();
        }
      }, Math.max(0, expiry - Date.now()));
      res.on('close', () => clearTimeout(cut));
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url.split('?')[0] === '/identity/token') return issueToken(req, res);
    if (req.method === 'GET' && req.url === '/_fake/stats') return json(res, 200, stats);
    return proxy(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        port: server.address().port,
        stats: () => ({ ...stats }),
        stop: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

module.exports = { start, GRANT_TYPE };

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const target = option('--target');
  const apiKey = option('--api-key');
  if (!target || !apiKey) {
    console.error('usage: fake_iam.js --target URL --api-key KEY [--target-auth user:pass] [--ttl-seconds N]');
    process.exit(2);
  }
  start({ target, apiKey, targetAuth: option('--target-auth'), ttlSeconds: Number(option('--ttl-seconds') || 3) })
    .then((iam) => console.log(`listening on ${iam.url}`));
}
