// The JavaScript client's recovery (issue 14) against php -S with history
// (realtime.history): positions from the subscribed reply and each message;
// a publisher at 50 messages a second while the client's connection is cut
// again and again and once goes dead (only its pings notice): the app gets
// every message exactly once and in order (compared with Realtime\history());
// a client away longer than the history holds gets `unrecovered` and goes on
// from the current position; `since` from a page rendered "as of" a position.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, waitFor } from './lib/server.mjs';
import {
  compareWithHistory,
  connected,
  history,
  numberedPublisher,
  recordedClient,
  recordedSubscription,
  subscribed,
  tcpProxy,
} from './lib/jsclient.mjs';

describe('JavaScript client: recovery (php -S, memory broker)', () => {
  let server;
  let proxy;
  const clients = [];
  const viaProxy = () => `ws://127.0.0.1:${proxy.port}/ws`;
  const get = (q) => server.http(q);

  before(async () => {
    server = await startServer({ ini: { history: '"chat-*:10000:600 short-*:5:600"' } });
    proxy = await tcpProxy(server.wsPort);
  });
  after(async () => {
    for (const c of clients) c.close();
    await proxy?.close();
    await server?.stop();
  });

  it('knows its position from the subscribed reply and from each message', async () => {
    const rec = recordedClient(server.wsUrl);
    clients.push(rec.client);
    const sub = recordedSubscription(rec.client, 'chat-pos');
    await subscribed(sub);
    assert.equal(sub.position.offset, 0);
    assert.match(sub.position.epoch, /^[0-9a-f]{16}$/);
    await server.publish('chat-pos', { n: 1 });
    await server.publish('chat-pos', { n: 2 });
    await waitFor(() => sub.got.length === 2, 5000);
    assert.deepEqual(sub.position, { offset: 2, epoch: sub.position.epoch });
    assert.deepEqual(sub.log.filter((e) => e.name === 'message').map((e) => e.offset), [1, 2]);
  });

  it('gets every message exactly once and in order through cuts and a dead connection, at 50 msg/s', async (t) => {
    const rec = recordedClient(viaProxy(), { pingInterval: 300, pongTimeout: 300 });
    clients.push(rec.client);
    const sub = recordedSubscription(rec.client, 'chat-live');
    await subscribed(sub);
    const start = { ...sub.position };
    const pub = numberedPublisher((ch, data) => server.publish(ch, data), 'chat-live', 50);
    const connects = () => rec.states.filter((s) => s === 'connected').length;
    try {
      for (let i = 0; i < 4; i++) {
        await waitFor(() => pub.count >= 50 * (i + 1) && sub.got.length >= pub.count - 5, 10000, { message: 'messages to flow' });
        const before = connects();
        if (i === 2) {
          // A dead path: the client's pings notice within 600 ms.
          proxy.blackhole(true);
          await waitFor(() => rec.events.some((e) => e.name === 'disconnected' && e.code === 4000), 5000);
          proxy.blackhole(false);
        } else {
          // Away while 10 messages are published: the replay must bring them.
          proxy.refuse(true);
          proxy.cut();
          const at = pub.count;
          await waitFor(() => pub.count >= at + 10, 5000).finally(() => proxy.refuse(false));
        }
        await waitFor(() => connects() > before && sub.state === 'subscribed', 10000, { message: 'the client to be back' });
      }
    } finally {
      var published = await pub.stop();
    }
    const top = (await history(get, 'chat-live', { limit: 1 })).at(-1);
    await waitFor(() => sub.position.offset === top.offset, 10000, { message: `the client to reach offset ${top.offset}` });
    const messages = await history(get, 'chat-live', { since: start });
    t.diagnostic(`${published} published, ${sub.got.length} handed over, ${rec.states.filter((s) => s === 'connected').length} connections`);
    assert.deepEqual(compareWithHistory(sub, messages, start), []);
    assert.ok(published >= 200, `only ${published} published`);
    const subs = sub.log.filter((e) => e.name === 'subscribed').map((e) => e.info);
    assert.equal(subs.length, 5);
    assert.ok(subs.slice(1).every((s) => s.wasRecovering && s.recovered === true), JSON.stringify(subs));
    assert.equal(sub.log.filter((e) => e.name === 'unrecovered').length, 0);
    assert.deepEqual(pub.errors, []);
  });

  it('reports unrecovered when it was away longer than the history, and goes on', async () => {
    const rec = recordedClient(viaProxy());
    clients.push(rec.client);
    const sub = recordedSubscription(rec.client, 'short-away');
    await subscribed(sub);
    await server.publish('short-away', { n: 1 });
    await waitFor(() => sub.got.length === 1, 5000);

    proxy.refuse(true);
    proxy.cut();
    try {
      await waitFor(() => rec.client.state === 'disconnected', 5000);
      for (let n = 2; n <= 12; n++) await server.publish('short-away', { n }); // 5 are kept
    } finally {
      proxy.refuse(false);
    }
    await waitFor(() => sub.log.some((e) => e.name === 'unrecovered'), 10000, { message: 'an unrecovered event' });
    const info = sub.log.find((e) => e.name === 'unrecovered').info;
    assert.equal(info.wasRecovering, true);
    assert.equal(info.recovered, false);
    assert.equal(sub.position.offset, 12);
    assert.deepEqual(sub.got, [{ n: 1 }], 'nothing of a gap is replayed');
    await server.publish('short-away', { n: 13 });
    await waitFor(() => sub.got.length === 2, 5000);
    assert.deepEqual(sub.got, [{ n: 1 }, { n: 13 }]);
  });

  it('starts from `since` (a page rendered as of a position) and gets the rest once', async () => {
    for (let n = 1; n <= 10; n++) await server.publish('chat-since', { n });
    const page = await history(get, 'chat-since', { limit: 4 }); // what a page showed: 7..10 of 10
    // The page was rendered as of message 8; 9, 10 and later come from the hub.
    const asOf = page[1];
    assert.deepEqual(asOf.data, { n: 8 });
    const rec = recordedClient(server.wsUrl);
    clients.push(rec.client);
    const sub = recordedSubscription(rec.client, 'chat-since', { since: { offset: asOf.offset, epoch: asOf.epoch } });
    await subscribed(sub);
    await server.publish('chat-since', { n: 11 });
    await waitFor(() => sub.got.length === 3, 5000);
    assert.deepEqual(sub.got, [{ n: 9 }, { n: 10 }, { n: 11 }]);
    const s = sub.log.find((e) => e.name === 'subscribed').info;
    assert.equal(s.recovered, true);
    await connected(rec);
  });
});
