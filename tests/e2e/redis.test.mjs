// The redis broker (realtime.broker=redis) end to end: independent php -S
// servers, each with its own hub, sharing real redis-server processes that
// this file starts on free loopback ports and stops.
//
// Cross-server delivery (broadcast, except, users, connections,
// disconnectUser, client events), the app-wide view (presence, counts),
// webhooks sent once per cluster, a server's clean stop and its crash
// (SIGKILL: members leave within the heartbeat bound), a Redis crash and
// restart, one server cut off from Redis (through a proxy) and back, app
// separation by prefix and by database, bad Redis settings (password,
// closed port, servers that are not Redis), and a php-fpm pool next to a
// php -S server.
//
// Tests tied to a bug not fixed yet run as TODO (lib/redis/known-bugs.mjs);
// RT_REDIS_STRICT=1 runs them as normal tests.
//
// Negative checks ("nothing else arrived") use ordering barriers instead of
// sleeps: a marker published after the thing under test through the same
// route, or stateBarrier() for the app-wide view (lib/redis/cluster.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, httpRequest, waitFor } from './lib/server.mjs';
import { startRedis, tcpProxy } from './lib/redis/redis.mjs';
import { SECRET, closedPort, fakeRedis, privateExtension, redisIni, startApp, webhookReceiver } from './lib/redis/apps.mjs';
import { countOf, hubLog, isDirect, isMessage, namespaceOf, stateBarrier, waitLog, waitRoute } from './lib/redis/cluster.mjs';
import { todo } from './lib/redis/known-bugs.mjs';
import { rssBoundKb } from './lib/sanitizer.mjs';

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** waitFor() whose failure message is built when it fails (from the state then). */
async function eventually(predicate, ms, describe) {
  try {
    return await waitFor(predicate, ms);
  } catch (err) {
    throw new Error(`${await describe()} (${err.message.split(' waiting for')[0]})`);
  }
}
const ids = (users) => users.map((u) => u.id).sort();

let extension;
before(async () => {
  extension = await privateExtension();
});

// realtime.app_key of the webhook tests' servers: X-Pusher-Key names it.
const HOOK_KEY = 'redis-e2e-app-key';

