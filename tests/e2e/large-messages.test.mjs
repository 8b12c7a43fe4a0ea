// Messages of every legal size go through; larger ones are refused where
// they are published (issue 11, point 5).
//
// The limits (docs/php-api.md "Message size"):
//   - the frame a message becomes, in the larger of the two protocols'
//     shapes and with its WebSocket header, must fit realtime.max_outbound
//     (a client's queue could never hold more: sending it would close every
//     subscriber as a slow consumer);
//   - between the workers of a server (memory broker), the encoded message
//     must fit a quarter of realtime.pool_memory.
// realtime.max_message_size limits what clients send, not what they get.
//
//   (1) php -S with PHP_CLI_SERVER_WORKERS=4: a 300 KB broadcast reaches
//       clients on every hub, and later messages still flow (a message over
//       the ring's 256 KiB drain chunk used to stop every hub for good);
//       the largest message the ring carries arrives too, one byte more is
//       refused by broadcast() and by /publish (413), naming pool_memory.
//   (2) A lone server: the largest message under max_outbound arrives, one
//       byte more makes broadcast() throw, /publish and the Pusher HTTP API
//       answer 413; subscribers stay connected and keep receiving.
//   (3) The redis broker with a real redis-server: the largest message
//       under max_outbound crosses from one server to another; bytes on a
//       hub's channel that are not a message are dropped, counted in
//       broker_lost_bytes, and delivery goes on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, httpRequest, publishSignature } from './lib/server.mjs';
import { cliServer } from './lib/pool/servers.mjs';
import { connectMany, expectAll, spread, warmUp } from './lib/pool/clients.mjs';
import { APP, NATIVE_SECRET, signedPath, startPusherServer } from './pusher-helpers.mjs';
import { startRedis } from './lib/redis/redis.mjs';
import { privateExtension, startApp } from './lib/redis/apps.mjs';
import { namespaceOf } from './lib/redis/cluster.mjs';

const KB = 1024;

/** A WebSocket frame's size for a payload of n bytes (server frames are not masked). */
const frameSize = (n) => n + (n < 126 ? 2 : n <= 0xffff ? 4 : 10);

/**
 * The largest string (of 'x') broadcast() sends on `channel` (no event)
 * within maxOutbound. Where it is published the message has no position yet,
 * so it is measured in the native shape with the largest one a channel with
 * history adds,
 *   {"type":"message","channel":"<channel>","data":"<string>","offset":<20 digits>,"epoch":"<16 hex>"}
 * which is larger than the Pusher shape, {"event":"message","channel":..,"data":..};
 * the largest frame is that JSON as a Server-Sent Event.
 */
function largestForOutbound(maxOutbound, channel) {
  const position = `,"offset":${'9'.repeat(20)},"epoch":"${'0'.repeat(16)}"`.length;
  const payload = (n) => `{"type":"message","channel":"${channel}","data":""}`.length + position + n;
  let n = maxOutbound - payload(0);
  // The same JSON as an event stream's event ("data: " and its newline, no
  // WebSocket header) is 7 bytes more than the JSON.
  while (Math.max(frameSize(payload(n)), payload(n) + 7) > maxOutbound) n--;
  return n;
}

/**
 * The largest string broadcast() sends on `channel` (no event) through a
 * ring of poolMemory bytes: the encoded message (type, origin, count,
 * channel count, then each string with a 4-byte length: the channel, no
 * event, the data as a JSON string, no except, no target) may use a
 * quarter of the ring less its 16-byte entry header, in 8-byte steps.
 */
function largestForRing(poolMemory, channel) {
  const max = Math.floor((poolMemory / 4 - 16) / 8) * 8;
  return max - (1 + 4 + 4 + 2 + (4 + channel.length) + 4 + (4 + 2) + 4 + 4);
}

const isBig = (channel, n) => (m) => m.type === 'message' && m.channel === channel && typeof m.data === 'string' && m.data.length === n;

