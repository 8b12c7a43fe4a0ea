// Real redis-server processes for the redis broker tests, and a minimal
// RESP client to look inside them (PUBSUB NUMSUB, CLIENT LIST, KEYS) or to
// subscribe like a hub would.
//
// startRedis() runs `redis-server --port P --bind 127.0.0.1 --save ''
// --appendonly no` in its own process group on a free loopback port and waits
// until it answers PING. kill() SIGKILLs it, restart() starts it again on the
// same port (what a crashed and restarted Redis looks like to the hubs),
// stop() kills it for good. Every wait has a deadline.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { freePort, waitFor, withTimeout } from '../server.mjs';

export const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';

const MAX_LOG = 64 * 1024;
const live = new Set();
process.on('exit', () => {
  for (const r of live) r.killNow();
});
// The test runner ends a test file that runs past --test-timeout with
// SIGTERM, which skips 'exit' handlers: exit properly instead, so that every
// helper's handler (these redis-servers, the php servers of server.mjs,
// the pools of lib/pool) kills what it started.
for (const sig of ['SIGTERM', 'SIGINT']) {
  if (process.listenerCount(sig) === 0) process.once(sig, () => process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)));
}

/**
 * Starts redis-server. Options:
 *   port       default: a free port
 *   password   --requirepass
 *   args       more command-line arguments
 */
export async function startRedis({ port, password, args = [] } = {}) {
  port = port || (await freePort());
  const argv = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args];
  if (password) argv.push('--requirepass', password);

  const redis = {
    port,
    address: `127.0.0.1:${port}`,
    password,
    proc: null,
    log: '',
    starts: 0,

    get pid() {
      return redis.proc?.pid;
    },

    async spawn() {
      const proc = spawn(REDIS_SERVER, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      redis.proc = proc;
      redis.starts++;
      proc.exitInfo = null;
      proc.exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => {
          proc.exitInfo = { code, signal };
          resolve(proc.exitInfo);
        });
        proc.on('error', (err) => {
          proc.exitInfo = { error: err.message };
          resolve(proc.exitInfo);
        });
      });
      const append = (c) => {
        redis.log += c.toString('utf8');
        if (redis.log.length > MAX_LOG) redis.log = redis.log.slice(-MAX_LOG);
      };
      proc.stdout.on('data', append);
      proc.stderr.on('data', append);
      live.add(redis);
      try {
        await waitFor(
          async () => {
            if (proc.exitInfo) throw Object.assign(new Error(`redis-server exited: ${JSON.stringify(proc.exitInfo)}`), { fatal: true });
            const reply = await redis.command('PING');
            return reply === 'PONG';
          },
          10000,
          { interval: 25, message: `redis-server on port ${port} to answer PING` },
        );
      } catch (err) {
        redis.killNow();
        throw new Error(`${err.message}\nredis-server ${argv.join(' ')}\n${redis.log.slice(-2000)}`);
      }
      return redis;
    },

    /** One command on a fresh connection (authenticated if needed). */
    async command(...args) {
      const c = await RespClient.connect(port, { password });
      try {
        return await c.command(...args);
      } finally {
        c.close();
      }
    },

    /** SIGKILLs the server and waits for it to be gone (the port is closed after). */
    async kill() {
      const proc = redis.proc;
      if (!proc || proc.exitInfo) return;
      redis.killNow();
      await withTimeout(proc.exited, 5000, `redis-server (pid ${proc.pid}) to exit after SIGKILL`);
    },

    killNow() {
      const proc = redis.proc;
      if (!proc || proc.exitInfo) return;
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        try {
          proc.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }
    },

    /** Starts redis-server again on the same port (after kill()). */
    restart() {
      return redis.spawn();
    },

    async stop() {
      await redis.kill();
      live.delete(redis);
      redis.proc?.stdout.destroy();
      redis.proc?.stderr.destroy();
    },

    /** How many connections are subscribed to each of these Pub/Sub channels. */
    async numsub(...channels) {
      const reply = await redis.command('PUBSUB', 'NUMSUB', ...channels);
      const out = {};
      for (let i = 0; i < reply.length; i += 2) out[reply[i]] = Number(reply[i + 1]);
      return out;
    },

    /** CLIENT LIST as objects ({ id, addr, name, db, sub, psub, cmd, ... }). */
    async clients() {
      const text = await redis.command('CLIENT', 'LIST');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
    },
  };
  return redis.spawn();
}