describe('redis broker: two servers sharing one Redis', () => {
  let redis;
  let hooks;
  let A;
  let B;
  const clients = [];
  const track = (c) => (clients.push(c), c);
  const onA = async (user, opts) => track(user ? await A.connectUser(user, opts) : await A.connectAnon(opts));
  const onB = async (user, opts) => track(user ? await B.connectUser(user, opts) : await B.connectAnon(opts));
  let ns; // what the hubs put before every Redis name: the prefix (and database)
  const route = (kind, name) => `${ns}${kind}:${name}`;

  before(async () => {
    redis = await startRedis();
    hooks = await webhookReceiver();
    const ini = {
      'realtime.client_events': 1,
      'realtime.webhook_url': hooks.url,
      'realtime.webhook_delay': 1,
      'realtime.app_key': HOOK_KEY,
    };
    A = await startApp(redis, { extension, ini, name: 'A' });
    B = await startApp(redis, { extension, ini, name: 'B' });
    assert.notEqual(A.node, B.node);
    ns = await namespaceOf(redis, 'realtime:');
  });

  after(async () => {
    for (const c of clients) c.close();
    await A?.stop();
    await B?.stop();
    await hooks?.close();
    await redis?.stop();
  });

  it('a hub subscribes to a channel route only while it has local subscribers', async () => {
    const a = await onA();
    const b = await onB();
    await a.subscribe('routes');
    await waitRoute(redis, route('c', 'routes'), 1);
    await b.subscribe('routes');
    await waitRoute(redis, route('c', 'routes'), 2);
    await b.unsubscribe('routes');
    await waitRoute(redis, route('c', 'routes'), 1);
    a.close();
    await waitRoute(redis, route('c', 'routes'), 0);
    // Every hub always listens to the state route and its own node route.
    const subs = await redis.numsub(route('n', A.node), route('n', B.node), `${ns}state`);
    assert.deepEqual(subs, { [route('n', A.node)]: 1, [route('n', B.node)]: 1, [`${ns}state`]: 2 });
  });

  it('broadcast() from either server reaches the subscribers on both, once each', async () => {
    const subs = [await onA(), await onA(), await onB(), await onB()];
    const idle = await onB();
    for (const s of subs) await s.subscribe('news');
    await idle.subscribe('elsewhere');
    await waitRoute(redis, route('c', 'news'), 2);

    await A.call('broadcast', { channel: 'news', message: { from: 'A', n: 1 }, event: 'story' });
    await B.call('broadcast', { channel: 'news', message: { from: 'B', n: 2 } });
    await A.call('broadcast', { channel: 'news', message: 'end' });
    await B.call('broadcast', { channel: 'news', message: 'end' });
    for (const s of subs) {
      await s.next((m) => m.type === 'message' && m.data === 'end', 5000);
      await s.next((m) => m.type === 'message' && m.data === 'end', 5000);
      assert.equal(countOf(s, isMessage('news', (m) => m.data?.from === 'A')), 1, `${s.server} subscriber: A's message once`);
      assert.equal(countOf(s, isMessage('news', (m) => m.data?.from === 'B')), 1, `${s.server} subscriber: B's message once`);
      const fromA = s.received.find((m) => m.data?.from === 'A');
      assert.deepEqual(fromA, { type: 'message', channel: 'news', event: 'story', data: { from: 'A', n: 1 } });
    }
    await idle.flush();
    assert.deepEqual(idle.received.filter((m) => m.type === 'message'), []);
  });

  it('broadcast() to a list of channels delivers each channel once across servers', async () => {
    const a = await onA();
    const b = await onB();
    await a.subscribe('multi-1');
    await a.subscribe('multi-2');
    await b.subscribe('multi-2');
    await waitRoute(redis, route('c', 'multi-2'), 2);
    await A.call('broadcast', { channel: ['multi-1', 'multi-2'], message: 'both' });
    await a.next(isMessage('multi-1'));
    await a.next(isMessage('multi-2'));
    await b.next(isMessage('multi-2'));
    await A.call('broadcast', { channel: 'multi-2', message: 'marker' });
    await b.next((m) => m.data === 'marker');
    assert.equal(countOf(b, (m) => m.data === 'both'), 1);
    assert.equal(countOf(b, isMessage('multi-1')), 0);
  });

  it('broadcast() with except skips only that connection, on the other server', async () => {
    const a1 = await onA();
    const b1 = await onB();
    const b2 = await onB();
    for (const c of [a1, b1, b2]) await c.subscribe('except');
    await waitRoute(redis, route('c', 'except'), 2);

    await A.call('broadcast', { channel: 'except', message: 'not for b1', except: b1.connectionId });
    await B.call('broadcast', { channel: 'except', message: 'not for a1', except: a1.connectionId });
    await A.call('broadcast', { channel: 'except', message: 'marker' });
    for (const c of [a1, b1, b2]) await c.next((m) => m.data === 'marker');

    assert.equal(countOf(b1, (m) => m.data === 'not for b1'), 0, 'the excluded connection on B got it');
    assert.equal(countOf(b2, (m) => m.data === 'not for b1'), 1);
    assert.equal(countOf(a1, (m) => m.data === 'not for b1'), 1);
    assert.equal(countOf(a1, (m) => m.data === 'not for a1'), 0, 'the excluded connection on A got it');
    assert.equal(countOf(b1, (m) => m.data === 'not for a1'), 1);
    assert.equal(countOf(b2, (m) => m.data === 'not for a1'), 1);
  });

  it('broadcastToUser(), send() and disconnectUser() reach connections on the other server', async () => {
    const tabA = await onA('multi-tab');
    const tabB = await onB('multi-tab');
    const other = await onB('bystander');
    assert.ok(tabA.connectionId.startsWith(`${A.node}.`), `connection ids are <node>.<seq>: ${tabA.connectionId}`);
    assert.ok(tabB.connectionId.startsWith(`${B.node}.`));
    await waitRoute(redis, route('u', 'multi-tab'), 2);

    await A.call('toUser', { user: 'multi-tab', message: { hi: 'both tabs' }, event: 'notice' });
    await A.call('toUser', { user: 'bystander', message: 'marker' });
    const got = [await tabA.next(isDirect()), await tabB.next(isDirect())];
    for (const m of got) assert.deepEqual(m, { type: 'message', event: 'notice', data: { hi: 'both tabs' } });
    await other.next((m) => m.data === 'marker');
    assert.equal(countOf(other, (m) => m.data?.hi), 0, 'another user got a broadcastToUser()');

    // send() from A to the tab on B, and from B to the tab on A.
    await A.call('send', { connection: tabB.connectionId, message: 'to tab B' });
    await B.call('send', { connection: tabA.connectionId, message: 'to tab A', event: 'direct' });
    assert.deepEqual(await tabB.next(isDirect()), { type: 'message', data: 'to tab B' });
    assert.deepEqual(await tabA.next(isDirect()), { type: 'message', event: 'direct', data: 'to tab A' });
    await A.call('toUser', { user: 'multi-tab', message: 'marker' });
    await tabA.next((m) => m.data === 'marker');
    await tabB.next((m) => m.data === 'marker');
    assert.equal(countOf(tabA, (m) => m.data === 'to tab B'), 0);
    assert.equal(countOf(tabB, (m) => m.data === 'to tab A'), 0);

    // A connection id of a hub that does not exist goes nowhere, quietly.
    await A.call('send', { connection: '4242.1', message: 'nobody' });

    await A.call('disconnect', { user: 'multi-tab' });
    const [closeA, closeB] = await Promise.all([tabA.waitClose(5000), tabB.waitClose(5000)]);
    assert.equal(closeA.code, 4009);
    assert.equal(closeB.code, 4009);
    await other.flush();
    assert.ok(other.isOpen, 'disconnectUser() closed another user');
    await waitRoute(redis, route('u', 'multi-tab'), 0);
  });

  it('presence: members, member_added / member_removed and getChannelUsers() span both servers', async () => {
    const ch = 'presence-lobby';
    const carol = await onA('carol', { info: { name: 'Carol' } });
    const sub1 = await carol.subscribe(ch);
    assert.deepEqual(sub1.members, [{ id: 'carol', info: { name: 'Carol' } }]);
    await stateBarrier(A, [B]);

    const dave = await onB('dave', { info: { name: 'Dave' } });
    const sub2 = await dave.subscribe(ch);
    assert.deepEqual(
      sub2.members.sort((x, y) => x.id.localeCompare(y.id)),
      [
        { id: 'carol', info: { name: 'Carol' } },
        { id: 'dave', info: { name: 'Dave' } },
      ],
    );
    const added = await carol.next((m) => m.type === 'member_added', 5000);
    assert.deepEqual(added, { type: 'member_added', channel: ch, member: { id: 'dave', info: { name: 'Dave' } } });
    for (const s of [A, B]) {
      await waitFor(async () => ids(await s.call('users', { channel: ch })).join() === 'carol,dave', 5000, {
        message: `${s.name}: getChannelUsers() = carol, dave`,
      });
    }
    assert.deepEqual(
      (await A.call('users', { channel: ch })).find((u) => u.id === 'dave'),
      { id: 'dave', info: { name: 'Dave' } },
    );

    // A second tab of carol, on B: still one member, nobody hears of it.
    const carol2 = await onB('carol', { info: { name: 'Carol' } });
    await carol2.subscribe(ch);
    await stateBarrier(B, [A, B]);
    await dave.flush();
    await carol.flush();
    assert.equal(countOf(dave, (m) => m.type === 'member_added'), 0, 'a second tab of carol was announced');
    assert.equal(countOf(carol, (m) => m.type === 'member_added'), 1);
    assert.deepEqual(ids(await A.call('users', { channel: ch })), ['carol', 'dave']);
    assert.equal(await A.call('subscribers', { channel: ch }), 3);
    assert.equal(await B.call('subscribers', { channel: ch }), 3);

    // Carol closes the tab on A: she is still there through B.
    carol.close();
    await stateBarrier(A, [A, B]);
    await dave.flush();
    assert.equal(countOf(dave, (m) => m.type === 'member_removed'), 0, 'carol left while a tab of hers remained');
    assert.deepEqual(ids(await B.call('users', { channel: ch })), ['carol', 'dave']);

    // ...and the one on B: now she has left.
    carol2.close();
    const removed = await dave.next((m) => m.type === 'member_removed', 5000);
    assert.deepEqual(removed, { type: 'member_removed', channel: ch, member: { id: 'carol' } });
    for (const s of [A, B]) {
      await waitFor(async () => ids(await s.call('users', { channel: ch })).join() === 'dave', 5000, {
        message: `${s.name}: getChannelUsers() = dave`,
      });
    }
    const channels = await A.call('channels');
    assert.equal(channels[ch], 1);
    assert.equal(await A.call('connections') >= 1, true);
  });

  it('client events reach every other member once, across servers, and not the sender', async () => {
    const ch = 'private-chat';
    const erin = await onA('erin');
    const gina = await onA('gina');
    const frank = await onB('frank');
    for (const c of [erin, gina, frank]) await c.subscribe(ch);
    await waitRoute(redis, route('c', ch), 2);

    const whisper = (c, event, data) => c.send({ action: 'whisper', channel: ch, event, data });
    whisper(erin, 'client-typing', { n: 1 });
    whisper(erin, 'client-done', null);
    whisper(frank, 'client-typing', { n: 2 });
    whisper(frank, 'client-done', null);
    const isW = (event, pred = () => true) => (m) => m.type === 'whisper' && m.event === event && pred(m);
    // A hub publishes its clients' events over one connection, in order: the
    // "done" marker arrives after the "typing" event before it.
    await gina.next(isW('client-done', (m) => m.from.user_id === 'erin'));
    await gina.next(isW('client-done', (m) => m.from.user_id === 'frank'));
    await frank.next(isW('client-done', (m) => m.from.user_id === 'erin'));
    await erin.next(isW('client-done', (m) => m.from.user_id === 'frank'));

    const fromErin = (m) => m.type === 'whisper' && m.event === 'client-typing' && m.from.user_id === 'erin';
    const fromFrank = (m) => m.type === 'whisper' && m.event === 'client-typing' && m.from.user_id === 'frank';
    assert.equal(countOf(gina, fromErin), 1, 'gina (A) got erin (A)');
    assert.equal(countOf(frank, fromErin), 1, 'frank (B) got erin (A)');
    assert.equal(countOf(gina, fromFrank), 1, 'gina (A) got frank (B)');
    assert.equal(countOf(erin, fromFrank), 1, 'erin (A) got frank (B)');
    await erin.flush();
    await frank.flush();
    assert.equal(countOf(erin, fromErin), 0, 'the sender got its own event');
    assert.equal(countOf(frank, fromFrank), 0, 'the sender got its own event');
    assert.deepEqual(frank.received.find(fromErin), {
      type: 'whisper',
      channel: ch,
      event: 'client-typing',
      data: { n: 1 },
      from: { connection_id: erin.connectionId, user_id: 'erin' },
    });
  });

  it('webhooks are sent once per event for the whole cluster', async () => {
    const ch = 'presence-hooks';
    const hank = await onA('hank');
    const ivy = await onB('ivy');
    await hank.subscribe(ch);
    await stateBarrier(A, [B]);
    await ivy.subscribe(ch);
    await hank.next((m) => m.type === 'member_added');
    hank.close();
    await stateBarrier(A, [B]);
    ivy.close();

    const expected = [
      ['channel_occupied', ch, undefined],
      ['member_added', ch, 'hank'],
      ['member_added', ch, 'ivy'],
      ['member_removed', ch, 'hank'],
      ['member_removed', ch, 'ivy'],
      ['channel_vacated', ch, undefined],
    ];
    // Leaves are held realtime.webhook_delay (1 s) before they are sent.
    await waitFor(() => expected.every(([n, c, u]) => hooks.matching(n, c, u).length >= 1), 10000, {
      message: `webhooks ${JSON.stringify(expected)}; got ${JSON.stringify(hooks.events.map((e) => [e.name, e.channel, e.user_id]))}`,
    });
    // Time for a duplicate from the other server to arrive (it would be
    // sent at the same moment as the first).
    await delay(2500);
    for (const [n, c, u] of expected) {
      assert.equal(hooks.matching(n, c, u).length, 1, `${n} ${c} ${u ?? ''}: ${JSON.stringify(hooks.events.filter((e) => e.channel === c))}`);
    }
    for (const b of hooks.batches) {
      assert.equal(b.headers['x-pusher-key'], HOOK_KEY);
      assert.match(String(b.headers['x-pusher-signature']), /^[0-9a-f]{64}$/);
    }
    // The signature is HMAC-SHA256 of the body with the shared secret.
    const { createHmac } = await import('node:crypto');
    const last = hooks.batches[hooks.batches.length - 1];
    assert.equal(last.headers['x-pusher-signature'], createHmac('sha256', SECRET).update(JSON.stringify(last.body)).digest('hex'));
  });

  it('a server stopped cleanly (SIGINT): its members leave at once, without waiting for the heartbeat', async (t) => {
    const ch = 'presence-clean';
    const C = await startApp(redis, { extension, name: 'C' });
    try {
      const lia = await onA('lia');
      await lia.subscribe(ch);
      await stateBarrier(A, [C]);
      const cyd = track(await C.connectUser('cyd'));
      await cyd.subscribe(ch);
      await lia.next((m) => m.type === 'member_added' && m.member.id === 'cyd');
      await stateBarrier(C, [A, B]);
      const claims = () => (hubLog(A).match(new RegExp(`hub ${C.node} stopped answering`, 'g')) || []).length;
      const claimsBefore = claims();
      const stoppedAt = Date.now();
      assert.ok(C.signal('SIGINT'));
      assert.equal((await cyd.waitClose(5000)).code, 1001);
      await lia.next((m) => m.type === 'member_removed' && m.member.id === 'cyd', 3000);
      t.diagnostic(`member_removed ${Date.now() - stoppedAt} ms after SIGINT`);
      await waitFor(async () => ids(await B.call('users', { channel: ch })).join() === 'lia', 3000);
      assert.equal((await C.exited).code, 0);
      assert.equal(claims(), claimsBefore, 'a clean stop was taken for a crash');
    } finally {
      await C.stop();
    }
  });

  it('no live hub is taken for dead (a hub is heard of before its first heartbeat)', async () => {
    // A and B started a moment apart: each learned of the other from its
    // state messages, possibly before the other's first heartbeat.
    for (const s of [A, B]) assert.doesNotMatch(hubLog(s), /stopped answering/, `${s.name} took a live hub for dead:\n${hubLog(s)}`);
  });

  // Last: it kills B.
  it('SIGKILL of one server: its presence members leave within 30 s', async (t) => {
    const ch = 'presence-dead';
    const kim = await onA('kim');
    await kim.subscribe(ch);
    await stateBarrier(A, [B]);
    const jack = await onB('jack');
    await jack.subscribe(ch);
    await kim.next((m) => m.type === 'member_added' && m.member.id === 'jack');
    const hooksBefore = hooks.matching('member_removed', ch, 'jack').length;
    const claimsBefore = (hubLog(A).match(new RegExp(`hub ${B.node} stopped answering`, 'g')) || []).length;

    const killedAt = Date.now();
    process.kill(-B.pid, 'SIGKILL');
    await B.exited;
    const removed = await kim.next((m) => m.type === 'member_removed' && m.member.id === 'jack', 30000);
    const took = Date.now() - killedAt;
    t.diagnostic(`member_removed for the killed server's member after ${(took / 1000).toFixed(1)} s`);
    assert.deepEqual(removed, { type: 'member_removed', channel: ch, member: { id: 'jack' } });
    assert.ok(took <= 30000);
    assert.deepEqual(ids(await A.call('users', { channel: ch })), ['kim']);
    assert.equal((hubLog(A).match(new RegExp(`hub ${B.node} stopped answering`, 'g')) || []).length, claimsBefore + 1);
    // One webhook for it, from the hub that claimed the dead one.
    await waitFor(() => hooks.matching('member_removed', ch, 'jack').length > hooksBefore, 5000);
    assert.equal(hooks.matching('member_removed', ch, 'jack').length, hooksBefore + 1);
  });
});