describe('(1) a pool of php -S workers, memory broker', () => {
  const POOL_MEMORY = 2 * 1024 * KB;
  let dep;
  let clients = [];

  before(async () => {
    dep = await cliServer({ label: 'large', workers: 4, iniExtra: `realtime.allow_anonymous = 1\nrealtime.pool_memory = ${POOL_MEMORY}` });
    const warmed = await warmUp(dep, { min: 5 });
    const nodes = new Set(warmed.map((p) => dep.pids.get(p)));
    // Clients until every hub has some (the kernel spreads them).
    for (let round = 0; round < 10; round++) {
      clients.push(...(await connectMany(dep.hubWsUrl, 20, { subscribe: 'big' })));
      if ([...nodes].every((n) => spread(clients)[n] > 0)) break;
    }
    const have = spread(clients);
    assert.ok([...nodes].every((n) => have[n] > 0), `clients on hubs ${JSON.stringify(have)}, hubs ${[...nodes]}`);
  });
  after(async () => {
    closeAll(clients);
    await dep?.stop();
  });

  async function broadcast(channel, data) {
    const body = new URLSearchParams({ channel, message: JSON.stringify(data) }).toString();
    return dep.get('/publish.php', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
      body,
      timeout: 30000,
    });
  }

  async function everyoneGets(channel, n, what) {
    try {
      await expectAll(clients, isBig(channel, n), 20000, what);
    } catch (err) {
      throw new Error(`${err.message}\n${dep.logs().slice(-3000)}`);
    }
  }

  it('a 300 KB broadcast reaches clients on every hub, and later messages still flow', async () => {
    const res = await broadcast('big', 'x'.repeat(300 * KB));
    assert.equal(res.status, 200, res.body);
    await everyoneGets('big', 300 * KB, 'the 300 KB message');
    for (let i = 1; i <= 3; i++) {
      assert.equal((await broadcast('big', 'y'.repeat(i))).status, 200);
      await everyoneGets('big', i, `message ${i} after it`);
    }
  });

  it('the largest message the ring carries arrives everywhere; one byte more is refused, naming realtime.pool_memory', async () => {
    const n = largestForRing(POOL_MEMORY, 'big');
    let res = await broadcast('big', 'z'.repeat(n));
    assert.equal(res.status, 200, res.body);
    await everyoneGets('big', n, `the largest message (${n} bytes)`);

    res = await broadcast('big', 'z'.repeat(n + 1));
    assert.equal(res.status, 500, res.body);
    assert.equal(res.json.class, 'Realtime\\Exception');
    assert.match(res.json.error, /realtime\.pool_memory=2097152/);

    // /publish on the hub port: the same limit, answered 413.
    const body = JSON.stringify({ type: 'publish', channels: ['big'], data: 'z'.repeat(n + 1) });
    const api = await httpRequest(dep.hubPort, '/publish', {
      method: 'POST',
      headers: { ...publishSignature(dep.secret, body), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      body,
      timeout: 15000,
    });
    assert.equal(api.status, 413, api.body);
    assert.match(api.json.error, /realtime\.pool_memory=2097152/);

    // Nobody was disconnected for it, and messages still flow.
    assert.ok(clients.every((c) => c.isOpen), 'a subscriber was disconnected');
    assert.equal((await broadcast('big', 'w')).status, 200);
    await everyoneGets('big', 1, 'a message after the refused one');
    assert.ok(clients.every((c) => !c.inbox.some((m) => m.type === 'message' && m.data.length > n)), 'the refused message arrived somewhere');
  });
});

