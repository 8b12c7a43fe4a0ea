// Test harness for the realtime extension's end-to-end tests.
//
// startServer() runs `php -n -d extension=realtime.so -S ...` on free ports,
// waits until the HTTP side answers, makes the first PHP request (the hub
// starts lazily on it), then waits until the hub's /health answers 200.
// Every wait has a deadline; nothing sleeps blindly.
//
// connect() opens a `ws` client that records every message and lets a test
// `await client.next(predicate)`; rawWebSocket() does the handshake by hand
// over a TCP socket so tests can send frames the `ws` library refuses to
// produce (unmasked, bad opcodes, fragments) and read frames as they arrive.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const REPO_ROOT = path.resolve(HERE, '../../..');
export const APP_DIR = path.resolve(HERE, '../app');
export const EXTENSION =
  process.env.REALTIME_EXTENSION || path.join(REPO_ROOT, 'modules', 'realtime.so');
export const PHP_BIN = process.env.PHP_BIN || 'php';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/**
 * Headers that sign a POST /publish body with realtime.secret, as a PHP
 * process without a hub does: X-Realtime-Signature = hex(HMAC-SHA256(secret,
 * timestamp "." body)). `ts` (unix seconds) defaults to now.
 */
export function publishSignature(secret, body, ts = Math.floor(Date.now() / 1000)) {
  const signature = crypto.createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
  return { 'X-Realtime-Timestamp': String(ts), 'X-Realtime-Signature': signature };
}

// realtime.metrics_key of every test server: health() asks for /health's detail with it.
export const METRICS_KEY = 'e2e-metrics-key-3b9f1c27';
const MAX_LOG = 256 * 1024;

// ---------------------------------------------------------------------------
// Generic helpers
// ---------------------------------------------------------------------------

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `predicate` (sync or async) until it returns a truthy value, which is
 * returned. Exceptions thrown by the predicate count as "not yet". Throws once
 * `ms` milliseconds have passed; the last exception, if any, is included.
 */