describe('redis broker: Redis crashes and comes back', () => {
  let redis;
  let A;
  let B;
  const clients = [];
  const track = (c) => (clients.push(c), c);
  const onA = async (user, opts) => track(user ? await A.connectUser(user, opts) : await A.connectAnon(opts));
  const onB = async (user, opts) => track(user ? await B.connectUser(user, opts) : await B.connectAnon(opts));
  let ns;
  const route = (kind, name) => `${ns}${kind}:${name}`;

  before(async () => {
    redis = await startRedis();
    const ini = { 'realtime.client_events': 1 };
    A = await startApp(redis, { extension, ini, name: 'A' });
    B = await startApp(redis, { extension, ini, name: 'B' });
    ns = await namespaceOf(redis, 'realtime:');
  });
  after(async () => {
    for (const c of clients) c.close();
    await A?.stop();
    await B?.stop();
    await redis?.stop();
  });

  it('Redis killed mid-stream and restarted on the same port: hubs reconnect, delivery resumes, no leak', async (t) => {
    const ch = 'stream';
    const pch = 'presence-outage';
    const a = await onA();
    const b = await onB();
    await a.subscribe(ch);
    await b.subscribe(ch);
    const lena = await onA('lena');
    const lenaMate = await onA('lena-mate');
    const max = await onB('max');
    await lena.subscribe(pch);
    await lenaMate.subscribe('private-outage');
    await lena.subscribe('private-outage');
    await stateBarrier(A, [B]);
    await max.subscribe(pch);
    await lena.next((m) => m.type === 'member_added' && m.member.id === 'max');
    await waitRoute(redis, route('c', ch), 2);
    let nina;

    // Warm up (allocator arenas, buffers), then take the baseline.
    await A.call('broadcast', { channel: ch, message: 'warm', count: 300 });
    await B.call('broadcast', { channel: ch, message: 'warm', count: 300 });
    await waitFor(() => countOf(b, (m) => m.data?.data === 'warm') === 600 && countOf(a, (m) => m.data?.data === 'warm') === 600, 10000);
    const rss0 = { A: A.rss(), B: B.rss() };

    // A publisher that keeps going through the outage.
    let seq = 0;
    let running = true;
    const results = [];
    const publisher = (async () => {
      while (running) {
        const n = seq++;
        try {
          const r = await A.api('broadcast', { channel: ch, message: { n } });
          results.push({ n, ok: r.ok, ms: r.ms, error: r.error, class: r.class });
        } catch (err) {
          results.push({ n, ok: false, error: `request failed: ${err.message}` });
          running = false;
        }
        await delay(10);
      }
    })();
    const stopPublisher = async () => {
      running = false;
      await publisher;
    };
    t.after(stopPublisher);

    const cycles = 2;
    let lastDown = 0;
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const before = results.length;
      await waitFor(() => results.length >= before + 20, 5000);
      await redis.kill();
      lastDown = Date.now();
      // Each hub notices and says so.
      for (const s of [A, B]) {
        await waitFor(() => (hubLog(s).match(/Redis at \S+ unavailable/g) || []).length >= cycle, 5000, {
          message: `${s.name} to log the outage (cycle ${cycle})\n${hubLog(s).slice(-1000)}`,
        });
      }
      // While Redis is away: broadcast() fails fast with Realtime\Exception...
      await waitFor(() => results.slice(before).some((r) => !r.ok), 5000, { message: 'a broadcast() to fail during the outage' });
      // ...and a hub still serves its own clients what it publishes itself.
      lena.send({ action: 'whisper', channel: 'private-outage', event: 'client-during-outage', data: cycle });
      await lenaMate.next((m) => m.type === 'whisper' && m.event === 'client-during-outage' && m.data === cycle, 5000);
      if (cycle === 1) {
        // A change the other hub cannot hear of now: nina joins on B.
        nina = await onB('nina');
        await nina.subscribe(pch);
      }
      await delay(700);
      await redis.restart();
      for (const s of [A, B]) {
        await waitFor(() => (hubLog(s).match(/Redis at \S+ is back after \d+ ms/g) || []).length >= cycle, 15000, {
          message: `${s.name} to reconnect to the restarted Redis (cycle ${cycle})\n${hubLog(s).slice(-1500)}`,
        });
      }
      // Delivery resumes both ways: the hubs subscribed again.
      await waitRoute(redis, route('c', ch), 2, 5000);
      await waitFor(() => results.slice(before).some((r) => r.ok && r.n > results.slice(before).findLast((x) => !x.ok).n), 5000, {
        message: 'broadcast() to succeed again',
      });
      const marker = `after-${cycle}`;
      await B.call('broadcast', { channel: ch, message: marker });
      await a.next((m) => m.data === marker, 5000);
      await b.next((m) => m.data === marker, 5000);
    }
    // From here on both hubs are connected: nothing published may be lost.
    const recovered = seq;
    await waitFor(() => seq >= recovered + 20, 5000);
    await stopPublisher();
    await A.call('broadcast', { channel: ch, message: 'final' });
    await b.next((m) => m.data === 'final', 5000);

    const failed = results.filter((r) => !r.ok);
    const okAfter = results.filter((r) => r.ok);
    assert.ok(failed.length > 0);
    for (const f of failed) {
      assert.equal(f.class, 'Realtime\\Exception', JSON.stringify(f));
      assert.match(f.error, /Redis/);
      assert.ok(f.ms < 1500, `a broadcast() during the outage took ${f.ms} ms`);
    }
    // Every message published while both hubs were connected reached B;
    // none arrived twice. (Messages around the kill may be lost: at most once.)
    const seenB = new Map();
    for (const m of b.received) if (m.type === 'message' && typeof m.data?.n === 'number') seenB.set(m.data.n, (seenB.get(m.data.n) || 0) + 1);
    assert.ok([...seenB.values()].every((n) => n === 1), 'a message was delivered twice');
    const missed = okAfter.filter((r) => r.n >= recovered && !seenB.has(r.n)).map((r) => r.n);
    assert.deepEqual(missed, [], 'messages published after the recovery did not reach B');
    t.diagnostic(`published ${results.length}, failed during outages ${failed.length} (max ${Math.max(...failed.map((f) => f.ms)).toFixed(1)} ms each), delivered to B ${seenB.size}`);

    // Presence is reconciled by the re-sync: nina, who joined on B during
    // the outage, reaches A; nobody who stayed is lost, through a heartbeat
    // period after the restart (no live hub taken for dead).
    // (Leaves during an outage: the next test.)
    const members = (c) => JSON.stringify(c.received.filter((m) => m.type.startsWith('member')).map((m) => `${m.type} ${m.member.id}`));
    await eventually(async () => ids(await A.call('users', { channel: pch })).join() === 'lena,max,nina', 5000,
      async () => `A's members are ${ids(await A.call('users', { channel: pch }))}, not lena, max, nina after the outage (nina joined during it); lena saw ${members(lena)}`);
    const until = lastDown + 6000;
    while (Date.now() < until) {
      assert.deepEqual(ids(await A.call('users', { channel: pch })), ['lena', 'max', 'nina'], 'A lost a member after the restart');
      assert.deepEqual(ids(await B.call('users', { channel: pch })), ['lena', 'max', 'nina'], 'B lost a member after the restart');
      await delay(500);
    }
    await lena.flush();
    assert.equal(countOf(lena, (m) => m.type === 'member_removed'), 0, `lena saw: ${members(lena)}`);
    assert.equal(countOf(lena, (m) => m.type === 'member_added' && m.member.id === 'nina'), 1, `lena saw: ${members(lena)}`);
    assert.equal(countOf(max, (m) => m.type === 'member_removed'), 0, `max saw: ${members(max)}`);

    // No crash, no leak.
    for (const s of [A, B]) {
      assert.equal(s.exitInfo, null, `${s.name} exited`);
      assert.equal((await s.hub('/health')).status, 200);
    }
    const rss1 = { A: A.rss(), B: B.rss() };
    t.diagnostic(`RSS kB before ${JSON.stringify(rss0)} after ${JSON.stringify(rss1)}`);
    for (const s of ['A', 'B']) assert.ok(rss1[s] - rss0[s] < rssBoundKb(16 * 1024), `${s} RSS grew from ${rss0[s]} to ${rss1[s]} kB`);
  });

  it('one server cut off from Redis catches up when it is back: joins and leaves it missed, both ways', { todo: todo('outageLeaves') }, async () => {
    // P reaches Redis through a proxy that can cut it off; Q stays connected.
    const proxy = await tcpProxy(redis.port);
    const P = await startApp({ address: proxy.address }, { extension, name: 'P' });
    const Q = B;
    const ch = 'presence-cut';
    const members = (c) => JSON.stringify(c.received.filter((m) => m.type.startsWith('member')).map((m) => `${m.type} ${m.member.id}`));
    try {
      const pia = track(await P.connectUser('pia'));
      await pia.subscribe(ch);
      await stateBarrier(P, [Q]);
      const quin = await onB('quin');
      const quade = await onB('quade');
      const qPublic = await onB();
      for (const c of [quin, quade]) await c.subscribe(ch);
      await qPublic.subscribe('cut-public');
      await stateBarrier(Q, [P]);
      assert.deepEqual(ids(await P.call('users', { channel: ch })), ['pia', 'quade', 'quin']);
      assert.equal((await P.call('channels'))['cut-public'], 1);

      proxy.cut();
      await waitLog(P, /Redis at \S+ unavailable/, 5000);
      // While P is away: on Q, quade leaves, qiana joins, a channel empties;
      // on P, pete joins. Nothing of it can cross now.
      quade.close();
      qPublic.close();
      const qiana = await onB('qiana');
      await qiana.subscribe(ch);
      const pete = track(await P.connectUser('pete'));
      await pete.subscribe(ch);
      await waitFor(async () => ids(await Q.call('users', { channel: ch })).join() === 'pia,qiana,quin', 5000);

      proxy.restore();
      await waitLog(P, /Redis at \S+ is back after \d+ ms/, 15000);
      for (const [s, who] of [
        [P, 'P'],
        [Q, 'Q'],
      ]) {
        await eventually(async () => ids(await s.call('users', { channel: ch })).join() === 'pete,pia,qiana,quin', 5000,
          async () => `${who}'s members are ${ids(await s.call('users', { channel: ch }))}, not pete, pia, qiana, quin (quade left and qiana joined on Q, pete joined on P, while P was away); pia saw ${members(pia)}`);
      }
      await eventually(async () => (await P.call('channels'))['cut-public'] === undefined, 5000,
        async () => `P still counts cut-public, emptied while it was away: ${JSON.stringify(await P.call('channels'))}`);
      await eventually(() => countOf(pia, (m) => m.type === 'member_removed' && m.member.id === 'quade') === 1, 5000,
        () => `pia got no member_removed quade: ${members(pia)}`);
      assert.equal(countOf(pia, (m) => m.type === 'member_added' && m.member.id === 'qiana'), 1, members(pia));
      await quin.next((m) => m.type === 'member_added' && m.member.id === 'pete', 5000);
    } finally {
      await P.stop();
      await proxy.close();
    }
  });
});