describe('(2) a lone server: realtime.max_outbound', () => {
  const MAX_OUTBOUND = 64 * KB;
  let server;
  let clients = [];

  before(async () => {
    server = await startPusherServer({ max_outbound: MAX_OUTBOUND, max_event_size: 1024 * KB, allow_anonymous: 1 });
    clients = [await connect(server.wsUrl), await connect(server.wsUrl)];
    for (const c of clients) await c.subscribe('big');
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('the largest message arrives; one byte more throws Realtime\\Exception naming the setting', async () => {
    const n = largestForOutbound(MAX_OUTBOUND, 'big');
    await server.publish('big', 'a'.repeat(n));
    for (const c of clients) await c.next(isBig('big', n), 10000);

    const res = await server.publish('big', 'a'.repeat(n + 1), { allowError: true });
    assert.equal(res.status, 500, res.body);
    assert.equal(res.json.class, 'Realtime\\Exception');
    assert.match(res.json.error, /realtime\.max_outbound=65536/);
  });

  it('/publish answers 413 for a message no client could be sent', async () => {
    const n = largestForOutbound(MAX_OUTBOUND, 'big');
    const post = (data) => {
      const body = JSON.stringify({ type: 'publish', channels: ['big'], data });
      return server.hub('/publish', {
        method: 'POST',
        headers: { ...publishSignature(NATIVE_SECRET, body), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        body,
      });
    };
    const over = await post('b'.repeat(n + 1));
    assert.equal(over.status, 413, over.body);
    assert.match(over.json.error, /realtime\.max_outbound=65536/);
    const fits = await post('b'.repeat(n));
    assert.equal(fits.status, 202, fits.body);
    for (const c of clients) await c.next(isBig('big', n), 10000);
  });

  it('the Pusher HTTP API answers 413 for an event no client could be sent', async () => {
    const path = `/apps/${APP.id}/events`;
    const body = JSON.stringify({ name: 'big-event', channel: 'big', data: 'c'.repeat(MAX_OUTBOUND) });
    const res = await server.hub(signedPath('POST', path, { body }), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      body,
    });
    assert.equal(res.status, 413, res.body);
    assert.match(res.body, /realtime\.max_outbound=65536/);
  });

  it('subscribers stay connected and keep receiving; none was closed as a slow consumer', async () => {
    await server.publish('big', 'after');
    for (const c of clients) {
      assert.ok(c.isOpen);
      await c.next((m) => m.type === 'message' && m.data === 'after', 10000);
      assert.ok(!c.inbox.some((m) => m.type === 'message'), `left over: ${JSON.stringify(c.inbox).slice(0, 200)}`);
    }
    assert.equal((await server.status()).slow_consumers, 0);
  });
});

describe('(3) the redis broker', () => {
  let redis;
  let A;
  let B;
  let client;

  before(async () => {
    redis = await startRedis();
    const extension = await privateExtension();
    A = await startApp(redis, { extension, name: 'A', ini: { 'realtime.allow_anonymous': 1 } });
    B = await startApp(redis, { extension, name: 'B', ini: { 'realtime.allow_anonymous': 1 } });
    client = await B.connectAnon();
    await client.subscribe('big');
  });
  after(async () => {
    closeAll(client);
    await A?.stop();
    await B?.stop();
    await redis?.stop();
  });

  it('the largest message under the default max_outbound crosses Redis to another server; one byte more throws', async () => {
    const n = largestForOutbound(1024 * KB, 'big');
    await A.call('broadcast', { channel: 'big', message: 'r'.repeat(n) });
    await client.next(isBig('big', n), 20000);
    const over = await A.api('broadcast', { channel: 'big', message: 'r'.repeat(n + 1) });
    assert.equal(over.ok, false);
    assert.equal(over.class, 'Realtime\\Exception');
    assert.match(over.error, /realtime\.max_outbound=1048576/);
    await A.call('broadcast', { channel: 'big', message: 'next' });
    await client.next((m) => m.type === 'message' && m.data === 'next', 10000);
    assert.ok(client.isOpen);
  });

  it('bytes on a hub\'s Redis channel that are not a message are dropped and counted; delivery goes on', async () => {
    const ns = await namespaceOf(redis, 'realtime:');
    const before = (await B.call('status')).broker_lost_bytes;
    assert.equal(typeof before, 'number');
    // Truncated headers, a count of channels the bytes cannot hold, lengths past the end.
    const garbage = ['x', '\u0001\u0000\u0000\u0000\u0000', `\u0001${'\u0000'.repeat(8)}\u00ff\u00ff`, `\u0001${'\u0000'.repeat(8)}\u0001\u0000\u00ff\u00ff\u00ff\u007f`, 'z'.repeat(100)];
    for (const g of garbage) await redis.command('PUBLISH', `${ns}c:big`, g);
    // Published after the garbage: once it arrives, B has read all of it.
    await A.call('broadcast', { channel: 'big', message: 'still' });
    await client.next((m) => m.type === 'message' && m.data === 'still', 10000);
    const lost = (await B.call('status')).broker_lost_bytes - before;
    assert.equal(lost, garbage.reduce((n, g) => n + Buffer.byteLength(g), 0));
    assert.ok(client.isOpen);
    assert.ok(!client.inbox.some((m) => m.type === 'message'), `left over: ${JSON.stringify(client.inbox).slice(0, 200)}`);
  });
});
