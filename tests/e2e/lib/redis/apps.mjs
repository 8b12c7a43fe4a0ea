// php -S servers with realtime.broker=redis for the redis broker tests, plus
// the outside parties they talk to: a webhook receiver that counts events,
// and TCP servers that are not Redis (one answers garbage, one never answers).
//
// Each test file loads a private copy of realtime.so (privateExtension()), so
// a rebuild of modules/realtime.so while the tests run cannot crash them.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXTENSION, PHP_BIN, connect, freePort, httpRequest, startServer, waitFor } from '../server.mjs';

export const REDIS_LIB = path.dirname(fileURLToPath(import.meta.url));
export const DOCROOT = path.join(REDIS_LIB, 'docroot');
/** realtime.secret of every app in these tests: servers of one app must share it. */
export const SECRET = 'redis-e2e-secret-6f1d0c';

const copies = [];
process.on('exit', () => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Copies modules/realtime.so into a temp dir and checks that PHP loads it
 * (a copy caught while the original is being rebuilt fails and is retried).
 */
export async function privateExtension() {
  if (!fs.existsSync(EXTENSION)) {
    throw new Error(`extension not found at ${EXTENSION}: run "bash scripts/build.sh" first (or set REALTIME_EXTENSION)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-redis-'));
  copies.push(dir);
  const copy = path.join(dir, 'realtime.so');
  let lastError;
  await waitFor(
    () => {
      try {
        fs.copyFileSync(EXTENSION, copy);
        const out = execFileSync(PHP_BIN, ['-n', '-d', `extension=${copy}`, '-r', 'echo extension_loaded("realtime") ? "ok" : "no";'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 10000,
        });
        if (out.trim() === 'ok') return true;
        lastError = new Error(out);
      } catch (err) {
        lastError = err;
      }
      return false;
    },
    30000,
    { interval: 500, message: `a loadable copy of ${EXTENSION}` },
  ).catch((err) => {
    throw new Error(`${err.message}${lastError ? `: ${lastError.message}` : ''}`);
  });
  return copy;
}

/** realtime.* settings that point an app at `redis` (an object from startRedis() or { address, password }). */
export function redisIni(redis, extra = {}) {
  const ini = {
    'realtime.broker': 'redis',
    'realtime.redis_address': redis.address,
    'realtime.secret': SECRET,
  };
  if (redis.password) ini['realtime.redis_password'] = redis.password;
  return { ...ini, ...extra };
}

/** Resident set size of a process in kB (from /proc), or null when it is gone. */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Starts php -S with the redis broker on `redis`, serving lib/redis/docroot.
 * options: extension (path of the private copy), ini (more settings, which
 * win), name (for messages), warmup/waitHub (see startServer).
 * The server gets:
 *   api(op, args)        POST /api.php, resolves with its JSON answer
 *   call(op, args)       api() that throws unless ok, resolves with result
 *   token(user, info)    a token for presence-* and private-* channels
 *   connectUser(user, { info, ...connectOptions })
 *   connectAnon(opts)    an anonymous client
 *   node                 the hub's node id (prefix of its connection ids)
 *   rss()                resident set size in kB
 */
export async function startApp(redis, { extension, ini = {}, name = 'app', warmup, waitHub } = {}) {
  const server = await startServer({
    docroot: DOCROOT,
    extension: extension || true,
    ini: redisIni(redis, ini),
    ...(warmup !== undefined ? { warmup } : {}),
    ...(waitHub !== undefined ? { waitHub } : {}),
  });
  server.name = name;
  server.api = async (op, args = {}, { timeout = 15000 } = {}) => {
    const body = JSON.stringify({ op, ...args });
    const res = await httpRequest(server.httpPort, '/api.php', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      body,
      timeout,
    });
    if (res.status !== 200 || !res.json) throw new Error(`${name} api ${op}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    return res.json;
  };
  server.call = async (op, args) => {
    const answer = await server.api(op, args);
    if (!answer.ok) throw new Error(`${name} ${op}(${JSON.stringify(args)}) failed: ${answer.class}: ${answer.error}`);
    return answer.result;
  };
  server.token = (user, info) => server.call('token', info === undefined ? { user } : { user, info });
  server.connectUser = async (user, { info, ...opts } = {}) => {
    const token = await server.token(user, info);
    const c = await connect(`${server.wsUrl}?token=${encodeURIComponent(token)}`, opts);
    c.server = name;
    return c;
  };
  server.connectAnon = async (opts) => {
    const c = await connect(server.wsUrl, opts);
    c.server = name;
    return c;
  };
  server.rss = () => rssKb(server.pid);
  if (warmup !== false) {
    const status = await server.call('status');
    server.node = String(status.node_id);
  }
  return server;
}

// ---------------------------------------------------------------------------
// Webhook receiver
// ---------------------------------------------------------------------------

/**
 * An HTTP server that answers 200 to every POST and records each event of
 * each batch as { name, channel, user_id, at, signature }.
 */
export async function webhookReceiver() {
  const events = [];
  const batches = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = { events: [] };
      }
      batches.push({ headers: req.headers, body });
      for (const e of body.events || []) events.push({ ...e, at: Date.now(), signature: req.headers['x-pusher-signature'] });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  const port = await freePort();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    events,
    batches,
    /** Events matching name, channel and (optionally) user. */
    matching(name, channel, user) {
      return events.filter((e) => e.name === name && e.channel === channel && (user === undefined || e.user_id === user));
    },
    close() {
      srv.closeAllConnections?.();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------
// Servers that are not Redis
// ---------------------------------------------------------------------------

/**
 * A TCP server on a free port. mode 'garbage': answers every chunk it gets
 * with an HTTP error (not RESP) and keeps the connection open; mode 'silent':
 * accepts and never answers. `accepted` counts connections.
 */
export async function fakeRedis(mode) {
  const sockets = new Set();
  const info = { accepted: 0 };
  const srv = net.createServer((sock) => {
    info.accepted++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (mode === 'garbage') {
      sock.on('data', () => sock.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    }
  });
  const port = await freePort();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', resolve);
  });
  return Object.assign(info, {
    port,
    address: `127.0.0.1:${port}`,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  });
}

/** A loopback port nothing listens on (connections are refused). */
export async function closedPort() {
  return freePort();
}