describe('redis broker: apps sharing one Redis stay apart', () => {
  let redis;
  const servers = [];
  const clients = [];
  const start = async (name, ini) => {
    const s = await startApp(redis, { extension, ini, name });
    servers.push(s);
    return s;
  };
  const user = async (s, id) => {
    const c = await s.connectUser(id);
    clients.push(c);
    return c;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
    await redis?.stop();
  });

  async function assertApart(one, oneMate, two, label) {
    const c1 = await user(one, 'one-user');
    const c1b = await user(oneMate, 'one-mate');
    const c2 = await user(two, 'two-user');
    for (const c of [c1, c1b, c2]) {
      await c.subscribe('shared');
      await c.subscribe('presence-shared');
    }
    await stateBarrier(one, [oneMate]);
    await stateBarrier(oneMate, [one]);
    await stateBarrier(two, [two]);

    await one.call('broadcast', { channel: 'shared', message: `${label}: app one` });
    await two.call('broadcast', { channel: 'shared', message: `${label}: app two` });
    await c1b.next((m) => m.data === `${label}: app one`, 5000);
    await c2.next((m) => m.data === `${label}: app two`, 5000);
    await one.call('broadcast', { channel: 'shared', message: 'marker' });
    await two.call('broadcast', { channel: 'shared', message: 'marker' });
    for (const c of [c1, c1b, c2]) await c.next((m) => m.data === 'marker', 5000);
    assert.equal(countOf(c2, (m) => m.data === `${label}: app one`), 0, `${label}: app two received app one's broadcast`);
    assert.equal(countOf(c1, (m) => m.data === `${label}: app two`), 0, `${label}: app one received app two's broadcast`);
    assert.equal(countOf(c1b, (m) => m.data === `${label}: app two`), 0);

    assert.deepEqual(ids(await one.call('users', { channel: 'presence-shared' })), ['one-mate', 'one-user']);
    assert.deepEqual(ids(await oneMate.call('users', { channel: 'presence-shared' })), ['one-mate', 'one-user']);
    assert.deepEqual(ids(await two.call('users', { channel: 'presence-shared' })), ['two-user']);
    assert.equal(await two.call('subscribers', { channel: 'shared' }), 1);
    assert.ok(!c2.received.some((m) => m.type === 'member_added'), `${label}: app two heard of app one's members`);
    assert.ok(!c1.received.some((m) => m.type === 'member_added' && m.member.id === 'two-user'));
    for (const s of [one, oneMate, two]) assert.doesNotMatch(hubLog(s), /stopped answering/, `${label}: ${s.name} took the other app's hub for dead`);
  }

  it('different realtime.redis_prefix: no shared messages, members or heartbeats', async () => {
    const one = await start('prefix-one', { 'realtime.redis_prefix': 'app-one:' });
    const oneMate = await start('prefix-one-mate', { 'realtime.redis_prefix': 'app-one:' });
    const two = await start('prefix-two', { 'realtime.redis_prefix': 'app-two:' });
    await assertApart(one, oneMate, two, 'prefix');
    const nsOne = await namespaceOf(redis, 'app-one:');
    const nsTwo = await namespaceOf(redis, 'app-two:');
    const subs = await redis.numsub(`${nsOne}c:shared`, `${nsTwo}c:shared`);
    assert.deepEqual(subs, { [`${nsOne}c:shared`]: 2, [`${nsTwo}c:shared`]: 1 });
    assert.deepEqual(await redis.command('PUBSUB', 'CHANNELS', 'realtime:*'), [], 'something used the default prefix');
    await waitFor(async () => (await redis.command('KEYS', '*:node:*')).length === 3, 6000);
    const keys = (await redis.command('KEYS', '*')).sort();
    assert.deepEqual(
      keys.filter((k) => k.includes(':node:')),
      [`${nsOne}node:${one.node}`, `${nsOne}node:${oneMate.node}`, `${nsTwo}node:${two.node}`].sort(),
    );
    // (Only heartbeats, and claims on dead hubs, are stored; nothing else.)
    assert.deepEqual(keys.filter((k) => !/:(node|gone):\d+$/.test(k)), []);
  });

  it('different realtime.redis_database with the same prefix: no shared messages or members', async () => {
    const one = await start('db-one', { 'realtime.redis_database': 1 });
    const oneMate = await start('db-one-mate', { 'realtime.redis_database': 1 });
    const two = await start('db-two', { 'realtime.redis_database': 2 });
    await assertApart(one, oneMate, two, 'database');
  });
});