// ---------------------------------------------------------------------------
// RESP
// ---------------------------------------------------------------------------

function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8');
    parts.push(`$${b.length}\r\n`, b, '\r\n');
  }
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8'))));
}

class ReplyError extends Error {}

/** Parses one reply at buf[pos]; returns [value, next] or null when incomplete. */
function parse(buf, pos) {
  if (pos >= buf.length) return null;
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new ReplyError(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return null;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const out = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return null;
        out.push(r[0]);
        p = r[1];
      }
      return [out, p];
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buf.toString('latin1', pos, Math.min(buf.length, pos + 40)))}`);
  }
}

/**
 * A Redis connection. command() resolves with the reply (rejects on an error
 * reply). After subscribe()/psubscribe() the connection is in Pub/Sub mode:
 * every pushed message goes to onPush(kind, ...fields) and bytesIn counts
 * everything the server sent.
 */
export class RespClient {
  static connect(port, { password, host = '127.0.0.1', timeout = 3000 } = {}) {
    return withTimeout(
      new Promise((resolve, reject) => {
        const sock = net.connect({ host, port });
        sock.once('error', reject);
        sock.once('connect', async () => {
          sock.off('error', reject);
          const c = new RespClient(sock);
          try {
            if (password) await c.command('AUTH', password);
            resolve(c);
          } catch (err) {
            c.close();
            reject(err);
          }
        });
      }),
      timeout,
      `connect to Redis on port ${port}`,
    );
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.pending = [];
    this.bytesIn = 0;
    this.pushes = 0;
    this.onPush = null;
    this.closed = false;
    sock.on('data', (chunk) => {
      this.bytesIn += chunk.length;
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        const r = parse(this.buf, pos);
        if (!r) break;
        pos = r[1];
        this._reply(r[0]);
      }
      this.buf = this.buf.subarray(pos);
    });
    const fail = (err) => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(err || new Error('Redis connection closed'));
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  _reply(value) {
    if (Array.isArray(value) && (value[0] === 'message' || value[0] === 'pmessage') && this.onPush) {
      this.pushes++;
      this.onPush(...value);
      return;
    }
    const p = this.pending.shift();
    if (!p) return;
    if (value instanceof ReplyError) p.reject(value);
    else p.resolve(value);
  }

  command(...args) {
    if (this.closed) return Promise.reject(new Error('Redis connection closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.sock.write(encode(args));
    });
  }

  /** PSUBSCRIBE pattern; onPush('pmessage', pattern, channel, data) for every match. */
  psubscribe(pattern, onPush) {
    this.onPush = onPush;
    return this.command('PSUBSCRIBE', pattern);
  }

  subscribe(channel, onPush) {
    this.onPush = onPush;
    return this.command('SUBSCRIBE', channel);
  }

  close() {
    this.closed = true;
    this.sock.destroy();
  }
}

// ---------------------------------------------------------------------------
// A TCP proxy in front of Redis
// ---------------------------------------------------------------------------

/**
 * Forwards connections from a free loopback port to Redis on `port`,
 * counting the bytes each way (`stats.down`: from Redis). cut() drops every
 * connection and refuses new ones (accepted, then closed at once) until
 * restore(): one server loses Redis while the others keep it.
 */
export async function tcpProxy(port) {
  const stats = { down: 0, up: 0, connections: 0 };
  const sockets = new Set();
  let cut = false;
  const srv = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    stats.connections++;
    const upstream = net.connect({ host: '127.0.0.1', port });
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => {
      stats.up += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      stats.down += d.length;
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  const listenPort = await freePort();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(listenPort, '127.0.0.1', resolve);
  });
  return {
    port: listenPort,
    address: `127.0.0.1:${listenPort}`,
    stats,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      cut = false;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}
