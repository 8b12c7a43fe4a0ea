// Server pings (4000 ping timeout) and the outbound queue limit (4008 slow
// consumer), each on its own server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OP, closeAll, connect, rawWebSocket, startServer, waitFor } from './lib/server.mjs';

describe('server pings (realtime.ping_interval=1)', () => {
  let server;
  const clients = [];

  before(async () => {
    server = await startServer({ ini: { ping_interval: 1 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('sends WebSocket pings every ping_interval and keeps clients that answer', async () => {
    const c = await connect(server.wsUrl); // ws answers pings by itself
    clients.push(c);
    await waitFor(() => c.pings >= 3, 8000, { message: 'three server pings' });
    assert.ok(c.isOpen);
    await c.flush();
  });

  it('closes a client that does not answer pings with 4000', async () => {
    const c = await connect(server.wsUrl, { autoPong: false });
    clients.push(c);
    let firstPing = 0;
    c.ws.once('ping', () => {
      firstPing = Date.now();
    });
    const info = await c.waitClose(8000);
    const closedAt = Date.now();
    assert.equal(info.code, 4000, `close code ${info.code} (${info.reason})`);
    assert.ok(firstPing > 0, 'the server pinged before closing');
    // Closed when the next ping is due: about one interval after the first.
    const gap = closedAt - firstPing;
    assert.ok(gap >= 500 && gap < 3000, `closed ${gap} ms after the first ping`);
  });

  it('a client answering pings by hand is kept too', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    raw.autoPong = true;
    await raw.nextJson((m) => m.type === 'connected');
    await waitFor(() => raw.all.filter((f) => f.opcode === OP.PING).length >= 3, 8000, { message: 'three pings' });
    assert.ok(!raw.ended);
    raw.sendJson({ action: 'ping', id: 'alive' });
    assert.deepEqual(await raw.nextJson((m) => m.type === 'pong'), { type: 'pong', id: 'alive' });
    raw.close();
  });
});

describe('slow consumers (realtime.max_outbound=262144)', () => {
  let server;
  const clients = [];

  before(async () => {
    // No pings here: the slow client stops reading, so it could not answer them.
    server = await startServer({ ini: { max_outbound: 262144, ping_interval: 0 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('closes a client that stops reading with 4008; a reading client gets everything', async () => {
    const healthy = await connect(server.wsUrl);
    clients.push(healthy);
    await healthy.subscribe('firehose');

    const slow = await rawWebSocket(server.wsPort);
    clients.push(slow);
    await slow.nextJson((m) => m.type === 'connected');
    slow.sendJson({ action: 'subscribe', channel: 'firehose', id: 's' });
    await slow.nextJson((m) => m.type === 'subscribed');
    slow.pause(); // nothing is read from now on: kernel buffers fill, then the hub's queue

    // One ~4 KB message per request, far under max_outbound: a reading
    // client that falls a little behind (a busy machine, a few publishes
    // handled in one hub loop turn) must stay well within the limit. Keep
    // going until the hub gives up on the slow client (bounded: 4000
    // messages, ~16 MB).
    //
    // A client that reads nothing can never receive the 4008 close frame:
    // it sits behind the data the kernel already holds. The hub waits a
    // short grace period for the close handshake, then drops the TCP
    // connection. So the slow client resumes reading as soon as the hub has
    // decided (its log says so), and must then find the 4008 close frame
    // after the data.
    const decided = () => /slow consumer/i.test(server.log);
    const pad = 'y'.repeat(4 * 1024);
    let sent = 0;
    const deadline = Date.now() + 30000;
    while (!decided() && healthy.isOpen && sent < 4000 && Date.now() < deadline) {
      await server.publish('firehose', { i: sent, pad });
      sent++;
    }
    await waitFor(decided, 5000, { message: `the hub to log a slow consumer after ${sent} messages` });
    slow.resume();
    const close = await slow.nextClose(10000);
    assert.equal(close.code, 4008, `close code ${close.code} (${close.reason})`);
    await slow.waitEnd(10000);
    assert.ok(healthy.isOpen, `the reading client was closed too: ${JSON.stringify(healthy.closeInfo)}`);

    // The reading subscriber got every message, in order, and is still open.
    for (let i = 0; i < sent; i++) {
      const m = await healthy.next((x) => x.type === 'message', 10000);
      assert.equal(m.data.i, i);
    }
    assert.ok(healthy.isOpen);
  });
});