describe('redis broker: bad Redis settings', () => {
  const servers = [];
  const others = [];
  const start = async (target, name, ini = {}) => {
    const s = await startApp(target, { extension, name, ini: { 'realtime.redis_timeout': 300, ...ini } });
    servers.push(s);
    return s;
  };
  after(async () => {
    for (const s of servers) await s.stop();
    for (const o of others) await o.close?.();
    for (const o of others) await o.stop?.();
  });

  it('a wrong password: broadcast() throws naming realtime.redis_password; the hub logs the refusal', async () => {
    const redis = await startRedis({ password: 'right horse battery' });
    others.push(redis);
    const wrong = await start({ address: redis.address, password: 'wrong' }, 'wrong-password');
    const r = await wrong.api('broadcast', { channel: 'news', message: 1 });
    assert.equal(r.ok, false);
    assert.equal(r.class, 'Realtime\\Exception');
    assert.match(r.error, /realtime\.redis_password/);
    assert.match(r.error, /Realtime\\broadcast\(\)/);
    await waitLog(wrong, /refused the password \(realtime\.redis_password\)/, 5000);

    const none = await start({ address: redis.address }, 'no-password');
    const r2 = await none.api('broadcast', { channel: 'news', message: 1 });
    assert.equal(r2.class, 'Realtime\\Exception');
    assert.match(r2.error, /NOAUTH|password/i);

    // The right password works, for PHP and for the hub.
    const right = await start({ address: redis.address, password: redis.password }, 'right-password');
    const c = await right.connectAnon();
    await c.subscribe('news');
    await waitRoute(redis, `${await namespaceOf(redis)}c:news`, 1);
    await right.call('broadcast', { channel: 'news', message: 'authenticated' });
    assert.equal((await c.next(isMessage('news'))).data, 'authenticated');
    c.close();
  });

  it('an address where nothing listens: broadcast() throws fast; the hub logs it and connects once Redis appears', async () => {
    const port = await closedPort();
    const s = await start({ address: `127.0.0.1:${port}` }, 'closed-port');
    const r = await s.api('broadcast', { channel: 'news', message: 1 });
    assert.equal(r.ok, false);
    assert.equal(r.class, 'Realtime\\Exception');
    assert.match(r.error, /realtime\.redis_address/);
    assert.ok(r.ms < 300 + 200, `took ${r.ms} ms with redis_timeout=300`);
    await waitLog(s, /Redis at \S+ unavailable/, 5000);

    // The hub keeps trying: a Redis that comes up later is found.
    const late = await startRedis({ port });
    others.push(late);
    const c = await s.connectAnon();
    await c.subscribe('late');
    await waitRoute(late, `${await namespaceOf(late, 'realtime:', 15000)}c:late`, 1, 15000);
    await s.call('broadcast', { channel: 'late', message: 'found it' });
    assert.equal((await c.next(isMessage('late'))).data, 'found it');
    c.close();
  });

  it('a server that answers garbage: broadcast() fails at once with a clear error', async () => {
    const fake = await fakeRedis('garbage');
    others.push(fake);
    const s = await start({ address: fake.address }, 'garbage');
    const r = await s.api('broadcast', { channel: 'news', message: 1 });
    assert.equal(r.ok, false);
    assert.equal(r.class, 'Realtime\\Exception');
    assert.match(r.error, new RegExp(`Redis at ${fake.address.replace(/\./g, '\\.')}`));
    assert.match(r.error, /protocol|Redis server/i);
    assert.ok(r.ms < 300 + 200, `took ${r.ms} ms`);
    await waitLog(s, /Redis at \S+ unavailable/, 5000);
    assert.equal((await s.hub('/health')).status, 200, 'the hub still serves its clients');
  });

  it('a server that never answers: broadcast() gives up within about realtime.redis_timeout; the hub does not hang', { todo: todo('guardWaitLogged') }, async () => {
    const fake = await fakeRedis('silent');
    others.push(fake);
    const s = await start({ address: fake.address }, 'silent');
    const r = await s.api('broadcast', { channel: 'news', message: 1 });
    assert.equal(r.ok, false);
    assert.equal(r.class, 'Realtime\\Exception');
    assert.match(r.error, new RegExp(`Redis at ${fake.address.replace(/\./g, '\\.')}`));
    assert.ok(r.ms < 300 + 300, `broadcast() took ${r.ms} ms with realtime.redis_timeout=300`);
    // Says what happened: no answer in time (not just "Resource temporarily unavailable").
    assert.match(r.error, /realtime\.redis_timeout|no answer|timed out/i);
    // The hub gives up on the silent peer too (it would otherwise wait forever
    // for the reply to its first command) and says so.
    const logged = await waitLog(s, /Redis at \S+ unavailable \(([^)]*)\)/, 5000);
    const waited = /(\d+) ms/.exec(logged[1]);
    if (waited) assert.ok(Number(waited[1]) <= 2 * 300 + 1000, `the hub's log names a wait of ${waited[1]} ms: ${logged[0]}`);
    const c = await s.connectAnon();
    await c.subscribe('local');
    await c.flush();
    c.close();
  });
});