export async function waitFor(predicate, ms = 5000, { interval = 20, message } = {}) {
  const deadline = Date.now() + ms;
  let lastError;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = message || `condition ${predicate.toString().slice(0, 120)}`;
      const why = lastError ? ` (last error: ${lastError.message || lastError})` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${what}${why}`);
    }
    await delay(Math.min(interval, Math.max(1, deadline - Date.now())));
  }
}

/** Rejects with `message` if `promise` has not settled within `ms`. */
export function withTimeout(promise, ms, message = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${message}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  const [port] = await freePorts(1);
  return port;
}

/** `n` distinct free ports (all listeners are held open until every port is known). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
  }
}

/**
 * One HTTP request with node's client (no keep-alive). Resolves with
 * { status, headers, body, json } where json is the parsed body or undefined.
 */
export function httpRequest(port, reqPath, { method = 'GET', headers = {}, body, timeout = 5000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path: reqPath, method, headers, agent: false, timeout },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json });
        });
        res.on('error', reject);
      },
    );
    // A 101 answer (when a test sends a valid upgrade request) ends up here.
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, body: '', json: undefined, upgraded: true });
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP ${method} ${reqPath} timed out after ${timeout} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Writes `data` verbatim to a fresh TCP connection and collects the answer
 * until the peer closes the connection or `timeout` ms pass. Resolves with
 * { raw, status, headers, closed } (status is null when nothing parseable came back).
 */
export function rawRequest(port, data, { timeout = 5000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const chunks = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ raw, closed, ...parseHead(raw) });
    };
    const timer = setTimeout(() => finish(false), timeout);
    sock.on('connect', () => sock.write(data));
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (err) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return finish(true);
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

function parseHead(raw) {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] || '');
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: m ? Number(m[1]) : null, headers, body: end >= 0 ? raw.slice(end + 4) : '' };
}

// ---------------------------------------------------------------------------
// The php -S server
// ---------------------------------------------------------------------------

const running = new Set();
process.on('exit', () => {
  // Last resort if a test file forgot its after() hook or crashed.
  for (const server of running) server.killNow();
});

/**
 * Starts php -S with the extension.
 *
 * options:
 *   ini       { 'realtime.max_message_size': 1024, ... } extra -d settings
 *             (keys without a dot get the "realtime." prefix; a function
 *             value is called with { httpPort, wsPort } and gives the value)
 *   docroot   defaults to tests/e2e/app
 *   warmup    path of the first PHP request ('/index.php'); false to skip it
 *             and the /health wait (the hub then is not started)
 *   waitHub   false to skip waiting for /health after the warm-up request
 *             (for servers whose hub is not supposed to start)
 *   timeout   deadline for each readiness step in ms (10000)
 *   extension false for a plain php -S without the extension (no hub, no
 *             realtime.* defaults; `ini` keys are then used as given, and
 *             the /health wait is skipped), e.g. a separate app server;
 *             a string: the path of the realtime.so to load (a private
 *             copy) instead of EXTENSION
 */
export async function startServer({ ini = {}, docroot = APP_DIR, warmup = '/index.php', waitHub = true, timeout = 10000, env = {}, extension = true } = {}) {
  const extensionPath = typeof extension === 'string' ? extension : EXTENSION;
  if (extension && !fs.existsSync(extensionPath)) {
    throw new Error(`extension not found at ${extensionPath}: run "bash scripts/build.sh" first (or set REALTIME_EXTENSION)`);
  }
  if (!extension) waitHub = false;
  const [httpPort, wsPort] = await freePorts(2);
  const settings = extension
    ? {
        'realtime.listen': `127.0.0.1:${wsPort}`,
        // These tests speak the anonymous native protocol. Builds that require
        // authentication by default accept anonymous clients with this; builds
        // without the setting ignore it.
        'realtime.allow_anonymous': 1,
        'realtime.metrics_key': METRICS_KEY,
      }
    : {};
  for (const [key, value] of Object.entries(ini)) {
    // A function value is called with the ports, for settings that point
    // back at this server (an auth endpoint, a webhook URL).
    settings[key.includes('.') || !extension ? key : `realtime.${key}`] =
      typeof value === 'function' ? value({ httpPort, wsPort }) : value;
  }
  const args = extension ? ['-n', '-d', `extension=${extensionPath}`] : ['-n'];
  for (const [key, value] of Object.entries(settings)) args.push('-d', `${key}=${value}`);
  args.push('-S', `127.0.0.1:${httpPort}`, '-t', docroot);

  const childEnv = { ...process.env, ...env };
  // Several php -S workers would each start a hub on the same port.
  delete childEnv.PHP_CLI_SERVER_WORKERS;

  const proc = spawn(PHP_BIN, args, {
    cwd: docroot,
    env: childEnv,
    detached: true, // own process group, so stop() can kill php and anything it spawned
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let log = '';
  const append = (chunk) => {
    log += chunk.toString('utf8');
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(server);
      resolve(exitInfo);
    });
  });
  const spawnError = new Promise((_, reject) => proc.on('error', reject));
  spawnError.catch(() => {});

  const server = {
    proc,
    pid: proc.pid,
    httpPort,
    wsPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    wsUrl: `ws://127.0.0.1:${wsPort}/ws`,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    get log() {
      return log;
    },
    args,

    /** HTTP request to php -S. */
    http(reqPath, opts) {
      return httpRequest(httpPort, reqPath, opts);
    },
    /** HTTP request to the hub port. */
    hub(reqPath, opts) {
      return httpRequest(wsPort, reqPath, opts);
    },
    async health() {
      const res = await httpRequest(wsPort, '/health', { timeout: 2000, headers: { authorization: `Bearer ${METRICS_KEY}` } });
      if (res.status !== 200) throw new Error(`/health answered ${res.status}: ${res.body}`);
      return res.json;
    },
    async status() {
      const res = await httpRequest(httpPort, '/status.php');
      if (res.status !== 200) throw new Error(`/status.php answered ${res.status}: ${res.body}`);
      return res.json;
    },

    /**
     * Calls app/publish.php. `message` that is not a string is sent as JSON
     * with json=1. Resolves with { status, json }; throws on a non-200 answer
     * unless `allowError` is set.
     */
    async publish(channel, message, { event, count, seq, allowError = false, rawBody } = {}) {
      let body = rawBody;
      if (body === undefined) {
        const form = new URLSearchParams();
        form.set('channel', channel);
        if (typeof message === 'string') {
          form.set('message', message);
        } else {
          form.set('message', JSON.stringify(message));
          form.set('json', '1');
        }
        if (event !== undefined && event !== null) form.set('event', event);
        if (count !== undefined) form.set('count', String(count));
        if (seq) form.set('seq', '1');
        body = form.toString();
      }
      const res = await httpRequest(httpPort, '/publish.php', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
        },
        body,
        timeout: 15000,
      });
      if (!allowError && (res.status !== 200 || !res.json || res.json.ok !== true)) {
        throw new Error(`publish to ${channel} failed: HTTP ${res.status} ${res.body}`);
      }
      return res;
    },

    /** Sends a signal to the php process only (not its group). */
    signal(sig) {
      if (exitInfo) return false;
      try {
        process.kill(proc.pid, sig);
        return true;
      } catch {
        return false;
      }
    },

    killNow() {
      if (exitInfo) return;
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        try {
          proc.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    },

    /** Kills the whole process group and waits for the exit (deadline 5 s). */
    async stop() {
      if (!exitInfo) {
        server.killNow();
        await withTimeout(exited, 5000, `php -S (pid ${proc.pid}) to exit after SIGKILL`);
      }
      proc.stdout.destroy();
      proc.stderr.destroy();
      // The pool's named segment outlives php -S by design (broker/segment.c).
      for (const n of fs.readdirSync('/dev/shm').filter((x) => x.startsWith(`realtime.${wsPort}.`))) {
        fs.rmSync(path.join('/dev/shm', n), { force: true });
      }
    },
  };
  running.add(server);

  const describeFailure = (what, err) =>
    new Error(
      `${what}: ${err.message}\ncommand: ${PHP_BIN} ${args.join(' ')}\n` +
        (exitInfo ? `php exited: ${JSON.stringify(exitInfo)}\n` : '') +
        `php output:\n${log || '(none)'}`,
    );

  const notExited = () => {
    if (exitInfo) throw Object.assign(new Error(`php exited early: ${JSON.stringify(exitInfo)}`), { fatal: true });
  };

  try {
    // 1. The HTTP port answers (a static file: no PHP runs for it).
    await Promise.race([
      spawnError,
      waitFor(
        async () => {
          notExited();
          try {
            const res = await httpRequest(httpPort, '/ready.txt', { timeout: 1000 });
            return res.status > 0;
          } catch (err) {
            if (err.fatal) throw err;
            return false;
          }
        },
        timeout,
        { message: `php -S on port ${httpPort}` },
      ),
    ]);
    notExited();

    if (warmup !== false) {
      // 2. The first PHP request starts the hub.
      const res = await httpRequest(httpPort, warmup, { timeout });
      if (res.status !== 200) throw new Error(`warm-up request ${warmup} answered ${res.status}: ${res.body}`);

      // 3. The hub answers /health.
      if (waitHub) await waitFor(
        async () => {
          notExited();
          return (await httpRequest(wsPort, '/health', { timeout: 1000 })).status === 200;
        },
        timeout,
        { message: `GET /health on hub port ${wsPort}` },
      );
    }
  } catch (err) {
    const wrapped = describeFailure('php -S did not become ready', err);
    await server.stop().catch(() => {});
    throw wrapped;
  }
  return server;
}

