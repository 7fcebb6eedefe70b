'use strict';
// Shared code of the feedrouter feed actions (alarm, interval, once, webhook, poll, changes).
//
// OpenWhisk invokes a feed action with lifecycleEvent, triggerName, authKey, the feed's own parameters and the
// package parameter providerUrl. The action forwards them to the feedrouter provider:
//
//   POST {providerUrl}/v1/lifecycle
//   Authorization: Basic base64(authKey)
//   {"lifecycleEvent": ..., "triggerName": ..., "authKey": ..., "feed": KIND, ...feed params}
//
// and resolves with the provider's answer, or with {error: "..."} so that the wsk CLI shows the message.
// Only Node.js built-ins are used: install.sh inlines this file into each single-file action.

const http = require('http');
const https = require('https');

const LIFECYCLE_EVENTS = ['CREATE', 'READ', 'UPDATE', 'DELETE', 'PAUSE', 'UNPAUSE'];

// Events whose request carries the feed's parameters; the others only name the registration.
const EVENTS_WITH_PARAMS = ['CREATE', 'UPDATE'];

const DEFAULT_TIMEOUT_MS = 30000;

// OpenWhisk's three alarm feeds, as OpenWhisk installs them (its installCatalog.sh): one provider kind, "alarm", whose
// `interval` and `once` actions bind the flag that picks their parameters (isInterval, fireOnce). Every action of
// the alarms package also binds trigger_payload "", so an alarm without one fires {"payload": ""} there; these add it
// on CREATE for the same fires.
const ALARM_FEEDS = {
  alarm: { action: 'alarm', createDefaults: { trigger_payload: '' } },
  interval: { action: 'interval', fixed: { isInterval: true }, createDefaults: { trigger_payload: '' } },
  once: { action: 'once', fixed: { fireOnce: true }, createDefaults: { trigger_payload: '' } },
};

// Waits before asking again after a 503: the provider answers 503 while it starts (loading its registrations) and
// when it is briefly overloaded. Every lifecycle event may be repeated (CREATE replaces, the others are idempotent).
// The waits stop early once the next one would pass the request deadline. A 429 is not asked again: the lifecycle
// routes answer it for a namespace at its quota, which only a DELETE makes pass, so wsk is told at once.
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000];

// Largest answer read from the provider; a registration is a few KB.
const MAX_ANSWER_BYTES = 1024 * 1024;

// Parameters that name the call rather than configure the feed; never forwarded as feed parameters.
const RESERVED_PARAMS = ['lifecycleEvent', 'triggerName', 'authKey', 'providerUrl', 'feed'];

function fail(message) {
  return { error: message };
}

function isNonEmptyString(value) {
  return typeof value === 'string' && value.trim() !== '';
}

// Returns the feed's own parameters: everything but the reserved ones and OpenWhisk-internal keys ("__ow_*", ...).
function feedParams(params) {
  const out = {};
  for (const key of Object.keys(params)) {
    if (RESERVED_PARAMS.includes(key) || key.startsWith('__')) continue;
    out[key] = params[key];
  }
  return out;
}

// Checks the parameters every lifecycle event needs; returns an error message or null.
function checkParams(params) {
  for (const name of ['lifecycleEvent', 'triggerName', 'authKey', 'providerUrl']) {
    if (!isNonEmptyString(params[name])) {
      return params[name] === undefined || params[name] === null || params[name] === ''
        ? `missing parameter ${name}`
        : `parameter ${name} must be a non-empty string`;
    }
  }
  const event = params.lifecycleEvent.trim().toUpperCase();
  if (!LIFECYCLE_EVENTS.includes(event)) {
    return `parameter lifecycleEvent: unknown event "${params.lifecycleEvent}"` +
      ` (expected one of ${LIFECYCLE_EVENTS.join(', ')})`;
  }
  return null;
}

