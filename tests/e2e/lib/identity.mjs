// Helpers for the tests of "who is connected" (auth, presence, api,
// clientevents, webhooks): the test app's login page, token page and API
// page (tests/e2e/app/), tokens made in Node, and handshakes whose HTTP
// answer (status and body) a test wants to see.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, httpRequest } from './server.mjs';

/** A fresh directory for PHP session files (session.save_path). */
export function sessionDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rt-e2e-sessions-'));
}

/** POSTs urlencoded fields to `server` (a startServer() result). */
export function postForm(server, reqPath, fields) {
  const body = new URLSearchParams(fields).toString();
  return server.http(reqPath, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
    body,
  });
}

/** POSTs a JSON body to `server`. */
export function postJson(server, reqPath, value, opts = {}) {
  const body = JSON.stringify(value);
  return server.http(reqPath, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    body,
    ...opts,
  });
}

/**
 * Logs in through app/auth/login.php. `fields`: name, and optionally id
 * (string; "int:42" for an integer), info and channels (JSON-encoded here).
 * Resolves with { cookie: "PHPSESSID=...", user }.
 */
export async function login(server, { name, id, info, channels } = {}) {
  const fields = { name };
  if (id !== undefined) fields.id = id;
  if (info !== undefined) fields.info = JSON.stringify(info);
  if (channels !== undefined) fields.channels = JSON.stringify(channels);
  const res = await postForm(server, '/auth/login.php', fields);
  if (res.status !== 200 || !res.json?.ok) throw new Error(`login failed: HTTP ${res.status} ${res.body}`);
  const setCookie = [].concat(res.headers['set-cookie'] || []);
  const cookie = setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('PHPSESSID='));
  if (!cookie) throw new Error(`login set no session cookie: ${JSON.stringify(res.headers)}`);
  return { cookie, user: res.json.user };
}

/** Realtime\token() through app/token.php: { status, json } (json.token on success). */
export function tokenRequest(server, user, options) {
  const request = { user };
  if (options !== undefined) request.options = options;
  return postJson(server, '/token.php', request);
}

/** Realtime\token($user, $options) through app/token.php; throws unless it worked. */
export async function issueToken(server, user, options) {
  const res = await tokenRequest(server, user, options);
  if (res.status !== 200 || !res.json?.ok) throw new Error(`token.php: HTTP ${res.status} ${res.body}`);
  return res.json.token;
}

/** Calls Realtime\<fn>(...args) through app/api.php: { status, json }. */
export function api(server, fn, ...args) {
  return postJson(server, '/api.php', { fn, args });
}

/** Realtime\<fn>(...args) through app/api.php; resolves with the result, throws on an error. */
export async function call(server, fn, ...args) {
  const res = await api(server, fn, ...args);
  if (res.status !== 200 || !res.json?.ok) throw new Error(`${fn}(): HTTP ${res.status} ${res.body}`);
  return res.json.result;
}

/** `ws://.../ws?token=...` */
export function tokenUrl(server, token) {
  return `${server.wsUrl}?token=${encodeURIComponent(token)}`;
}

/** Opens a client authenticated by `token` (see connect() for opts). */
export function connectWithToken(server, token, opts) {
  return connect(tokenUrl(server, token), opts);
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/**
 * A token made in Node the way Realtime\token() makes them:
 * base64url(JSON payload) "." base64url(HMAC-SHA256(secret, first part)).
 * `payload` is used as given (uid, exp, info, channels), so tests can make
 * expired, forged and odd tokens.
 */
export function makeToken(secret, payload) {
  const body = b64url(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const mac = crypto.createHmac('sha256', secret).update(body).digest();
  return `${body}.${b64url(mac)}`;
}

/** Decodes the payload of a token (no check). */
export function tokenPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/**
 * Sends a WebSocket upgrade to the hub and resolves with its answer:
 * { status, body, headers, upgraded } (status 101 and upgraded: true when
 * it was accepted; the socket is closed at once).
 */
export function upgrade(server, { query = '', headers = {}, timeout = 5000 } = {}) {
  return httpRequest(server.wsPort, `/ws${query}`, {
    headers: {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
      'Sec-WebSocket-Version': '13',
      ...headers,
    },
    timeout,
  }).then((res) => (res.upgraded ? { ...res, status: 101 } : res));
}

/** HMAC-SHA256 hex of `body` with `secret` (webhook signatures). */
export function hmacHex(secret, body) {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

/** Odd but valid user ids: unicode, quotes, spaces, backslashes, JSON-looking text. */
export const ODD_USER_IDS = [
  'Zoë "Z" O\'Brien',
  'snow man ☃ 😀',
  'back\\slash / slash',
  '{"not":"json"}',
  '  leading and trailing spaces  ',
  'ü'.repeat(64), // 128 bytes, the maximum
];
