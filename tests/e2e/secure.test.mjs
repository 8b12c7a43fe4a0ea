// Secure by default (issue 11, point 7): the Pusher side is off until the
// app names a key and a secret, and then passes the same gate as native
// clients; /publish never takes realtime.secret as a credential; connection
// ids are random; /health tells a stranger only the status; and a child
// process PHP starts inherits none of the hub's descriptors.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { METRICS_KEY, closeAll, connect, httpRequest, publishSignature, startServer, waitFor } from './lib/server.mjs';

const SECRET = 'secure-e2e-secret-51c0';
const PUBLISH_KEY = 'secure-e2e-publish-key-77aa';

const upgradeHeaders = () => ({
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
  'Sec-WebSocket-Version': '13',
});
const pusherUpgrade = (server, key) =>
  httpRequest(server.wsPort, `/app/${key}?protocol=7&client=js&version=8.6.0&flash=false`, { headers: upgradeHeaders() });

/** A Pusher HTTP API request signed as the pusher SDKs do. */
function pusherApi(server, { appId = '1', key, secret, body }) {
  const apiPath = `/apps/${appId}/events`;
  const params = {
    auth_key: key,
    auth_timestamp: String(Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    body_md5: crypto.createHash('md5').update(body).digest('hex'),
  };
  const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  const sig = crypto.createHmac('sha256', secret).update(`POST\n${apiPath}\n${query}`).digest('hex');
  return httpRequest(server.wsPort, `${apiPath}?${query}&auth_signature=${sig}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    body,
  });
}

describe('the Pusher side is off by default', () => {
  const servers = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('with no app configured, /app/{key} refuses every key (the old default "realtime" too), before the upgrade', async () => {
    // allow_anonymous=1 (the harness's) and realtime.secret set: still no Pusher app.
    const s = await startServer({ ini: { secret: SECRET } });
    servers.push(s);
    const before = (await s.status()).unauthorized;
    for (const key of ['realtime', 'app-key', '1']) {
      const res = await pusherUpgrade(s, key);
      assert.equal(res.upgraded, undefined, `/app/${key} was upgraded`);
      assert.equal(res.status, 404, `/app/${key}: ${res.status} ${res.body}`);
      assert.match(res.body, /realtime\.app_key/);
    }
    // Counted and logged, not silent.
    assert.equal((await s.status()).unauthorized, before + 3);
    await waitFor(() => /refused a Pusher connection: no app is configured/.test(s.log), 5000, { message: 'the refusal in the log' });
    // The native endpoint is unaffected.
    assert.equal((await httpRequest(s.wsPort, '/ws', { headers: upgradeHeaders() })).status, 101);
  });

  it('with no app key, the Pusher HTTP API refuses even a request signed with the secret', async () => {
    const s = await startServer({ ini: { secret: SECRET } });
    servers.push(s);
    const body = JSON.stringify({ name: 'e', channel: 'c', data: '{}' });
    const res = await pusherApi(s, { key: 'realtime', secret: SECRET, body });
    assert.equal(res.status, 403, `${res.status} ${res.body}`);
    assert.match(res.body, /app_key/);
  });

  it('a key without any secret keeps it off', async () => {
    const s = await startServer({ ini: { app_key: 'only-a-key' } });
    servers.push(s);
    assert.equal((await pusherUpgrade(s, 'only-a-key')).status, 404);
  });

  it('realtime.allow_anonymous governs Pusher clients as it does native ones', async () => {
    const closed = await startServer({ ini: { app_key: 'k1', app_secret: 'pusher-secret', allow_anonymous: 0 } });
    const open = await startServer({ ini: { app_key: 'k1', app_secret: 'pusher-secret', allow_anonymous: 1 } });
    servers.push(closed, open);
    const refused = await pusherUpgrade(closed, 'k1');
    assert.equal(refused.upgraded, undefined);
    assert.equal(refused.status, 401, `${refused.status} ${refused.body}`);
    const native = await httpRequest(closed.wsPort, '/ws', { headers: upgradeHeaders() });
    assert.equal(native.status, 401, 'the native endpoint refuses the same anonymous client');
    const accepted = await pusherUpgrade(open, 'k1');
    assert.equal(accepted.status, 101);
    assert.equal(accepted.upgraded, true);
  });
});

describe('POST /publish credentials', () => {
  let server; // realtime.secret only: signed requests
  let keyed; // realtime.publish_key too
  const clients = [];
  const body = (n) => JSON.stringify({ type: 'publish', channels: ['pub-auth'], data: { n } });
  const post = (s, payload, headers = {}) =>
    httpRequest(s.wsPort, '/publish', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers },
      body: payload,
    });

  before(async () => {
    [server, keyed] = await Promise.all([
      startServer({ ini: { secret: SECRET } }),
      startServer({ ini: { secret: SECRET, publish_key: PUBLISH_KEY } }),
    ]);
  });
  after(async () => {
    closeAll(clients);
    await Promise.all([server?.stop(), keyed?.stop()]);
  });

  it('refuses realtime.secret as a bearer token; accepts a request signed with it', async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    await c.subscribe('pub-auth');
    const before = (await server.status()).unauthorized;
    const bearer = await post(server, body(1), { Authorization: `Bearer ${SECRET}` });
    assert.equal(bearer.status, 401, `${bearer.status} ${bearer.body}`);
    assert.equal((await server.status()).unauthorized, before + 1);
    const signed = await post(server, body(2), publishSignature(SECRET, body(2)));
    assert.equal(signed.status, 202, `${signed.status} ${signed.body}`);
    const m = await c.next((x) => x.type === 'message' && x.channel === 'pub-auth', 5000);
    assert.deepEqual(m.data, { n: 2 }, 'the refused message went out before the signed one');
  });

  it('refuses a signature over another body, a wrong secret, a stale or future timestamp, a malformed one', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      ['tampered body', body(3), publishSignature(SECRET, body(4))],
      ['wrong secret', body(3), publishSignature(`${SECRET}x`, body(3))],
      ['stale (2 minutes old)', body(3), publishSignature(SECRET, body(3), now - 120)],
      ['from the future', body(3), publishSignature(SECRET, body(3), now + 120)],
      ['timestamp not a number', body(3), { ...publishSignature(SECRET, body(3)), 'X-Realtime-Timestamp': '12a' }],
      ['signature alone', body(3), { 'X-Realtime-Signature': publishSignature(SECRET, body(3))['X-Realtime-Signature'] }],
      ['nothing', body(3), {}],
    ];
    for (const [what, payload, headers] of cases) {
      const res = await post(server, payload, headers);
      assert.equal(res.status, 401, `${what}: ${res.status} ${res.body}`);
    }
  });

  it('with realtime.publish_key, that key works as a bearer token and the secret still does not', async () => {
    const c = await connect(keyed.wsUrl);
    clients.push(c);
    await c.subscribe('pub-auth');
    assert.equal((await post(keyed, body(5), { Authorization: `Bearer ${SECRET}` })).status, 401);
    assert.equal((await post(keyed, body(5), { Authorization: `Bearer ${PUBLISH_KEY}x` })).status, 401);
    assert.equal((await post(keyed, body(5), { Authorization: `Bearer ${PUBLISH_KEY.slice(0, -1)}` })).status, 401);
    const ok = await post(keyed, body(6), { Authorization: `Bearer ${PUBLISH_KEY}` });
    assert.equal(ok.status, 202, `${ok.status} ${ok.body}`);
    assert.deepEqual((await c.next((x) => x.type === 'message' && x.channel === 'pub-auth', 5000)).data, { n: 6 });
    // Signed requests still work next to the key.
    assert.equal((await post(keyed, body(7), publishSignature(SECRET, body(7)))).status, 202);
  });
});

describe('connection ids and /health', () => {
  let server;
  const clients = [];
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('connection ids are "<node>.<18 random digits>", unique, and not a sequence', async () => {
    for (let i = 0; i < 12; i++) clients.push(await connect(server.wsUrl));
    const ids = clients.map((c) => c.connectionId);
    const node = String((await server.health()).node);
    for (const id of ids) assert.match(id, /^\d+\.\d{18}$/, id);
    assert.ok(ids.every((id) => id.startsWith(`${node}.`)), ids.join(' '));
    assert.equal(new Set(ids).size, ids.length, 'duplicate ids');
    const tails = ids.map((id) => BigInt(id.split('.')[1]));
    const steps = tails.slice(1).map((t, i) => t - tails[i]);
    assert.ok(steps.some((d) => d < 0n || d > 1000n), `ids follow a sequence: ${ids.join(' ')}`);
  });

  it('/health without realtime.metrics_key (or with a wrong one) says only the status', async () => {
    for (const headers of [{}, { authorization: `Bearer ${METRICS_KEY}x` }, { authorization: 'Bearer ' }, { authorization: METRICS_KEY }]) {
      const res = await server.hub('/health', { headers });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { status: 'ok' }, JSON.stringify(headers));
    }
    const detail = await server.hub('/health', { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    assert.equal(detail.json.pid, server.pid);
    assert.equal(typeof detail.json.connections, 'number');
  });

  it('with no realtime.metrics_key set, /health never shows the detail', async () => {
    const s = await startServer({ ini: { metrics_key: '' } });
    try {
      const res = await s.hub('/health', { headers: { authorization: 'Bearer ' } });
      assert.deepEqual(res.json, { status: 'ok' });
    } finally {
      await s.stop();
    }
  });
});

/** inode -> { lport, rport } from /proc/net/tcp{,6} text. */
function tcpTable(text) {
  const map = new Map();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0])) continue;
    const port = (addr) => parseInt(addr.split(':')[1], 16);
    map.set(f[9], { lport: port(f[1]), rport: port(f[2]) });
  }
  return map;
}

/**
 * From a listing answered by app/fds.php or lib/cli-fds.php: a predicate
 * telling the descriptors the extension opened (a TCP socket `tcp` accepts,
 * any unix socket, since neither php -S nor the CLI opens one itself, an
 * event descriptor, the log file).
 */
function ownedBy(json, tcp, logPath) {
  const sockets = tcpTable(json.tcp);
  const unixInodes = new Set(json.unix.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[6]).filter(Boolean));
  return (target) => {
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) {
      const t = sockets.get(m[1]);
      return t ? tcp(t) : unixInodes.has(m[1]);
    }
    return target.startsWith('anon_inode:') || (logPath !== undefined && target === logPath);
  };
}

/** Asserts no child listing in json holds a descriptor `owned` names; 0-2 are the child's stdio. */
function assertNothingInherited(json, owned) {
  for (const how of ['proc_open', 'exec']) {
    if (json[how] === undefined) continue;
    // 0-2 are the child's stdio, which PHP gives it (under the test harness, php's own stdio sockets).
    const leaked = Object.entries(json[how]).filter(([fd, target]) => Number(fd) > 2 && owned(target));
    assert.deepEqual(leaked, [], `${how}: the child inherited ${JSON.stringify(leaked)} (all: ${JSON.stringify(json[how])})`);
    assert.ok(Object.keys(json[how]).length >= 3, `${how}: no listing`);
  }
}

describe('descriptors are close-on-exec', () => {
  let server;
  let endpoint; // an auth endpoint that never answers: a call stays in flight
  let redis;
  const pending = [];
  const sockets = [];
  const servers = [];
  const logPath = path.join(os.tmpdir(), `realtime-secure-${process.pid}.log`);
  before(async () => {
    endpoint = http.createServer((req, res) => pending.push(res));
    await new Promise((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    server = await startServer({
      ini: {
        secret: SECRET,
        auth_endpoint: `http://127.0.0.1:${endpoint.address().port}/auth`,
        auth_timeout: 30000,
        log: logPath,
      },
    });
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const res of pending) res.destroy();
    await server?.stop();
    for (const s of servers) await s.stop();
    await redis?.stop();
    await new Promise((resolve) => endpoint.close(resolve));
  });

  it("a child of proc_open() or exec() inherits none of the hub's sockets, event descriptors or log file", async () => {
    // A client whose upgrade waits on the auth endpoint: the hub holds an
    // accepted socket and a libcurl connection (and curl's wake-up pair).
    const sock = net.connect(server.wsPort, '127.0.0.1');
    sockets.push(sock);
    const head = Object.entries(upgradeHeaders()).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${server.wsPort}\r\n${head}\r\n\r\n`);
    await waitFor(() => pending.length >= 1, 5000, { message: 'the hub to call the auth endpoint' });

    const res = await server.http('/fds.php');
    assert.equal(res.status, 200, res.body);
    const authPort = endpoint.address().port;
    const owned = ownedBy(res.json, (t) => t.lport === server.wsPort || t.rport === authPort, logPath);
    // The worker holds what the hub opened (the test is meaningful only then).
    const held = Object.values(res.json.parent).filter(owned);
    assert.ok(held.some((t) => t.startsWith('socket:')), `the worker holds no hub socket: ${JSON.stringify(res.json.parent)}`);
    assert.ok(held.includes(logPath), `the worker does not hold the log file: ${JSON.stringify(res.json.parent)}`);
    assertNothingInherited(res.json, owned);
  });

  it('with the redis broker, no connection to Redis is inherited either', async () => {
    const { startRedis } = await import('./lib/redis/redis.mjs');
    redis = await startRedis();
    const s = await startServer({ ini: { broker: 'redis', redis_address: redis.address } });
    servers.push(s);
    const res = await s.http('/fds.php');
    assert.equal(res.status, 200, res.body);
    const owned = ownedBy(res.json, (t) => t.lport === s.wsPort || t.rport === redis.port);
    const held = Object.values(res.json.parent).filter(owned);
    const toRedis = tcpTable(res.json.tcp);
    const redisHeld = Object.values(res.json.parent).filter((t) => {
      const m = /^socket:\[(\d+)\]$/.exec(t);
      return m && toRedis.get(m[1])?.rport === redis.port;
    });
    // The hub's two (commands, subscriptions): a worker with a hub hands its
    // publishes to the hub's thread (broker/redis.h) and opens none of its own.
    assert.ok(redisHeld.length >= 2, `the worker holds ${redisHeld.length} Redis connections: ${JSON.stringify(res.json.parent)}`);
    assert.ok(held.length > redisHeld.length);
    assertNothingInherited(res.json, owned);
  });

  it('a CLI process without a hub: its connection to /publish is not inherited', async () => {
    const { phpBin, run } = await import('./lib/pool/proc.mjs');
    const { EXTENSION } = await import('./lib/server.mjs');
    const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'lib', 'cli-fds.php');
    const res = await run(phpBin(), ['-n', '-d', `extension=${EXTENSION}`, '-d', `realtime.listen=127.0.0.1:${server.wsPort}`,
      '-d', `realtime.secret=${SECRET}`, script], { timeout: 20000 });
    assert.equal(res.code, 0, `stdout: ${res.stdout}\nstderr: ${res.stderr}`);
    const json = JSON.parse(res.stdout.trim());
    const owned = ownedBy(json, (t) => t.rport === server.wsPort);
    const held = Object.values(json.parent).filter(owned);
    assert.ok(held.length >= 2, `the CLI holds no /publish connection or curl wake-up pair: ${JSON.stringify(json.parent)}`);
    assertNothingInherited(json, owned);
  });
});