describe('redis broker: a php-fpm pool next to a php -S server', () => {
  let redis;
  let dep;
  let S;
  const clients = [];

  before(async () => {
    const { fpmNginx } = await import('./lib/pool/servers.mjs');
    redis = await startRedis();
    const ini = redisIni(redis);
    dep = await fpmNginx({
      label: 'redis-fpm',
      pools: [{ name: 'www', pm: ['pm = static', 'pm.max_children = 3', 'pm.max_requests = 0'].join('\n') }],
      iniExtra: [
        'realtime.allow_anonymous = 1',
        `realtime.broker = ${ini['realtime.broker']}`,
        `realtime.redis_address = ${ini['realtime.redis_address']}`,
      ].join('\n'),
    });
    S = await startApp(redis, { extension, name: 'php -S' });
  });
  after(async () => {
    for (const c of clients) c.close();
    await S?.stop();
    await dep?.stop();
    await redis?.stop();
  });

  it('broadcast() from a worker or from the php -S server reaches the clients of both', async () => {
    // Every worker serves a request (and so starts its hub): requests that
    // hold their worker for a while land on different workers.
    const nodes = new Set();
    await waitFor(
      async () => {
        const answers = await Promise.all([0, 1, 2, 3].map(() => dep.json('/pid.php?sleep=200')));
        for (const a of answers) if (a.running) nodes.add(String(a.node));
        return nodes.size >= 3;
      },
      20000,
      { message: 'three php-fpm workers with a running hub' },
    );

    // Clients through nginx land on the workers' hubs (SO_REUSEPORT).
    const fpmClients = [];
    for (let i = 0; i < 9; i++) {
      const c = await connect(dep.wsUrl);
      clients.push(c);
      fpmClients.push(c);
      await c.subscribe('pool-news');
    }
    const sClients = [await S.connectAnon(), await S.connectAnon()];
    clients.push(...sClients);
    for (const c of sClients) await c.subscribe('pool-news');
    const hubs = new Set([...fpmClients, ...sClients].map((c) => c.connectionId.split('.')[0]));
    assert.ok(hubs.size >= 3, `clients on ${hubs.size} hubs`);
    await waitRoute(redis, `${await namespaceOf(redis)}c:pool-news`, hubs.size, 5000);

    const form = (o) => new URLSearchParams(o).toString();
    const body = form({ channel: 'pool-news', message: JSON.stringify({ from: 'fpm' }) });
    const res = await httpRequest(dep.frontPort, '/publish.php', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
      body,
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.ok, true);
    await S.call('broadcast', { channel: 'pool-news', message: { from: 'php -S' } });
    const all = [...fpmClients, ...sClients];
    for (const c of all) {
      await c.next((m) => m.type === 'message' && m.data?.from === 'fpm', 5000);
      await c.next((m) => m.type === 'message' && m.data?.from === 'php -S', 5000);
    }
    await S.call('broadcast', { channel: 'pool-news', message: 'marker' });
    for (const c of all) {
      await c.next((m) => m.data === 'marker', 5000);
      assert.equal(countOf(c, (m) => m.data?.from === 'fpm'), 1);
      assert.equal(countOf(c, (m) => m.data?.from === 'php -S'), 1);
    }
    // The app-wide view counts every client, wherever it is connected.
    await waitFor(async () => (await S.call('subscribers', { channel: 'pool-news' })) === all.length, 5000);
  });
});
