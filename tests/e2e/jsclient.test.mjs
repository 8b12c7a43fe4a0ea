// The JavaScript client (clients/js/realtime.js) in Node against php -S:
// connection states and their events, reconnect with resubscribe after a cut
// socket (through a TCP proxy) and after a dead path that only its pings
// notice, presence members kept up to date across a reconnect, whispers,
// direct messages, and auth failures that end the client instead of looping.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, waitFor } from './lib/server.mjs';
import { call } from './lib/identity.mjs';
import {
  UnauthorizedError,
  connected,
  recordedClient,
  recordedSubscription,
  subscribed,
  tcpProxy,
  token,
} from './lib/jsclient.mjs';

const SECRET = 'jsclient-secret-0123456789abcdef';

describe('JavaScript client (php -S)', () => {
  let server;
  let proxy;
  const clients = [];
  const open = (rec) => (clients.push(rec.client), rec);
  const viaProxy = () => `ws://127.0.0.1:${proxy.port}/ws`;

  before(async () => {
    server = await startServer({ ini: { secret: SECRET, client_events: 1 } });
    proxy = await tcpProxy(server.wsPort);
  });
  after(async () => {
    for (const c of clients) c.close();
    await proxy?.close();
    await server?.stop();
  });

  it('goes connecting -> connected with a connection id, and closed on close()', async () => {
    const rec = open(recordedClient(server.wsUrl, { token: token(SECRET, 'ann') }));
    assert.equal(rec.client.state, 'closed'); // connects on the next tick
    await connected(rec);
    assert.match(rec.client.connectionId, /^\d+\.\d+$/);
    assert.equal(rec.client.userId, 'ann');
    assert.equal(rec.client.transport, 'websocket');
    rec.client.close();
    assert.deepEqual(rec.states, ['connecting', 'connected', 'closed']);
    assert.equal(rec.client.connectionId, null);
  });

  it('reconnects after its socket is cut, resubscribes, and gets what is published next', async () => {
    const rec = open(recordedClient(viaProxy(), { token: token(SECRET, 'bob') }));
    const sub = recordedSubscription(rec.client, 'news');
    await subscribed(sub);
    await server.publish('news', { n: 1 });
    await waitFor(() => sub.got.length === 1, 5000);
    const firstId = rec.client.connectionId;

    assert.equal(proxy.cut(), 1);
    await waitFor(() => rec.states.includes('disconnected'), 5000);
    assert.equal(sub.state === 'subscribing' || sub.state === 'subscribed', true);
    await connected(rec);
    await subscribed(sub);
    assert.notEqual(rec.client.connectionId, firstId);
    const drop = rec.events.find((e) => e.name === 'disconnected');
    assert.equal(drop.code, 1006);
    assert.ok(drop.delay >= 50 && drop.delay <= 500, `backoff ${drop.delay} within the bounds`);

    // A channel without history cannot recover: the app is told to refetch.
    const unrec = sub.log.filter((e) => e.name === 'unrecovered');
    assert.equal(unrec.length, 1);
    assert.equal(unrec[0].info.wasRecovering, true);
    assert.equal(unrec[0].info.recovered, false);

    await server.publish('news', { n: 2 });
    await waitFor(() => sub.got.length === 2, 5000);
    assert.deepEqual(sub.got, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(rec.states, ['connecting', 'connected', 'disconnected', 'connecting', 'connected']);
  });

  it('notices a dead connection from its pings and reconnects', async () => {
    const rec = open(recordedClient(viaProxy(), { token: token(SECRET, 'cy'), pingInterval: 300, pongTimeout: 300 }));
    const sub = recordedSubscription(rec.client, 'pings');
    await subscribed(sub);
    proxy.blackhole(true);
    const t0 = Date.now();
    try {
      await waitFor(() => rec.events.some((e) => e.name === 'disconnected' && e.code === 4000), 5000);
    } finally {
      proxy.blackhole(false);
    }
    const took = Date.now() - t0;
    assert.ok(took <= 300 + 300 + 900, `dead connection noticed after ${took} ms (bound: pingInterval + pongTimeout, 600)`);
    await connected(rec);
    await subscribed(sub);
    await server.publish('pings', 'after');
    await waitFor(() => sub.got.includes('after'), 5000);
  });

  it('keeps presence members up to date, across a reconnect too', async () => {
    const a = open(recordedClient(viaProxy(), { token: token(SECRET, 'ann', { name: 'Ann' }) }));
    const b = open(recordedClient(server.wsUrl, { token: token(SECRET, 'bo', { name: 'Bo' }) }));
    const sa = recordedSubscription(a.client, 'presence-room');
    await subscribed(sa);
    assert.deepEqual([...sa.members.keys()], ['ann']);
    const sb = recordedSubscription(b.client, 'presence-room');
    await subscribed(sb);
    await waitFor(() => sa.members.has('bo'), 5000);
    assert.deepEqual(sa.members.get('bo'), { name: 'Bo' });
    assert.deepEqual([...sb.members.keys()].sort(), ['ann', 'bo']);
    assert.deepEqual(sa.log.filter((e) => e.name === 'join').map((e) => e.info.id), ['bo']);

    // Bo leaves while Ann is cut off: her resubscribe reports it as a leave.
    proxy.cut();
    await waitFor(() => a.client.state !== 'connected', 5000);
    b.client.close();
    // Whether Bo's leave reaches the hub before or after Ann's resubscribe,
    // she gets exactly one leave (from the member list or a member_removed).
    await connected(a);
    await subscribed(sa);
    await waitFor(() => !sa.members.has('bo'), 5000);
    assert.deepEqual(sa.log.filter((e) => e.name === 'leave').map((e) => e.info.id), ['bo']);
    assert.deepEqual([...sa.members.keys()], ['ann']);

    // And a live member_removed.
    const c = open(recordedClient(server.wsUrl, { token: token(SECRET, 'cy') }));
    const sc = recordedSubscription(c.client, 'presence-room');
    await subscribed(sc);
    await waitFor(() => sa.members.has('cy'), 5000);
    sc.unsubscribe();
    assert.equal(sc.state, 'unsubscribed');
    await waitFor(() => !sa.members.has('cy'), 5000);
  });

  it('whispers to the other subscribers, and reports a refused whisper', async () => {
    const a = open(recordedClient(server.wsUrl, { token: token(SECRET, 'wa') }));
    const b = open(recordedClient(server.wsUrl, { token: token(SECRET, 'wb') }));
    const sa = recordedSubscription(a.client, 'private-chat');
    const sb = recordedSubscription(b.client, 'private-chat');
    await subscribed(sa);
    await subscribed(sb);
    assert.equal(sa.whisper('typing', { on: true }), true);
    await waitFor(() => sb.log.some((e) => e.name === 'whisper'), 5000);
    const w = sb.log.find((e) => e.name === 'whisper').info;
    assert.deepEqual(w, { event: 'typing', data: { on: true }, from: { connection_id: a.client.connectionId, user_id: 'wa' } });
    assert.equal(sa.log.some((e) => e.name === 'whisper'), false);

    const pub = recordedSubscription(a.client, 'public-room');
    await subscribed(pub);
    pub.whisper('typing');
    await waitFor(() => pub.log.some((e) => e.name === 'error'), 5000);
    assert.equal(pub.log.find((e) => e.name === 'error').info.code, 'forbidden');
  });

  it('gets direct messages (Realtime\\send) as client "message" events', async () => {
    const rec = open(recordedClient(server.wsUrl, { token: token(SECRET, 'dm') }));
    await connected(rec);
    await call(server, 'send', rec.client.connectionId, { hello: 1 }, 'note');
    await waitFor(() => rec.events.some((e) => e.name === 'direct'), 5000);
    const d = rec.events.find((e) => e.name === 'direct');
    assert.deepEqual(d.data, { hello: 1 });
    assert.equal(d.msg.event, 'note');
  });

  it('a refused subscription ends with an error instead of retrying', async () => {
    const rec = open(recordedClient(server.wsUrl, {}));
    const sub = recordedSubscription(rec.client, 'private-secret');
    await waitFor(() => sub.state === 'unsubscribed', 5000);
    assert.equal(sub.log.find((e) => e.name === 'error').info.code, 'forbidden');
    assert.equal(rec.client.subscription('private-secret'), null);
  });

  it('does not loop on auth failures: a bad token, a token function that says unauthorized, disconnectUser()', async () => {
    // A forged token: 401 at the upgrade; one attempt, then closed.
    const bad = open(recordedClient(server.wsUrl, { token: token('another-secret-0123456789', 'eve') }));
    await waitFor(() => bad.states.includes('closed'), 5000);
    assert.deepEqual(bad.states, ['connecting', 'closed']);
    assert.equal(bad.events.at(-1).status, 401);

    // A token function: called before each connect; UnauthorizedError ends it.
    let calls = 0;
    const fn = open(
      recordedClient(server.wsUrl, {
        token: async () => {
          calls++;
          throw new UnauthorizedError('logged out');
        },
      }),
    );
    await waitFor(() => fn.states.includes('closed'), 5000);
    assert.equal(calls, 1);
    assert.deepEqual(fn.states, ['connecting', 'closed']);

    // Any other failure of the function is retried, with a fresh call each time.
    let n = 0;
    const flaky = open(
      recordedClient(server.wsUrl, {
        token: async () => {
          if (++n < 3) throw new Error('token page down');
          return token(SECRET, 'flaky');
        },
      }),
    );
    await connected(flaky);
    assert.equal(n, 3);

    // disconnectUser(): 4009, closed; no reconnect.
    const kicked = open(recordedClient(server.wsUrl, { token: token(SECRET, 'kicked') }));
    await connected(kicked);
    await call(server, 'disconnectUser', 'kicked');
    await waitFor(() => kicked.client.state === 'closed', 5000);
    assert.equal(kicked.events.at(-1).code, 4009);
    assert.deepEqual(kicked.states, ['connecting', 'connected', 'closed']);
    // connect() again is the app's decision; it works.
    kicked.client.connect();
    await connected(kicked);
  });
});