// ---------------------------------------------------------------------------
// WebSocket client (ws) that records messages
// ---------------------------------------------------------------------------

let requestCounter = 0;

/**
 * Opens a WebSocket and resolves once the server's `connected` message has
 * arrived (consumed; kept as client.hello). Options:
 *   origin, headers       sent with the handshake
 *   autoPong              false to leave server pings unanswered
 *   perMessageDeflate     true to offer compression (off by default)
 *   waitConnected         false to resolve on 'open' without waiting for `connected`
 *   timeout               deadline for opening (5000 ms)
 */
export async function connect(url, { origin, headers, autoPong = true, waitConnected = true, timeout = 5000, perMessageDeflate = false } = {}) {
  const ws = new WebSocket(url, { origin, headers, autoPong, handshakeTimeout: timeout, perMessageDeflate });
  const client = new Client(ws);
  await withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (req, res) => {
        reject(new Error(`handshake answered HTTP ${res.statusCode}`));
        req.destroy();
      });
    }),
    timeout,
    `WebSocket open ${url}`,
  );
  if (waitConnected) {
    client.hello = await client.next((m) => m.type === 'connected', timeout);
    client.connectionId = client.hello.connection_id;
  }
  return client;
}

export class Client {
  constructor(ws) {
    this.ws = ws;
    this.inbox = []; // received and not yet taken by next()
    this.received = []; // everything received, in order
    this.pings = 0;
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
        this._wake();
      });
    });
    ws.on('error', (err) => {
      this.error = err;
    });
    ws.on('ping', () => {
      this.pings++;
    });
    ws.on('message', (data, isBinary) => {
      let msg;
      if (isBinary) {
        msg = { __binary: Buffer.from(data) };
      } else {
        const text = data.toString('utf8');
        try {
          msg = JSON.parse(text);
        } catch {
          msg = { __raw: text };
        }
      }
      this.received.push(msg);
      this.inbox.push(msg);
      this._wake();
    });
  }

  _wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends an object as JSON, or a string / Buffer as is (text frame unless opts.binary). */
  send(payload, opts = {}) {
    const data = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    this.ws.send(data, { binary: false, ...opts });
  }

  /**
   * Takes (removes from the inbox) the first message matching `pred`, waiting
   * up to `ms` for it. Rejects on timeout or if the socket closes first.
   */
  next(pred = () => true, ms = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.inbox.findIndex((m) => pred(m));
        if (i >= 0) {
          const [msg] = this.inbox.splice(i, 1);
          done();
          resolve(msg);
          return true;
        }
        if (this.closeInfo) {
          done();
          reject(new Error(`socket closed (${this.closeInfo.code}) before a matching message; inbox: ${this._dump()}`));
          return true;
        }
        return false;
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching message within ${ms} ms; inbox: ${this._dump()}`));
      }, ms);
      if (!check()) this.waiters.push(check);
    });
  }

  /** Sends `obj` with a fresh id and resolves with the reply carrying that id. */
  async request(obj, ms = 5000) {
    const id = `r${++requestCounter}`;
    this.send({ ...obj, id });
    return this.next((m) => m.id === id, ms);
  }

  async subscribe(channel, ms = 5000) {
    const reply = await this.request({ action: 'subscribe', channel }, ms);
    if (reply.type !== 'subscribed') throw new Error(`subscribe ${channel}: ${JSON.stringify(reply)}`);
    return reply;
  }

  async unsubscribe(channel, ms = 5000) {
    const reply = await this.request({ action: 'unsubscribe', channel }, ms);
    if (reply.type !== 'unsubscribed') throw new Error(`unsubscribe ${channel}: ${JSON.stringify(reply)}`);
    return reply;
  }

  /**
   * Round trip through the server (ping → pong). Anything the server wrote to
   * this connection before handling the ping has arrived once this resolves.
   */
  async flush(ms = 5000) {
    const reply = await this.request({ action: 'ping' }, ms);
    if (reply.type !== 'pong') throw new Error(`flush: ${JSON.stringify(reply)}`);
  }

  /** Messages of type "message" still in the inbox (optionally for one channel). */
  deliveries(channel) {
    return this.inbox.filter((m) => m.type === 'message' && (channel === undefined || m.channel === channel));
  }

  waitClose(ms = 5000) {
    return withTimeout(this.closed, ms, 'WebSocket close');
  }

  close() {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    try {
      this.ws.terminate();
    } catch {
      /* ignore */
    }
  }

  _dump() {
    const s = JSON.stringify(this.inbox.slice(-5));
    return s.length > 400 ? `${s.slice(0, 400)}…` : s;
  }
}

/** Closes every client given (ignores nulls); handy in after() hooks. */
export function closeAll(...clients) {
  for (const c of clients.flat()) if (c) c.close();
}

// ---------------------------------------------------------------------------
// Raw WebSocket over TCP (hand-made handshake and frames)
// ---------------------------------------------------------------------------

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/** Encodes one frame. Client frames are masked unless mask === false. */
export function encodeFrame({ opcode = OP.TEXT, payload = Buffer.alloc(0), fin = true, mask = true, rsv = 0 }) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const len = data.length;
  let header;
  if (len < 126) {
    header = Buffer.alloc(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  header[0] = (fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0x0f);
  if (!mask) return Buffer.concat([header, data]);
  header[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

/**
 * Opens a TCP connection, performs the upgrade by hand and resolves with a
 * RawSocket once the server answered 101 with the right Sec-WebSocket-Accept.
 */
export function rawWebSocket(port, { path: reqPath = '/ws', headers = {}, timeout = 5000, host = '127.0.0.1' } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const key = crypto.randomBytes(16).toString('base64');
      const sock = net.connect({ host, port });
      let buf = Buffer.alloc(0);
      const onData = (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        const head = parseHead(buf.subarray(0, end + 4).toString('latin1'));
        if (head.status !== 101) {
          sock.destroy();
          reject(new Error(`handshake answered ${head.status}`));
          return;
        }
        const expect = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
        if (head.headers['sec-websocket-accept'] !== expect) {
          sock.destroy();
          reject(new Error(`bad Sec-WebSocket-Accept ${head.headers['sec-websocket-accept']}`));
          return;
        }
        resolve(new RawSocket(sock, buf.subarray(end + 4)));
      };
      sock.on('data', onData);
      sock.once('error', reject);
      sock.on('connect', () => {
        const lines = [
          `GET ${reqPath} HTTP/1.1`,
          `Host: ${host}:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${key}`,
          'Sec-WebSocket-Version: 13',
          ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        ];
        sock.write(lines.join('\r\n') + '\r\n\r\n');
      });
    }),
    timeout,
    'raw WebSocket handshake',
  );
}

/** "3 frames: text x2, close 1002" — a short summary for error messages. */
function describeFrames(frames) {
  const names = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
  const parts = [];
  for (const f of frames) {
    const name = (names[f.opcode] || `op${f.opcode}`) + (f.opcode === OP.CLOSE ? ` ${f.code}` : '');
    const last = parts[parts.length - 1];
    if (last && last.name === name) last.n++;
    else parts.push({ name, n: 1 });
  }
  return `${frames.length} frames: ${parts.map((p) => (p.n > 1 ? `${p.name} x${p.n}` : p.name)).join(', ') || 'none'}`;
}

export class RawSocket {
  constructor(sock, rest) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.frames = []; // frames not yet taken by nextFrame()
    this.all = []; // every frame received
    this.waiters = [];
    this.ended = false;
    this.endedPromise = new Promise((resolve) => {
      this._resolveEnded = resolve;
    });
    sock.on('data', (c) => this._feed(c));
    const end = () => {
      if (this.ended) return;
      this.ended = true;
      this._resolveEnded();
      this._wake();
    };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', () => end());
    if (rest.length) this._feed(rest);
  }

  _feed(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      if (masked) off += 4;
      if (b.length < off + len) break;
      let payload = Buffer.from(b.subarray(off, off + len));
      if (masked) {
        const key = b.subarray(off - 4, off);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      const frame = { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, masked, payload };
      if (frame.opcode === OP.CLOSE) {
        frame.code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
        frame.reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
      } else if (frame.opcode === OP.TEXT) {
        frame.text = payload.toString('utf8');
        try {
          frame.json = JSON.parse(frame.text);
        } catch {
          /* not JSON */
        }
      }
      this.buf = b.subarray(off + len);
      this.frames.push(frame);
      this.all.push(frame);
      if (frame.opcode === OP.PING && this.autoPong) this.send({ opcode: OP.PONG, payload });
    }
    this._wake();
  }

  _wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Writes a frame (see encodeFrame) or a raw Buffer. */
  send(frameOrBuffer) {
    const data = Buffer.isBuffer(frameOrBuffer) ? frameOrBuffer : encodeFrame(frameOrBuffer);
    if (!this.sock.destroyed) this.sock.write(data);
  }

  sendJson(obj) {
    this.send({ opcode: OP.TEXT, payload: JSON.stringify(obj) });
  }

  /** Takes the first received frame matching `pred`, waiting up to `ms`. */
  nextFrame(pred = () => true, ms = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.frames.findIndex((f) => pred(f));
        if (i >= 0) {
          const [frame] = this.frames.splice(i, 1);
          done();
          resolve(frame);
          return true;
        }
        if (this.ended) {
          done();
          reject(new Error(`connection ended before a matching frame; received ${describeFrames(this.all)}`));
          return true;
        }
        return false;
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching frame within ${ms} ms`));
      }, ms);
      if (!check()) this.waiters.push(check);
    });
  }

  /** Resolves with the server's close frame ({code, reason, ...}). */
  nextClose(ms = 5000) {
    return this.nextFrame((f) => f.opcode === OP.CLOSE, ms);
  }

  nextJson(pred = () => true, ms = 5000) {
    return this.nextFrame((f) => f.opcode === OP.TEXT && f.json !== undefined && pred(f.json), ms).then((f) => f.json);
  }

  waitEnd(ms = 5000) {
    return withTimeout(this.endedPromise, ms, 'TCP connection to end');
  }

  pause() {
    this.sock.pause();
  }

  resume() {
    this.sock.resume();
  }

  close() {
    this.sock.destroy();
  }
}
