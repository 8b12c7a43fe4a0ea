// The native protocol: connected, subscribe / unsubscribe / ping with id
// echo, and delivery of Realtime\broadcast() from PHP requests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, startServer, waitFor } from './lib/server.mjs';

describe('native protocol', () => {
  let server;
  const clients = [];
  const open = async (opts) => {
    const c = await connect(server.wsUrl, opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('greets each connection with a connected message carrying a string id', async () => {
    const a = await open();
    const b = await open();
    assert.equal(a.hello.type, 'connected');
    assert.equal(typeof a.hello.connection_id, 'string');
    assert.ok(a.hello.connection_id.length > 0);
    assert.notEqual(a.hello.connection_id, b.hello.connection_id);
  });

  it('answers ping with pong, echoing string and numeric ids', async () => {
    const c = await open();
    c.send({ action: 'ping' });
    const plain = await c.next();
    assert.deepEqual(plain, { type: 'pong' });

    c.send({ action: 'ping', id: 'abc-1' });
    assert.deepEqual(await c.next(), { type: 'pong', id: 'abc-1' });

    c.send({ action: 'ping', id: 42 });
    assert.deepEqual(await c.next(), { type: 'pong', id: 42 });
  });

  it('ignores unknown fields in requests', async () => {
    const c = await open();
    c.send({ action: 'ping', id: 'x', extra: { deep: [1, 2] }, channel: 'ignored' });
    assert.deepEqual(await c.next(), { type: 'pong', id: 'x' });
    c.send({ action: 'subscribe', channel: 'extra-fields', data: 'ignored', v: 2 });
    assert.deepEqual(await c.next(), { type: 'subscribed', channel: 'extra-fields' });
  });

  it('negotiates no compression when a client offers permessage-deflate', async () => {
    const c = await open({ perMessageDeflate: true });
    assert.equal(c.ws.extensions, '');
    await c.subscribe('deflate');
    await server.publish('deflate', 'plain');
    assert.equal((await c.next((x) => x.type === 'message')).data, 'plain');
  });

  it('acknowledges subscribe and unsubscribe, echoing the id', async () => {
    const c = await open();
    c.send({ action: 'subscribe', channel: 'news', id: 7 });
    assert.deepEqual(await c.next(), { type: 'subscribed', channel: 'news', id: 7 });

    c.send({ action: 'subscribe', channel: 'sport' });
    assert.deepEqual(await c.next(), { type: 'subscribed', channel: 'sport' });

    c.send({ action: 'unsubscribe', channel: 'news', id: 'u1' });
    assert.deepEqual(await c.next(), { type: 'unsubscribed', channel: 'news', id: 'u1' });

    // Idempotent: unsubscribing again, or from a channel never joined, is fine.
    c.send({ action: 'unsubscribe', channel: 'news', id: 'u2' });
    assert.deepEqual(await c.next(), { type: 'unsubscribed', channel: 'news', id: 'u2' });
    c.send({ action: 'unsubscribe', channel: 'never-joined' });
    assert.deepEqual(await c.next(), { type: 'unsubscribed', channel: 'never-joined' });
  });

  it('delivers a broadcast to every subscriber and to no one else', async () => {
    const subs = [await open(), await open(), await open()];
    const other = await open();
    const idle = await open();
    for (const s of subs) await s.subscribe('room-1');
    await other.subscribe('room-2');

    await server.publish('room-1', 'hello everyone');

    for (const s of subs) {
      const m = await s.next((x) => x.type === 'message');
      assert.deepEqual(m, { type: 'message', channel: 'room-1', data: 'hello everyone' });
    }
    // Whatever the hub wrote to these two before answering a ping has arrived.
    await other.flush();
    await idle.flush();
    assert.deepEqual(other.deliveries(), []);
    assert.deepEqual(idle.deliveries(), []);
  });

  it('sends a PHP string as a JSON string, exactly as given', async () => {
    const c = await open();
    await c.subscribe('strings');
    const samples = ['plain', '', '{"looks":"like json"}', '[1,2,3]', '42', 'héllo ✓ 日本 🎉', 'quote " backslash \\ newline \n tab \t'];
    for (const s of samples) await server.publish('strings', s);
    for (const s of samples) {
      const m = await c.next((x) => x.type === 'message');
      assert.equal(m.channel, 'strings');
      assert.equal(typeof m.data, 'string');
      assert.equal(m.data, s);
    }
  });

  it('sends arrays, objects and scalars as their JSON encoding', async () => {
    const c = await open();
    await c.subscribe('values');
    const samples = [
      { user: 'ann', n: 1, tags: ['a', 'b'], nested: { ok: true, none: null } },
      [1, 'two', { three: 3 }],
      [],
      {},
      17,
      -2.5,
      true,
      false,
      null,
    ];
    for (const v of samples) await server.publish('values', v);
    for (const v of samples) {
      const m = await c.next((x) => x.type === 'message');
      assert.deepEqual(m, { type: 'message', channel: 'values', data: v });
    }
  });

  it('includes the event name when given and omits it otherwise', async () => {
    const c = await open();
    await c.subscribe('events');
    await server.publish('events', { id: 1 }, { event: 'order.created' });
    await server.publish('events', { id: 2 });
    const first = await c.next((x) => x.type === 'message');
    const second = await c.next((x) => x.type === 'message');
    assert.deepEqual(first, { type: 'message', channel: 'events', event: 'order.created', data: { id: 1 } });
    assert.deepEqual(second, { type: 'message', channel: 'events', data: { id: 2 } });
    assert.ok(!('event' in second));
  });

  it('keeps the order of 100 rapid broadcasts from separate requests', async () => {
    const a = await open();
    const b = await open();
    await a.subscribe('ordered');
    await b.subscribe('ordered');
    for (let i = 0; i < 100; i++) await server.publish('ordered', { i });
    for (const c of [a, b]) {
      const got = [];
      for (let i = 0; i < 100; i++) got.push((await c.next((x) => x.type === 'message')).data.i);
      assert.deepEqual(got, [...Array(100).keys()]);
    }
  });

  it('keeps the order of 1000 broadcasts made in one request', async () => {
    const c = await open();
    await c.subscribe('burst');
    await server.publish('burst', 'x', { count: 1000, seq: true });
    const got = [];
    for (let i = 0; i < 1000; i++) got.push((await c.next((x) => x.type === 'message')).data.seq);
    assert.deepEqual(got, [...Array(1000).keys()]);
  });

  it('stops delivery after unsubscribe', async () => {
    const leaver = await open();
    const stayer = await open();
    await leaver.subscribe('leaving');
    await stayer.subscribe('leaving');

    await server.publish('leaving', 'one');
    assert.equal((await leaver.next((x) => x.type === 'message')).data, 'one');
    assert.equal((await stayer.next((x) => x.type === 'message')).data, 'one');

    await leaver.unsubscribe('leaving');
    await server.publish('leaving', 'two');
    assert.equal((await stayer.next((x) => x.type === 'message')).data, 'two');
    await leaver.flush();
    assert.deepEqual(leaver.deliveries(), []);
  });

  it('delivers on each subscribed channel separately', async () => {
    const c = await open();
    await c.subscribe('multi-a');
    await c.subscribe('multi-b');
    await server.publish('multi-a', 'to a');
    await server.publish('multi-b', 'to b');
    await server.publish('multi-c', 'to nobody');
    const ma = await c.next((x) => x.type === 'message' && x.channel === 'multi-a');
    const mb = await c.next((x) => x.type === 'message' && x.channel === 'multi-b');
    assert.equal(ma.data, 'to a');
    assert.equal(mb.data, 'to b');
    await c.flush();
    assert.deepEqual(c.deliveries(), []);
  });

  it('subscribing twice to a channel delivers each message once', async () => {
    const c = await open();
    await c.subscribe('twice');
    await c.subscribe('twice');
    await server.publish('twice', 'once please');
    assert.equal((await c.next((x) => x.type === 'message')).data, 'once please');
    await c.flush();
    assert.deepEqual(c.deliveries(), []);
  });

  it('accepts channel names up to 200 bytes using every allowed character', async () => {
    const c = await open();
    const specials = 'Az09_-=@,.;:#';
    const long = 'x'.repeat(200);
    await c.subscribe(specials);
    await c.subscribe(long);
    await server.publish(specials, 's');
    await server.publish(long, 'l');
    assert.equal((await c.next((x) => x.type === 'message' && x.channel === specials)).data, 's');
    assert.equal((await c.next((x) => x.type === 'message' && x.channel === long)).data, 'l');
  });

  it('Realtime\\broadcast throws ValueError for bad channel names', async () => {
    for (const channel of ['', 'has space', 'brace{no}', 'é', 'x'.repeat(201)]) {
      const res = await server.publish(channel, 'x', { allowError: true });
      assert.equal(res.status, 500, `channel ${JSON.stringify(channel)}: ${res.body}`);
      assert.equal(res.json.ok, false);
      assert.equal(res.json.class, 'ValueError', `channel ${JSON.stringify(channel)}: ${res.body}`);
    }
  });

  it('Realtime\\broadcast throws Realtime\\Exception for data JSON cannot encode', async () => {
    const c = await open();
    await c.subscribe('bad-data');
    // A PHP string holding invalid UTF-8 cannot become a JSON string.
    const res = await server.publish('bad-data', null, { allowError: true, rawBody: 'channel=bad-data&message=%FF%FE' });
    assert.equal(res.status, 500, res.body);
    assert.equal(res.json.class, 'Realtime\\Exception', res.body);
    await c.flush();
    assert.deepEqual(c.deliveries(), []);
  });

  it('Realtime\\status() describes the running hub', async () => {
    const c = await open();
    await c.subscribe('status-check');
    const st = await server.status();
    assert.equal(st.running, true);
    assert.equal(st.pid, server.pid);
    assert.equal(st.listen, `127.0.0.1:${server.wsPort}`);
    assert.equal(typeof st.connections, 'number');
    assert.equal(typeof st.channels, 'number');
    assert.ok(st.connections >= 1);
    assert.ok(st.channels >= 1);
  });

  it('forgets a closed connection (health connection count drops)', async () => {
    const before = (await server.health()).connections;
    const c = await open();
    await waitFor(async () => (await server.health()).connections === before + 1, 5000, { message: 'count to rise' });
    c.close();
    await waitFor(async () => (await server.health()).connections === before, 5000, { message: 'count to drop' });
  });
});
