// Client events ("whispers"): a client sends an event straight to the other
// subscribers of a private or presence channel, without a PHP request.
// Off unless realtime.client_events=1; limited to
// realtime.client_event_rate per second per connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { METRICS_KEY, closeAll, connect, httpRequest, startServer, waitFor } from './lib/server.mjs';
import { connectWithToken, issueToken } from './lib/identity.mjs';

const SECRET = 'client-events-secret';

/** Opens connections of user `id` on `server`, remembered in `list`. */
const opener = (getServer, list) => async (id, channels = ['private-*', 'presence-*']) => {
  const server = getServer();
  const c = await connectWithToken(server, await issueToken(server, id, { channels }));
  list.push(c);
  return c;
};

describe('client events switched off (default)', () => {
  let server;
  const clients = [];
  const as = opener(() => server, clients);

  before(async () => {
    server = await startServer({ ini: { secret: SECRET, allow_anonymous: 0 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('a whisper is answered with client_events_disabled', async () => {
    const a = await as('off-a');
    await a.subscribe('private-off');
    const reply = await a.request({ action: 'whisper', channel: 'private-off', event: 'typing', data: {} });
    assert.equal(reply.type, 'error');
    assert.equal(reply.code, 'client_events_disabled');
    assert.equal(reply.message, 'client events are off on this server (realtime.client_events)');
    assert.ok(a.isOpen);
  });
});

describe('client events (realtime.client_events=1, client_event_rate=2)', () => {
  let server;
  const clients = [];
  const as = opener(() => server, clients);
  const whisper = (c, channel, event, data) => c.request({ action: 'whisper', channel, event, data });
  /** A round trip through the hub for every client given. */
  const flushAll = (...cs) => Promise.all(cs.map((c) => c.flush()));

  before(async () => {
    server = await startServer({ ini: { secret: SECRET, allow_anonymous: 1, client_events: 1, client_event_rate: 2 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('reaches the other subscribers, the sender\'s other tabs too, but not the sender', async () => {
    const ch = 'private-typing';
    const sender = await as('whisperer');
    const senderTab2 = await as('whisperer');
    const peer = await as('listener');
    const elsewhere = await as('elsewhere');
    for (const c of [sender, senderTab2, peer]) await c.subscribe(ch);
    await elsewhere.subscribe('private-other-room');

    sender.send({ action: 'whisper', channel: ch, event: 'typing', data: { typing: true, by: 'W' } });
    const expected = {
      type: 'whisper',
      channel: ch,
      event: 'typing',
      data: { typing: true, by: 'W' },
      from: { connection_id: sender.connectionId, user_id: 'whisperer' },
    };
    assert.deepEqual(await peer.next((m) => m.type === 'whisper'), expected);
    assert.deepEqual(await senderTab2.next((m) => m.type === 'whisper'), expected);

    // A second whisper from the peer: when it has arrived at the sender,
    // the sender's own (earlier) whisper would have too.
    peer.send({ action: 'whisper', channel: ch, event: 'marker', data: null });
    await sender.next((m) => m.type === 'whisper' && m.event === 'marker');
    assert.deepEqual(sender.received.filter((m) => m.type === 'whisper' && m.event === 'typing'), [], 'the sender got its own whisper');
    assert.deepEqual(sender.received.filter((m) => m.type === 'error'), [], 'no error for an accepted whisper');
    await flushAll(elsewhere);
    assert.deepEqual(elsewhere.received.filter((m) => m.type === 'whisper'), [], 'another channel got it');
    // /metrics counts the two accepted whispers as client events (issue 16).
    const text = (await httpRequest(server.wsPort, '/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` } })).body;
    assert.match(text, /^realtime_messages_published_total\{source="client_event"\} 2$/m);
  });

  it('works on presence channels; data may be any JSON value or missing', async () => {
    const ch = 'presence-whisper';
    const b = await as('pb');
    await b.subscribe(ch);
    // One sender per value: each connection may send 2 a second here.
    for (const data of ['text', 42, [1, { x: null }], { deep: { er: true } }, null, undefined]) {
      const a = await as('pa');
      await a.subscribe(ch);
      const msg = { action: 'whisper', channel: ch, event: 'value' };
      if (data !== undefined) msg.data = data;
      a.send(msg);
      const got = await b.next((m) => m.type === 'whisper');
      assert.deepEqual(got.data, data === undefined ? null : data, JSON.stringify(data));
      assert.deepEqual(got.from, { connection_id: a.connectionId, user_id: 'pa' });
      a.close();
    }
  });

  it('a public channel is forbidden', async () => {
    const a = await as('pub-a');
    await a.subscribe('public-room');
    const reply = await whisper(a, 'public-room', 'typing', {});
    assert.equal(reply.code, 'forbidden');
    assert.equal(reply.message, 'client events need a private or presence channel');
  });

  it('a channel the connection is not on is not_subscribed', async () => {
    const a = await as('ns-a');
    const b = await as('ns-b');
    await b.subscribe('private-ns');
    const reply = await whisper(a, 'private-ns', 'typing', {});
    assert.equal(reply.code, 'not_subscribed');
    assert.equal(reply.message, 'subscribe to the channel first');
    await flushAll(b);
    assert.deepEqual(b.received.filter((m) => m.type === 'whisper'), []);
  });

  it('a bad event name or channel is invalid', async () => {
    const a = await as('bad-a');
    await a.subscribe('private-bad');
    for (const event of [undefined, '', 7, 'e'.repeat(201)]) {
      const reply = await whisper(a, 'private-bad', event, {});
      assert.equal(reply.code, 'invalid_message', JSON.stringify(event));
    }
    assert.equal((await a.request({ action: 'whisper', event: 'x' })).code, 'invalid_message');
    assert.equal((await whisper(a, 'bad channel', 'x', {})).code, 'invalid_channel');
  });

  it('more than client_event_rate per second are refused with rate_limited, then allowed again', async () => {
    const ch = 'private-rate';
    const a = await as('rate-a');
    const b = await as('rate-b');
    await a.subscribe(ch);
    await b.subscribe(ch);
    // A fresh connection has a full bucket of 2. Send 8 in one go: at most
    // 2 more can be refilled if a second boundary passes meanwhile.
    const ids = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
    for (const id of ids) a.send({ action: 'whisper', channel: ch, event: 'burst', data: id, id });
    await a.flush();
    const refused = a.inbox.filter((m) => m.type === 'error' && ids.includes(m.id));
    for (const r of refused) {
      assert.equal(r.code, 'rate_limited');
      assert.equal(r.message, 'too many client events: the limit is realtime.client_event_rate per second');
    }
    const refusedIds = new Set(refused.map((r) => r.id));
    const accepted = ids.filter((id) => !refusedIds.has(id));
    assert.deepEqual(accepted.slice(0, 2), ['burst-0', 'burst-1'], 'the first two pass');
    assert.ok(accepted.length >= 2 && accepted.length <= 4, `accepted ${accepted.length} of 8`);

    // b gets exactly the accepted ones, in order.
    a.send({ action: 'whisper', channel: ch, event: 'marker', data: null });
    const marker = await waitFor(async () => {
      // The marker itself may be refused until the bucket refills.
      await a.flush();
      const i = a.inbox.findIndex((m) => m.type === 'error' && m.code === 'rate_limited' && m.id === undefined);
      if (i >= 0) {
        a.inbox.splice(i, 1);
        a.send({ action: 'whisper', channel: ch, event: 'marker', data: null });
        return null;
      }
      return b.inbox.find((m) => m.type === 'whisper' && m.event === 'marker');
    }, 4000, { interval: 100, message: 'the marker whisper to pass the rate limit' });
    assert.ok(marker);
    assert.deepEqual(b.received.filter((m) => m.type === 'whisper' && m.event === 'burst').map((m) => m.data), accepted);
    // The connection stays open.
    assert.ok(a.isOpen);
  });

  it('an anonymous connection cannot whisper: it cannot join a private channel', async () => {
    const anon = await connect(server.wsUrl);
    clients.push(anon);
    assert.equal((await whisper(anon, 'private-typing', 'typing', {})).code, 'not_subscribed');
    assert.equal((await anon.request({ action: 'subscribe', channel: 'private-typing' })).code, 'forbidden');
  });
});
