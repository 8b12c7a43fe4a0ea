// History and recovery on the redis broker (issue 14): two php -S servers,
// each with its own hub, share one redis-server started here on a free
// loopback port. A CLI process publishes {"seq": i} on a history channel
// about 50 times a second (its broadcast() has no hub: the publish script
// runs on its own synchronous connection), and one logical client follows
// the channel over several connections, each time coming back through the
// OTHER server with the last position it saw (after closing its socket, and
// after its server was SIGKILLed). Positions come from Redis, so
// both servers agree on them: the client gets every message exactly once,
// in order, with recovered:true. A client away longer than the history
// gets recovered:false and nothing replayed; an entry older than its rule's
// seconds is not replayed; a third server cut off from Redis (through a
// proxy) fills its subscribers' gap from the history when it is back;
// Pusher cache channels keep their last event in Redis; Realtime\history()
// and broadcastConfirmed() give the messages' positions.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { METRICS_KEY, PHP_BIN, connect, httpRequest, waitFor } from './lib/server.mjs';
import { startRedis, tcpProxy } from './lib/redis/redis.mjs';
import { privateExtension, startApp } from './lib/redis/apps.mjs';
import { namespaceOf } from './lib/redis/cluster.mjs';
import { Follower, assertExactlyOnce, startPublisher } from './lib/history.mjs';

const HISTORY = 'chat-*:2000:300 short-*:5:300 brief-*:100:1';
const PUSHER_KEY = 'redis-history-key';

/** The CLI publisher on the redis broker (lib/history.mjs): no hub, its own connection. */
function startRedisPublisher(extension, redis, channel, intervalMs = 20) {
  return startPublisher(['-n', '-d', `extension=${extension}`, '-d', 'realtime.broker=redis',
    '-d', `realtime.redis_address=${redis.address}`, '-d', `realtime.history=${HISTORY}`], channel, { intervalMs });
}

/** n broadcast()s ({"cli": from + i}) from a CLI process: no hub, its own connection to Redis. */
function cliBroadcast(extension, redis, channel, from, n) {
  const code = `for ($i = 0; $i < ${n}; $i++) Realtime\\broadcast(${JSON.stringify(channel)}, ["cli" => ${from} + $i]);`;
  return new Promise((resolve, reject) => {
    execFile(PHP_BIN, ['-n', '-d', `extension=${extension}`, '-d', 'realtime.broker=redis',
      '-d', `realtime.redis_address=${redis.address}`, '-d', `realtime.history=${HISTORY}`, '-r', code],
    { env: { ...process.env, PHP_INI_SCAN_DIR: '' }, timeout: 15000 },
    (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)));
  });
}

