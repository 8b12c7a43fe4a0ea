// Server-Sent Events on the hub port (issue 15): GET /ws/sse?channels=...
// on php -S. The stream's head and events, heartbeats, the same auth and
// channel permissions as a WebSocket (private refusal, presence join and
// leave seen by a WebSocket member), recovery with Last-Event-ID, and bad
// input: a malformed Last-Event-ID, a huge channel list, a reader that
// stops reading (closed as a slow consumer and counted).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, startServer, waitFor } from './lib/server.mjs';
import { call, makeToken } from './lib/identity.mjs';
import { openStream } from './lib/sse.mjs';

const SECRET = 'sse-test-secret-5d1e';
const token = (uid, channels = []) =>
  makeToken(SECRET, { uid, exp: Math.floor(Date.now() / 1000) + 3600, info: { name: uid }, channels });

describe('SSE on php -S', () => {
  let server;
  const streams = [];
  const clients = [];
  const open = async (query, opts) => {
    const s = await openStream(server.wsPort, `/ws/sse?${query}`, opts);
    streams.push(s);
    return s;
  };

  before(async () => {
    server = await startServer({
      ini: { secret: SECRET, allow_anonymous: 1, sse_heartbeat: 1, history: 'hist-*:1000:3600', max_subscriptions: 20 },
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    closeAll(clients);
    await server?.stop();
  });

  it('answers text/event-stream with the native JSON in each event', async () => {
    const s = await open('channels=news,chat.1');
    assert.equal(s.status, 200);
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    assert.equal(s.headers['x-accel-buffering'], 'no');
    assert.match(s.headers['cache-control'], /no-cache/);
    const hello = await s.next((e) => e.json?.type === 'connected');
    assert.equal(typeof hello.json.connection_id, 'string');
    await s.next((e) => e.json?.type === 'subscribed' && e.json.channel === 'news');
    await s.next((e) => e.json?.type === 'subscribed' && e.json.channel === 'chat.1');
    await server.publish('news', { n: 1 }, { event: 'headline' });
    await server.publish('chat.1', 'multi\nline');
    const m1 = await s.next((e) => e.json?.type === 'message');
    assert.deepEqual(m1.json, { type: 'message', channel: 'news', event: 'headline', data: { n: 1 } });
    const m2 = await s.next((e) => e.json?.type === 'message');
    assert.equal(m2.json.data, 'multi\nline');
    const st = await server.status();
    assert.ok(st.sse_connections >= 1, JSON.stringify(st));
    // Realtime\send() by the stream's connection id reaches it.
    await call(server, 'send', hello.json.connection_id, { direct: true }, 'dm');
    const dm = await s.next((e) => e.json?.type === 'message' && e.json.event === 'dm');
    assert.deepEqual(dm.json.data, { direct: true });
  });

  it('sends heartbeat comments every realtime.sse_heartbeat seconds', async () => {
    const s = await open('channels=quiet');
    await waitFor(() => s.comments >= 2, 10000, { message: 'two heartbeat comments' });
  });

  it('refuses a private channel without permission, as a WebSocket does', async () => {
    const anon = await open('channels=private-x');
    const e1 = await anon.next((e) => e.json?.type === 'error');
    assert.equal(e1.json.code, 'forbidden');
    const other = await open(`channels=private-x&token=${encodeURIComponent(token('u1', ['private-y']))}`);
    assert.equal((await other.next((e) => e.json?.type === 'error')).json.code, 'forbidden');
    const ok = await open(`channels=private-x&token=${encodeURIComponent(token('u2', ['private-*']))}`);
    await ok.next((e) => e.json?.type === 'subscribed' && e.json.channel === 'private-x');
    await server.publish('private-x', 'secret');
    assert.equal((await ok.next((e) => e.json?.type === 'message')).json.data, 'secret');
    // Nothing reached the refused streams.
    await waitFor(() => ok.events.length > 0, 1000);
    assert.equal(anon.messages().length + other.messages().length, 0);
    // A forged token is refused before the stream opens, like an upgrade.
    const forged = await open(`channels=news&token=${encodeURIComponent(makeToken('wrong', { uid: 'x' }))}`);
    assert.equal(forged.status, 401);
    // So is a foreign origin.
    const foreign = await open('channels=news', { headers: { origin: 'http://evil.example' } });
    assert.equal(foreign.status, 403);
  });

  it('joins and leaves a presence channel like a WebSocket member', async () => {
    const bob = await connect(`${server.wsUrl}?token=${encodeURIComponent(token('bob', ['presence-*']))}`);
    clients.push(bob);
    bob.send({ action: 'subscribe', channel: 'presence-room' });
    await bob.next((m) => m.type === 'subscribed');
    const ann = await open(`channels=presence-room&token=${encodeURIComponent(token('ann', ['presence-*']))}`);
    const sub = await ann.next((e) => e.json?.type === 'subscribed');
    assert.deepEqual(sub.json.members.map((m) => m.id).sort(), ['ann', 'bob']);
    const added = await bob.next((m) => m.type === 'member_added');
    assert.equal(added.member.id, 'ann');
    bob.send({ action: 'unsubscribe', channel: 'presence-room' });
    assert.equal((await ann.next((e) => e.json?.type === 'member_removed')).json.member.id, 'bob');
    bob.send({ action: 'subscribe', channel: 'presence-room' });
    await bob.next((m) => m.type === 'subscribed');
    ann.close();
    const removed = await bob.next((m) => m.type === 'member_removed', 10000);
    assert.equal(removed.member.id, 'ann');
  });

  it('recovers every history channel from Last-Event-ID, once and in order', async () => {
    const s = await open('channels=hist-a,news,hist-b');
    await s.next((e) => e.json?.type === 'subscribed' && e.json.channel === 'hist-b');
    for (let i = 1; i <= 3; i++) {
      await server.publish('hist-a', { a: i });
      await server.publish('hist-b', { b: i });
    }
    await waitFor(() => s.messages().length === 6, 5000);
    const id = s.lastEventId;
    assert.match(id, /^[0-9a-f]{8}-3-[0-9a-f]{16}\.[0-9a-f]{8}-3-[0-9a-f]{16}$/);
    s.close();
    for (let i = 4; i <= 6; i++) {
      await server.publish('hist-b', { b: i });
      await server.publish('hist-a', { a: i });
    }
    const r = await open('channels=hist-a,news,hist-b', { headers: { 'last-event-id': id } });
    const subs = [];
    for (const ch of ['hist-a', 'news', 'hist-b']) subs.push((await r.next((e) => e.json?.type === 'subscribed' && e.json.channel === ch)).json);
    assert.equal(subs[0].recovered, true);
    assert.equal(subs[2].recovered, true);
    await waitFor(() => r.messages().length === 6, 5000);
    await new Promise((res) => setTimeout(res, 300));
    const got = r.messages();
    assert.deepEqual(got.filter((e) => e.json.channel === 'hist-a').map((e) => e.json.data.a), [4, 5, 6]);
    assert.deepEqual(got.filter((e) => e.json.channel === 'hist-b').map((e) => e.json.data.b), [4, 5, 6]);
    assert.match(r.lastEventId, /-6-/);
    // The lastEventId query does the same (a client that cannot set headers).
    const q = await open(`channels=hist-a&lastEventId=${encodeURIComponent(id)}`);
    assert.equal((await q.next((e) => e.json?.type === 'subscribed')).json.recovered, true);
    await waitFor(() => q.messages().length === 3, 5000);
  });

  it('ignores a malformed Last-Event-ID: recovered:false, counted', async () => {
    const before = (await server.status()).sse_bad_last_event_id;
    for (const bad of ['garbage', '0'.repeat(5000), 'ffffffff-1-zzzzzzzzzzzzzzzz', 'ffffffff-99999999999999999999-0000000000000000']) {
      const s = await open('channels=hist-a', { headers: { 'last-event-id': bad } });
      assert.equal(s.status, 200);
      const sub = await s.next((e) => e.json?.type === 'subscribed');
      assert.equal(sub.json.recovered, false);
      await server.publish('hist-a', 'after-bad');
      assert.equal((await s.next((e) => e.json?.type === 'message')).json.data, 'after-bad');
      s.close();
    }
    await waitFor(async () => (await server.status()).sse_bad_last_event_id === before + 4, 5000);
    assert.match(server.log, /malformed Last-Event-ID/);
  });

  it('changes a live stream\'s subscriptions through a call with its connection id', async () => {
    const s = await open('channels=live-1');
    const id = (await s.next((e) => e.json?.type === 'connected')).json.connection_id;
    await s.next((e) => e.json?.type === 'subscribed');
    const add = await server.hub(`/ws/sse/subscribe?connection_id=${encodeURIComponent(id)}&channels=live-2,live-3`, { method: 'POST' });
    assert.equal(add.status, 202, add.body);
    await s.next((e) => e.json?.type === 'subscribed' && e.json.channel === 'live-3');
    await server.publish('live-2', 'two');
    assert.equal((await s.next((e) => e.json?.type === 'message')).json.data, 'two');
    const del = await server.hub(`/ws/sse/unsubscribe?connection_id=${encodeURIComponent(id)}&channels=live-2`);
    assert.equal(del.status, 202, del.body);
    await s.next((e) => e.json?.type === 'unsubscribed' && e.json.channel === 'live-2');
    await server.publish('live-2', 'gone');
    await server.publish('live-3', 'three');
    assert.equal((await s.next((e) => e.json?.type === 'message')).json.data, 'three');
    assert.equal(s.messages('live-2').length, 1);
    const bad = await server.hub('/ws/sse/subscribe?channels=a');
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body), { error: 'connection_id and channels are required' });
    assert.equal(add.body, '{"ok":true}\n');
  });

  it('refuses a subscription change by another user than the stream\'s', async () => {
    const s = await open(`channels=own&token=${encodeURIComponent(token('ann', ['private-*']))}`);
    const id = (await s.next((e) => e.json?.type === 'connected')).json.connection_id;
    await s.next((e) => e.json?.type === 'subscribed');
    const before = (await server.status()).unauthorized;
    const eve = encodeURIComponent(token('eve', ['private-*']));
    const r = await server.hub(`/ws/sse/subscribe?connection_id=${encodeURIComponent(id)}&channels=private-ann&token=${eve}`, { method: 'POST' });
    assert.equal(r.status, 202);
    // Anonymous is another user too; a forged token is refused at once.
    await server.hub(`/ws/sse/subscribe?connection_id=${encodeURIComponent(id)}&channels=private-ann`, { method: 'POST' });
    const forged = await server.hub(`/ws/sse/subscribe?connection_id=${encodeURIComponent(id)}&channels=x&token=${encodeURIComponent(makeToken('no', { uid: 'ann' }))}`);
    assert.equal(forged.status, 401);
    await waitFor(async () => (await server.status()).unauthorized >= before + 3, 5000);
    assert.match(server.log, /refused a subscription change of stream/);
    // The owner's own call works.
    const ok = await server.hub(`/ws/sse/subscribe?connection_id=${encodeURIComponent(id)}&channels=private-ann&token=${encodeURIComponent(token('ann', ['private-*']))}`);
    assert.equal(ok.status, 202);
    await s.next((e) => e.json?.type === 'subscribed' && e.json.channel === 'private-ann');
    assert.equal(s.events.filter((e) => e.json?.channel === 'private-ann').length, 1);
  });

  it('ends with a close event where a WebSocket gets a close code (disconnectUser: 4009)', async () => {
    const s = await open(`channels=news&token=${encodeURIComponent(token('dis'))}`);
    await s.next((e) => e.json?.type === 'subscribed');
    await call(server, 'disconnectUser', 'dis');
    const closed = await s.next((e) => e.event === 'close');
    assert.equal(closed.json.code, 4009);
    await waitFor(() => s.ended, 5000, { message: 'the stream to end' });
  });

  it('refuses a channel list longer than realtime.max_subscriptions', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `c${i}`).join(',');
    const s = await open(`channels=${many}`);
    assert.equal(s.status, 400);
    const encoded = await open(`channels=${Array.from({ length: 30 }, (_, i) => `c${i}`).join('%2C')}`);
    assert.equal(encoded.status, 400);
    const ok = await open(`channels=${Array.from({ length: 20 }, (_, i) => `c${i}`).join(',')}`);
    assert.equal(ok.status, 200);
    await ok.next((e) => e.json?.type === 'subscribed' && e.json.channel === 'c19');
  });
});