// Parses providerUrl and returns the lifecycle endpoint URL, or throws with a message naming the parameter.
function lifecycleUrl(providerUrl) {
  let url;
  try {
    url = new URL(providerUrl.trim());
  } catch (e) {
    throw new Error(`parameter providerUrl: "${providerUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`parameter providerUrl: "${providerUrl}" must be an http:// or https:// URL`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '') + '/v1/lifecycle';
  url.search = '';
  url.hash = '';
  return url;
}

// Turns a non-2xx answer into the message shown to the user: the provider's "error", prefixed with its "field".
function errorMessage(statusCode, statusMessage, text) {
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (e) {
    body = null;
  }
  if (body && typeof body === 'object' && typeof body.error === 'string' && body.error !== '') {
    const field = typeof body.field === 'string' ? body.field : '';
    if (field && !body.error.startsWith(`${field}:`)) return `${field}: ${body.error}`;
    return body.error;
  }
  const snippet = (text || '').trim().slice(0, 200);
  return `feedrouter provider answered HTTP ${statusCode}${statusMessage ? ' ' + statusMessage : ''}` +
    (snippet ? `: ${snippet}` : '');
}

// Sends one request; resolves with {statusCode, statusMessage, text} or rejects with an Error (network, timeout).
function send(url, headers, payload, timeoutMs) {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };
    const req = client.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(resolve, {
        statusCode: res.statusCode,
        statusMessage: res.statusMessage,
        text: Buffer.concat(chunks).toString('utf8'),
      }));
      res.on('error', (err) => finish(reject, err));
      res.on('aborted', () => finish(reject, new Error('connection closed before the answer was complete')));
    });
    // One deadline for the whole exchange (connect, send, answer).
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => finish(reject, err));
    req.end(payload);
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Sends the request, and again after each of `delaysMs` while the provider answers 503 and `deadline` (a Date.now()
// value) leaves room for the wait.
async function sendRetrying(url, headers, payload, timeoutMs, delaysMs, deadline) {
  let answer = await send(url, headers, payload, timeoutMs);
  for (const delay of delaysMs) {
    if (answer.statusCode !== 503 || Date.now() + delay >= deadline) break;
    await sleep(delay);
    answer = await send(url, headers, payload, Math.max(1, deadline - Date.now()));
  }
  return answer;
}

// Runs one lifecycle event of feed `kind`. Always resolves: with the provider's answer, or with {error}.
// options.timeoutMs overrides the deadline of the whole call (default 30 s); options.retryDelaysMs the waits between
// attempts answered 503. options.fixed are parameters every CREATE and UPDATE carries whatever the caller gave,
// options.createDefaults parameters a CREATE carries unless the caller gave them, and options.action names the action
// in the User-Agent (default: kind); ALARM_FEEDS holds those of the alarm feeds.
async function lifecycle(kind, params, options) {
  params = params && typeof params === 'object' ? params : {};
  const timeoutMs = (options && options.timeoutMs) || DEFAULT_TIMEOUT_MS;
  const retryDelaysMs = (options && options.retryDelaysMs) || RETRY_DELAYS_MS;
  const deadline = Date.now() + timeoutMs;

  const problem = checkParams(params);
  if (problem) return fail(problem);

  let url;
  try {
    url = lifecycleUrl(params.providerUrl);
  } catch (e) {
    return fail(e.message);
  }

  const event = params.lifecycleEvent.trim().toUpperCase();
  const body = {};
  if (event === 'CREATE') Object.assign(body, (options && options.createDefaults) || {});
  if (EVENTS_WITH_PARAMS.includes(event)) {
    Object.assign(body, feedParams(params), (options && options.fixed) || {});
  }
  Object.assign(body, {
    lifecycleEvent: event,
    triggerName: params.triggerName,
    authKey: params.authKey,
    feed: kind,
  });
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const headers = {
    'Authorization': 'Basic ' + Buffer.from(params.authKey, 'utf8').toString('base64'),
    'Content-Type': 'application/json',
    'Content-Length': payload.length,
    'Accept': 'application/json',
    'User-Agent': `feedrouter-feed-action/${(options && options.action) || kind}`,
  };

  const base = params.providerUrl.trim().replace(/\/+$/, '');
  let answer;
  try {
    answer = await sendRetrying(url, headers, payload, timeoutMs, retryDelaysMs, deadline);
  } catch (e) {
    return fail(`feedrouter provider unreachable at ${base}: ${e.message || e.code || String(e)}`);
  }

  const { statusCode, statusMessage, text } = answer;
  if (statusCode >= 200 && statusCode < 300) {
    if (!text || text.trim() === '') return {};
    try {
      const result = JSON.parse(text);
      if (result && typeof result === 'object' && !Array.isArray(result)) return result;
      return { result };
    } catch (e) {
      return fail(`feedrouter provider sent an answer that is not JSON (HTTP ${statusCode}): ` +
        text.trim().slice(0, 200));
    }
  }
  // Deleting what is not there succeeds, as OpenWhisk's own feed providers do: the trigger goes away either way.
  if (event === 'DELETE' && statusCode === 404) return {};
  return fail(errorMessage(statusCode, statusMessage, text));
}

// Returns the main(params) of the feed action of `kind`.
function makeMain(kind, options) {
  return function main(params) {
    return lifecycle(kind, params, options);
  };
}

module.exports = { lifecycle, makeMain, feedParams, LIFECYCLE_EVENTS, DEFAULT_TIMEOUT_MS, ALARM_FEEDS };