/** A counter of a hub's /metrics (0 when absent). */
async function metric(server, name) {
  const res = await httpRequest(server.wsPort, '/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` }, timeout: 5000 });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('redis broker: history and recovery across two servers', { timeout: 120000 }, () => {
  let extension;
  let redis;
  let A;
  let B;
  const followers = [];
  const appIni = { 'realtime.allow_anonymous': 1, 'realtime.history': HISTORY, 'realtime.app_key': PUSHER_KEY };

  before(async () => {
    extension = await privateExtension();
    redis = await startRedis();
    A = await startApp(redis, { extension, ini: appIni, name: 'A' });
    B = await startApp(redis, { extension, ini: appIni, name: 'B' });
  });

  after(async () => {
    for (const f of followers) f.closeAll();
    await A?.stop();
    await B?.stop();
    await redis?.stop();
  });

  it('a client that reconnects through the other server with its position gets every missed message once, in order (recovered:true)', async (t) => {
    const f = new Follower('chat-1');
    followers.push(f);
    const fresh = await f.open(A);
    assert.equal(fresh.offset, 0, 'nothing published yet');
    assert.equal(fresh.recovered, undefined, 'no since, no recovered');
    const pub = startRedisPublisher(extension, redis, 'chat-1');
    let epoch;
    try {
      const servers = [B, A, B, A];
      for (let i = 0; i < servers.length; i++) {
        await waitFor(() => f.got.length >= 10 * (i + 1), 15000, { message: `live messages before cut ${i}; ${pub.err}` });
        epoch ??= f.got[0].epoch;
        const before = pub.sent;
        f.conn.close();
        // Away while at least 10 more are published.
        await waitFor(() => pub.sent >= before + 10, 15000, { message: `the publisher to go on; ${pub.err}` });
        const reply = await f.open(servers[i]);
        assert.equal(reply.recovered, true, `through ${servers[i].name}: ${JSON.stringify(reply)}`);
        assert.equal(reply.epoch, epoch, 'same epoch on both servers');
        t.diagnostic(`back through ${servers[i].name} at offset ${reply.offset}, ${f.got.length} messages so far`);
      }
      await waitFor(() => f.got.length >= 60, 15000, { message: 'live messages after the last resume' });
    } finally {
      await pub.stop();
    }
    assert.equal(pub.exit, 0, `publisher: ${JSON.stringify(pub.result)} ${pub.err}`);
    const [last] = await A.call('history', { channel: 'chat-1', limit: 1 });
    assert.equal(last.epoch, epoch);
    assert.equal(last.offset, pub.sent, 'one offset per message sent');
    await waitFor(() => f.last >= last.offset, 15000, { message: `the follower to reach offset ${last.offset} (at ${f.last})` });
    assertExactlyOnce(f, 1, last.offset);
    assert.deepEqual(f.got.map((m) => m.data.seq), Array.from({ length: pub.sent }, (_, i) => i), 'every seq once');
    // A fresh subscribe on either server learns where the channel stands.
    for (const server of [A, B]) {
      const g = new Follower('chat-1');
      followers.push(g);
      const now = await g.open(server);
      assert.deepEqual({ offset: now.offset, epoch: now.epoch }, { offset: last.offset, epoch });
    }
  });

  it('a client whose server is SIGKILLed comes back through the other server with its position: every message once, in order', async () => {
    const C = await startApp(redis, { extension, ini: appIni, name: 'C' });
    const f = new Follower('chat-killed');
    followers.push(f);
    try {
      await f.open(C);
      const pub = startRedisPublisher(extension, redis, 'chat-killed');
      try {
        await waitFor(() => f.got.length >= 10, 15000, { message: `live messages through C; ${pub.err}` });
        const before = pub.sent;
        process.kill(-C.pid, 'SIGKILL');
        const closed = await f.conn.closed;
        assert.equal(closed.code, 1006, 'no close frame from a killed server');
        await waitFor(() => pub.sent >= before + 10, 15000, { message: `the publisher to go on; ${pub.err}` });
        const reply = await f.open(A);
        assert.equal(reply.recovered, true, JSON.stringify(reply));
        await waitFor(() => f.got.length >= before + 20, 15000, { message: 'live messages after the resume' });
      } finally {
        await pub.stop();
      }
      assert.equal(pub.exit, 0, `publisher: ${JSON.stringify(pub.result)} ${pub.err}`);
      const [last] = await A.call('history', { channel: 'chat-killed', limit: 1 });
      assert.equal(last.offset, pub.sent, 'one offset per message sent');
      await waitFor(() => f.last >= last.offset, 15000, { message: `the follower to reach offset ${last.offset} (at ${f.last})` });
      assertExactlyOnce(f, 1, last.offset);
    } finally {
      await C.stop();
    }
  });

  it('messages a hub missed while it was cut off from Redis reach its subscribers from the history, once and in order', async () => {
    // C reaches Redis through a proxy the test cuts: C alone loses it.
    const proxy = await tcpProxy(redis.port);
    const C = await startApp({ address: proxy.address }, { extension, ini: appIni, name: 'C' });
    try {
      const f = new Follower('chat-gap');
      followers.push(f);
      await f.open(C);
      await cliBroadcast(extension, redis, 'chat-gap', 0, 3);
      await waitFor(() => f.got.length === 3, 10000, { message: 'three live messages' });
      proxy.cut();
      await waitFor(async () => (await C.call('status')).broker_connected === false, 10000, { message: 'C to notice' });
      await cliBroadcast(extension, redis, 'chat-gap', 3, 5); // never reach C over Pub/Sub
      proxy.restore();
      await waitFor(async () => (await C.call('status')).broker_connected === true, 15000, { message: 'C back on Redis' });
      assert.equal(f.got.length, 3, 'nothing arrived while C was cut off');
      // The next live message shows the gap; the hub fills it first.
      await cliBroadcast(extension, redis, 'chat-gap', 8, 1);
      await waitFor(() => f.got.length === 9, 15000, { message: `the messages after the gap (got ${f.got.map((m) => m.offset)})` });
      assertExactlyOnce(f, 1, 9);
      assert.deepEqual(f.got.map((m) => m.data.cli), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(await metric(C, 'realtime_history_gaps_total{outcome="filled"}'), 1, 'filled from the history');
    } finally {
      await C.stop();
      await proxy.close();
    }
  });

  it('a client away longer than the history gets recovered:false and nothing replayed', async () => {
    const f = new Follower('short-1');
    followers.push(f);
    await f.open(B);
    await A.call('broadcast', { channel: 'short-1', message: 'a', count: 2 });
    await waitFor(() => f.got.length === 2, 10000, { message: 'two live messages' });
    const first = f.got[0];
    f.conn.close();
    await A.call('broadcast', { channel: 'short-1', message: 'b', count: 20 }); // the channel keeps 5
    await waitFor(async () => (await B.call('history', { channel: 'short-1', limit: 1 }))[0]?.offset === first.offset + 21, 10000,
      { message: 'the 20 messages in the history' });
    const reply = await f.open(A);
    assert.equal(reply.recovered, false, JSON.stringify(reply));
    assert.deepEqual({ offset: reply.offset, epoch: reply.epoch }, { offset: first.offset + 21, epoch: first.epoch });
    await f.conn.flush();
    assert.equal(f.got.length, 2, `nothing replayed: ${JSON.stringify(f.got.slice(2, 4))}`);
    // Another epoch is not recovered either, even at a reachable offset.
    const g = new Follower('short-1');
    followers.push(g);
    g.pos = { offset: reply.offset - 1, epoch: '0123456789abcdef' };
    const other = await g.open(B);
    assert.equal(other.recovered, false, JSON.stringify(other));
    await g.conn.flush();
    assert.equal(g.got.length, 0, 'nothing replayed');
  });

  it('entries older than the rule\'s seconds are neither listed nor replayed', async () => {
    const f = new Follower('brief-1');
    followers.push(f);
    await f.open(A);
    await B.call('broadcast', { channel: 'brief-1', message: 'x', count: 3 });
    await waitFor(() => f.got.length === 3, 10000, { message: 'three live messages' });
    assert.equal((await A.call('history', { channel: 'brief-1' })).length, 3);
    const since = { offset: 1, epoch: f.got[0].epoch };
    f.conn.close();
    // brief-* keeps a message 1 s.
    await waitFor(async () => (await A.call('history', { channel: 'brief-1' })).length === 0, 10000, { message: 'the entries to age out' });
    const g = new Follower('brief-1');
    followers.push(g);
    g.pos = since;
    const reply = await g.open(B);
    assert.equal(reply.recovered, false, JSON.stringify(reply));
    await g.conn.flush();
    assert.equal(g.got.length, 0, 'nothing replayed');
    // Once the stream itself expired, a client that saw everything still
    // recovers, and the channel goes on in its epoch.
    const ns = await namespaceOf(redis, 'realtime:');
    await waitFor(async () => (await redis.command('EXISTS', `${ns}hist:brief-1`)) === 0, 10000, { message: 'the stream to expire' });
    const h = new Follower('brief-1');
    followers.push(h);
    h.pos = { offset: 3, epoch: since.epoch };
    const idle = await h.open(A);
    assert.deepEqual([idle.recovered, idle.offset, idle.epoch], [true, 3, since.epoch], JSON.stringify(idle));
    await B.call('broadcast', { channel: 'brief-1', message: 'y' });
    await waitFor(() => h.got.length === 1, 10000, { message: 'the next message' });
    assert.deepEqual([h.got[0].offset, h.got[0].epoch], [4, since.epoch]);
  });

  it('a history lost in Redis (its stream deleted or evicted) starts a new epoch: recovered:false', async () => {
    const one = await A.call('confirmed', { channel: 'chat-lost', message: { n: 1 } });
    await A.call('confirmed', { channel: 'chat-lost', message: { n: 2 } });
    const ns = await namespaceOf(redis, 'realtime:');
    assert.equal(await redis.command('DEL', `${ns}hist:chat-lost`), 1);
    const next = await B.call('confirmed', { channel: 'chat-lost', message: { n: 3 } });
    assert.equal(next.offset, 1, JSON.stringify(next));
    assert.notEqual(next.epoch, one.epoch, 'a new epoch');
    const f = new Follower('chat-lost');
    followers.push(f);
    f.pos = { offset: 1, epoch: one.epoch };
    const reply = await f.open(A);
    assert.deepEqual([reply.recovered, reply.offset, reply.epoch], [false, 1, next.epoch], JSON.stringify(reply));
  });

  it('Pusher cache channels keep their last event in Redis: a subscriber on the other server gets it at once', async () => {
    await A.call('confirmed', { channel: 'cache-news', message: { v: 1 } });
    await A.call('confirmed', { channel: 'cache-news', message: { v: 2 } });
    const c = await connect(`ws://127.0.0.1:${B.wsPort}/app/${PUSHER_KEY}?protocol=7`, { waitConnected: false });
    try {
      await c.next((m) => m.event === 'pusher:connection_established', 5000);
      c.send({ event: 'pusher:subscribe', data: { channel: 'cache-news' } });
      const cached = await c.next((m) => m.channel === 'cache-news' && !String(m.event).startsWith('pusher'), 5000);
      assert.deepEqual(JSON.parse(cached.data), { v: 2 });
      c.send({ event: 'pusher:subscribe', data: { channel: 'cache-empty' } });
      await c.next((m) => m.event === 'pusher:cache_miss' && m.channel === 'cache-empty', 5000);
      // Live events follow, once.
      await A.call('confirmed', { channel: 'cache-news', message: { v: 3 } });
      const live = await c.next((m) => m.channel === 'cache-news' && !String(m.event).startsWith('pusher'), 5000);
      assert.deepEqual(JSON.parse(live.data), { v: 3 });
      c.send({ event: 'pusher:ping', data: {} });
      await c.next((m) => m.event === 'pusher:pong', 5000);
      assert.deepEqual(c.inbox.filter((m) => m.channel === 'cache-news' && !String(m.event).startsWith('pusher')), [], 'nothing twice');
    } finally {
      c.close();
    }
  });

  it('PHP: broadcastConfirmed() gives positions, history() lists and resumes, broadcast() does not wait', async () => {
    const watcher = new Follower('chat-api');
    followers.push(watcher);
    await watcher.open(B);
    const one = await A.call('confirmed', { channel: 'chat-api', message: { n: 1 } });
    assert.equal(one.offset, 1, JSON.stringify(one));
    assert.match(one.epoch, /^[0-9a-f]{16}$/);
    const many = await A.call('confirmed', { channel: ['chat-api', 'news', 'chat-api2'], message: { n: 2 } });
    assert.deepEqual(many, { 'chat-api': { offset: 2, epoch: one.epoch }, news: null, 'chat-api2': many['chat-api2'] });
    assert.equal(many['chat-api2'].offset, 1);
    // The default broadcast() hands the message to the hub and knows no position.
    const plain = await A.api('broadcast', { channel: 'chat-api', message: { n: 3 } });
    assert.equal(plain.ok, true, JSON.stringify(plain));
    assert.equal(plain.result, null);
    for (let i = 4; i <= 6; i++) await B.call('broadcast', { channel: 'chat-api', message: { n: i } });
    await waitFor(() => watcher.got.length === 6, 10000, { message: 'six messages' });
    assert.deepEqual(watcher.got.map((m) => [m.offset, m.epoch, m.data.n]), [1, 2, 3, 4, 5, 6].map((n) => [n, one.epoch, n]));
    const last2 = await A.call('history', { channel: 'chat-api', limit: 2 });
    assert.deepEqual(last2, [
      { offset: 5, epoch: one.epoch, event: null, data: { n: 5 } },
      { offset: 6, epoch: one.epoch, event: null, data: { n: 6 } },
    ]);
    const all = await B.call('history', { channel: 'chat-api' });
    assert.deepEqual(all.map((m) => m.offset), [1, 2, 3, 4, 5, 6]);
    const after4 = await A.call('history', { channel: 'chat-api', since: { offset: 4, epoch: one.epoch } });
    assert.deepEqual(after4.map((m) => m.offset), [5, 6]);
    const stale = await A.api('history', { channel: 'chat-api', since: { offset: 1, epoch: '0000000000000001' } });
    assert.equal(stale.ok, false);
    assert.equal(stale.class, 'Realtime\\Exception');
    assert.match(stale.error, /no longer holds everything after offset 1/);
    const none = await A.api('history', { channel: 'news' });
    assert.equal(none.class, 'Realtime\\Exception');
    assert.match(none.error, /keeps no history/);
  });
});