describe('SSE slow reader', () => {
  let server;
  before(async () => {
    server = await startServer({ ini: { allow_anonymous: 1, max_outbound: 65536 } });
  });
  after(async () => {
    await server?.stop();
  });

  it('closes a stream that stops reading as a slow consumer, counted', async () => {
    const sock = net.connect(server.wsPort, '127.0.0.1');
    await new Promise((res) => sock.once('connect', res));
    let head = '';
    sock.write('GET /ws/sse?channels=flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise((res) => sock.on('data', function onData(d) {
      head += d.toString();
      if (head.includes('"subscribed"')) { sock.off('data', onData); sock.pause(); res(); }
    }));
    let closed = false;
    sock.on('close', () => { closed = true; });
    const before = await server.status();
    assert.equal(before.sse_connections, 1);
    // 64 KiB messages until the kernel's buffers and the 64 KiB queue are full.
    const big = 'x'.repeat(60000);
    await waitFor(async () => {
      await server.publish('flood', big, { count: 20 });
      return (await server.status()).slow_consumers > before.slow_consumers;
    }, 30000, { interval: 50, message: 'the slow stream to be closed' });
    await waitFor(async () => (await server.status()).sse_connections === 0, 10000);
    assert.match(server.log, /slow consumer/);
    sock.resume();
    await waitFor(() => closed, 10000);
    sock.destroy();
  });
});
