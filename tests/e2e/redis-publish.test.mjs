// The redis broker's publish path: broadcast() hands its PUBLISH to the
// process's hub and returns without waiting for Redis; broadcastConfirmed()
// waits for Redis's answer. Two php -S servers on a real redis-server (started
// here on a free port): ordering and no loss under a publishing burst from
// both, a Redis stopped (SIGSTOP) and killed in the middle of a burst (every
// lost publish counted, no request hangs, no crash), the hand-off queue's
// limit (realtime.redis_publish_queue), and the confirmation path.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { startRedis, tcpProxy } from './lib/redis/redis.mjs';
import { privateExtension, startApp } from './lib/redis/apps.mjs';
import { namespaceOf, waitLog, waitRoute } from './lib/redis/cluster.mjs';

let extension;
before(async () => {
  extension = await privateExtension();
});

const seqs = (client, channel) => client.received.filter((m) => m.type === 'message' && m.channel === channel).map((m) => m.data.seq);
const sig = (redis, name) => process.kill(redis.pid, name);

describe('redis broker: publishes handed to the hub', () => {
  let redis;
  let A;
  let B;
  const clients = [];
  let ns;

  before(async () => {
    redis = await startRedis();
    // A short redis_timeout: a stalled Redis is noticed within a second.
    const ini = { 'realtime.redis_timeout': 400, 'realtime.redis_publish_queue': 300 };
    A = await startApp(redis, { extension, ini, name: 'A' });
    B = await startApp(redis, { extension, ini, name: 'B' });
    ns = await namespaceOf(redis);
  });

  after(async () => {
    for (const c of clients) c.close();
    if (redis?.proc && !redis.proc.exitInfo) sig(redis, 'SIGCONT');
    await A?.stop();
    await B?.stop();
    await redis?.stop();
  });

  const subscriber = async (server, channel) => {
    const c = await server.connectAnon();
    clients.push(c);
    await c.subscribe(channel);
    return c;
  };
  const status = async (server) => server.call('status');

  it('a burst from two servers at once: every message reaches both servers once, in each publisher\'s order; the calls do not wait for Redis', async () => {
    const ch = 'burst';
    const a = await subscriber(A, ch);
    const b = await subscriber(B, ch);
    await waitRoute(redis, `${ns}c:${ch}`, 2);
    const N = 2000;
    const [ra, rb] = await Promise.all([
      A.call('burst', { channel: ch, count: N, from: 0 }),
      B.call('burst', { channel: ch, count: N, from: 100000 }),
    ]);
    assert.equal(ra.ok, N);
    assert.equal(rb.ok, N);
    for (const c of [a, b]) {
      await waitFor(() => seqs(c, ch).length >= 2 * N, 15000, { message: `${2 * N} messages on ${c.server} (got ${seqs(c, ch).length})` });
      const got = seqs(c, ch);
      assert.equal(got.length, 2 * N, 'a message arrived twice');
      const fromA = got.filter((s) => s < 100000);
      const fromB = got.filter((s) => s >= 100000).map((s) => s - 100000);
      assert.deepEqual(fromA, [...Array(N).keys()], `A's messages on ${c.server} out of order or missing`);
      assert.deepEqual(fromB, [...Array(N).keys()], `B's messages on ${c.server} out of order or missing`);
    }
    for (const s of [A, B]) {
      const st = await status(s);
      assert.ok(st.redis_publish_handed >= N, `${s.name} handed ${st.redis_publish_handed} publishes to its hub`);
      assert.equal(st.redis_publish_failed, 0);
      assert.equal(st.redis_publish_dropped, 0);
      assert.equal(st.publish_path, 'hub');
    }
  });

  it('broadcastConfirmed() returns true once Redis has the message, in order with the handed ones', async () => {
    const ch = 'confirmed';
    const b = await subscriber(B, ch);
    await waitRoute(redis, `${ns}c:${ch}`, 1);
    await A.call('burst', { channel: ch, count: 50, from: 0 });
    const r = await A.api('confirmed', { channel: ch, message: { seq: 50 } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.result, true);
    await waitFor(() => seqs(b, ch).length >= 51, 5000);
    assert.deepEqual(seqs(b, ch), [...Array(51).keys()]);
  });

  it('Redis stalls (SIGSTOP) mid-burst: handed calls return at once, past the queue\'s limit calls wait at most about realtime.redis_timeout and throw, what Redis never answered is counted; the hub recovers', async () => {
    const ch = 'stall';
    const b = await subscriber(B, ch);
    await waitRoute(redis, `${ns}c:${ch}`, 1);
    const st0 = await status(A);
    sig(redis, 'SIGSTOP');
    let resumed = false;
    try {
      // 300 fit in the queue (realtime.redis_publish_queue); the other 3
      // wait for room, then throw (the queue is still full, or the hub has
      // taken Redis for gone and the synchronous path gets no answer).
      const r = await A.call('burst', { channel: ch, count: 303, from: 0 });
      assert.equal(r.ok, 300, JSON.stringify(r));
      assert.equal(r.thrown, 3);
      for (const e of r.errors) assert.match(e, /realtime\.redis_publish_queue|realtime\.redis_timeout/);
      assert.ok(r.ok_max_us < 200000, `a handed broadcast() took ${r.ok_max_us} us while Redis was stalled`);
      assert.ok(r.max_us < 2 * 400 * 1000 + 1000 * 1000, `a refused broadcast() took ${r.max_us} us`);
      // The hub takes Redis for gone: the 300 it sent are counted as failed.
      await waitLog(A, /no answer within 400 ms \(realtime\.redis_timeout\)/, 5000);
      await waitFor(async () => (await status(A)).redis_publish_failed - st0.redis_publish_failed >= 300, 5000, { message: 'the unanswered publishes to be counted' });
      const st1 = await status(A);
      assert.equal(st1.redis_publish_failed - st0.redis_publish_failed, 300);
      assert.ok(st1.redis_publish_dropped - st0.redis_publish_dropped <= 3);
      assert.equal(st1.redis_publish_waiting, 0);
      // broadcastConfirmed() with the hub cut off: the synchronous path, which
      // gives up after realtime.redis_timeout.
      const c = await A.api('confirmed', { channel: ch, message: { seq: -1 } });
      assert.equal(c.ok, false);
      assert.equal(c.class, 'Realtime\\Exception');
      assert.match(c.error, /no answer within 400 ms/);
      assert.ok(c.ms < 2 * 400 + 1200, `broadcastConfirmed() took ${c.ms} ms`);
      sig(redis, 'SIGCONT');
      resumed = true;
    } finally {
      if (!resumed) sig(redis, 'SIGCONT');
    }
    // Back: the hub reconnects and delivery resumes (a CONT'ed Redis may
    // still pass on some of the stalled PUBLISHes: at most once, never twice).
    await waitLog(A, /Redis at \S+ is back after \d+ ms/, 15000);
    await waitRoute(redis, `${ns}c:${ch}`, 1, 10000);
    await waitFor(async () => (await A.api('confirmed', { channel: ch, message: { seq: 1000 } })).ok, 10000, { message: 'broadcastConfirmed() to succeed again' });
    await b.next((m) => m.type === 'message' && m.data?.seq === 1000, 5000);
    const got = seqs(b, ch).filter((s) => s >= 0 && s < 1000);
    assert.equal(new Set(got).size, got.length, 'a stalled message was delivered twice');
    assert.equal((await status(A)).redis_publish_waiting, 0);
  });

  it('the connection to Redis cut mid-burst: no request hangs, every handed publish either reached the other server or is counted as failed', async (t) => {
    const proxy = await tcpProxy(redis.port);
    const P = await startApp({ address: proxy.address }, { extension, name: 'P', ini: { 'realtime.redis_timeout': 400 } });
    try {
      const ch = 'cut';
      const b = await subscriber(B, ch);
      await waitRoute(redis, `${ns}c:${ch}`, 1);
      const st0 = await status(P);
      const N = 3000;
      // Paced, so that the cut lands in the middle of it.
      const burst = P.call('burst', { channel: ch, count: N, from: 0, pause_us: 300 });
      await waitFor(() => seqs(b, ch).length >= 100, 5000, { message: 'the burst to be under way' });
      proxy.cut();
      const r = await burst;
      assert.equal(r.ok + r.thrown, N);
      assert.ok(r.thrown > 0 && r.ok > 100, `the cut came mid-burst: ${JSON.stringify({ ...r, errors: r.errors.slice(0, 3) })}`);
      assert.ok(r.max_us < 2 * 400 * 1000 + 1000 * 1000, `a broadcast() took ${r.max_us} us`);
      await waitLog(P, /Redis at \S+ unavailable/, 5000);
      await waitFor(async () => (await status(P)).redis_publish_waiting === 0, 5000, { message: 'every handed publish to be settled' });
      const st1 = await status(P);
      const failed = st1.redis_publish_failed - st0.redis_publish_failed;
      const handed = st1.redis_publish_handed - st0.redis_publish_handed;
      // Redis stays up: what it took reaches B (a marker through it orders the check).
      await B.call('broadcast', { channel: ch, message: { seq: -2 } });
      await b.next((m) => m.type === 'message' && m.data?.seq === -2, 5000);
      const got = seqs(b, ch).filter((x) => x >= 0);
      const delivered = new Set(got).size;
      t.diagnostic(`handed ${handed}, delivered ${delivered}, failed ${failed}, thrown ${r.thrown}`);
      // Every call either threw (the hub had noticed: the synchronous path
      // was refused) or was handed; every handed one reached B or is counted.
      assert.equal(handed, r.ok, `handed ${handed}, returned ok ${r.ok}`);
      assert.ok(failed > 0, 'nothing counted as failed');
      assert.ok(delivered + failed >= handed, `handed ${handed}, delivered ${delivered}, failed ${failed}`);
      assert.equal(got.length, delivered, 'a message arrived twice');
      assert.deepEqual(got, [...got].sort((x, y) => x - y), 'out of order');
      proxy.restore();
      await waitLog(P, /Redis at \S+ is back after \d+ ms/, 15000);
      await waitFor(async () => (await P.api('confirmed', { channel: ch, message: { seq: N } })).ok, 10000, { message: 'publishing to work again' });
      await b.next((m) => m.type === 'message' && m.data?.seq === N, 5000);
    } finally {
      await P.stop();
      await proxy.close();
    }
  });

  it('Redis killed mid-burst: no request hangs, no crash, no duplicate; publishing works once it is back', async (t) => {
    const ch = 'killed';
    const b = await subscriber(B, ch);
    await waitRoute(redis, `${ns}c:${ch}`, 1);
    const st0 = await status(A);
    const N = 3000;
    const burst = A.call('burst', { channel: ch, count: N, from: 0, pause_us: 300 });
    await waitFor(() => seqs(b, ch).length >= 100, 5000, { message: 'the burst to be under way' });
    await redis.kill();
    const r = await burst;
    assert.equal(r.ok + r.thrown, N);
    assert.ok(r.thrown > 0 && r.ok > 100, `the kill came mid-burst: ${JSON.stringify({ ...r, errors: r.errors.slice(0, 3) })}`);
    assert.ok(r.max_us < 2 * 400 * 1000 + 1000 * 1000, `a broadcast() took ${r.max_us} us`);
    await waitLog(A, /Redis at \S+ unavailable/, 5000);
    await waitFor(async () => (await status(A)).redis_publish_waiting === 0, 5000, { message: 'every handed publish to be settled' });
    const st1 = await status(A);
    const handed = st1.redis_publish_handed - st0.redis_publish_handed;
    // A dying Redis also loses what it had answered but not passed on yet
    // (at most once): the strict count is the test above's.
    t.diagnostic(`handed ${handed}, delivered ${new Set(seqs(b, ch)).size}, failed ${st1.redis_publish_failed - st0.redis_publish_failed}, thrown ${r.thrown}`);
    assert.equal(handed, r.ok);
    const got = seqs(b, ch);
    assert.equal(new Set(got).size, got.length, 'a message arrived twice');
    assert.deepEqual(got, [...got].sort((x, y) => x - y));
    await redis.restart();
    await waitLog(A, /Redis at \S+ is back after \d+ ms/, 15000);
    await waitRoute(redis, `${ns}c:${ch}`, 1, 10000);
    await waitFor(async () => (await A.api('confirmed', { channel: ch, message: { seq: N } })).ok, 10000, { message: 'publishing to work again' });
    await b.next((m) => m.type === 'message' && m.data?.seq === N, 5000);
  });
});
