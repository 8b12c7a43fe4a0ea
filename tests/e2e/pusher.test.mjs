// Pusher Channels protocol 7 on /app/{key}: pusher-js 8 and Laravel Echo 2
// (in Node) against the hub, next to native clients on the same channels.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { OP, closeAll, connect, encodeFrame, rawWebSocket, waitFor } from './lib/server.mjs';
import {
  APP,
  Clients,
  PusherJS,
  Recorder,
  backend,
  nativeToken,
  once,
  phpBroadcast,
  startPusherServer,
  subscribed,
} from './pusher-helpers.mjs';

const appPath = (key = APP.key) => `/app/${key}?protocol=7&client=js&version=8.6.0&flash=false`;

/** A raw socket on /app/{key} past connection_established; resolves { ws, socketId }. */
async function rawPusher(server, key = APP.key) {
  const ws = await rawWebSocket(server.wsPort, { path: appPath(key) });
  const hello = await ws.nextJson((m) => m.event === 'pusher:connection_established');
  return { ws, socketId: JSON.parse(hello.data).socket_id, hello };
}

describe('Pusher protocol', () => {
  let server;
  const clients = new Clients();
  const raws = [];
  const natives = [];

  before(async () => {
    server = await startPusherServer();
  });
  after(async () => {
    clients.closeAll();
    for (const r of raws) r.close();
    closeAll(natives);
    await server?.stop();
  });

  it('greets with connection_established: a socket id and activity_timeout, data encoded as a string', async () => {
    const { ws, hello } = await rawPusher(server);
    raws.push(ws);
    assert.equal(typeof hello.data, 'string');
    const data = JSON.parse(hello.data);
    assert.match(data.socket_id, /^\d+\.\d+$/);
    assert.equal(data.activity_timeout, 25); // realtime.ping_interval
    ws.sendJson({ event: 'pusher:ping', data: {} });
    assert.equal((await ws.nextJson()).event, 'pusher:pong');
  });

  it('refuses an unknown app key with pusher:error 4001 and close code 4001', async () => {
    const ws = await rawWebSocket(server.wsPort, { path: appPath('wrong-key') });
    raws.push(ws);
    const first = await ws.nextJson();
    assert.equal(first.event, 'pusher:error');
    assert.equal(first.data.code, 4001);
    assert.equal((await ws.nextClose()).code, 4001);

    // pusher-js treats it as refused: an error with 4001, and no reconnect.
    const p = clients.add(new PusherJS('wrong-key', {
      cluster: 'mt1', wsHost: '127.0.0.1', wsPort: server.wsPort, forceTLS: false, enabledTransports: ['ws'],
    }));
    const err = await once(p.connection, 'error');
    assert.equal(err.error?.data?.code ?? err.data?.code, 4001);
    await waitFor(() => p.connection.state === 'disconnected' || p.connection.state === 'failed', 5000);
  });

  it('delivers Realtime\\broadcast() to pusher-js and native subscribers of a public channel', async () => {
    const p = await clients.pusher(server);
    const channel = p.subscribe('news');
    await subscribed(channel);
    const rec = new Recorder(channel);
    const native = await connect(server.wsUrl);
    natives.push(native);
    await native.subscribe('news');

    await phpBroadcast(server, { channel: 'news', message: { title: 'hello', n: 1 }, event: 'Published' });
    const got = await rec.next((e) => e.event === 'Published');
    assert.deepEqual(got.data, { title: 'hello', n: 1 });
    const nat = await native.next((m) => m.type === 'message');
    assert.deepEqual(nat, { type: 'message', channel: 'news', event: 'Published', data: { title: 'hello', n: 1 } });

    // No event name: pusher-js sees "message"; a string stays a string.
    await phpBroadcast(server, { channel: 'news', message: 'plain text' });
    const plain = await rec.next((e) => e.event === 'message');
    assert.equal(plain.data, 'plain text');
  });

  it('authorizes a private channel through the PHP endpoint (Echo .private().listen())', async () => {
    const echo = await clients.echo(server);
    const got = new Promise((resolve) => echo.private('orders').listen('.OrderShipped', resolve));
    await subscribed(echo.connector.pusher.channel('private-orders'));
    await phpBroadcast(server, { channel: 'private-orders', message: { id: 17 }, event: 'OrderShipped' });
    assert.deepEqual(await withDeadline(got), { id: 17 });
  });

  it('refuses a forged or replayed signature with pusher:subscription_error, which Echo .error() gets', async () => {
    // The endpoint signs for another socket id, as a replayed answer would be.
    const echo = await clients.echo(server, { authParams: { forge_socket_id: '1.1' } });
    const error = new Promise((resolve) => echo.private('vault').error(resolve));
    const e = await withDeadline(error);
    assert.equal(e.type, 'AuthError');
    assert.equal(e.status, 401);

    // By hand: a signature over another channel, a wrong key, no auth at all.
    const { ws, socketId } = await rawPusher(server);
    raws.push(ws);
    const sig = crypto.createHmac('sha256', APP.secret).update(`${socketId}:private-other`).digest('hex');
    const cases = [
      { channel: 'private-a', auth: `${APP.key}:${sig}` },
      { channel: 'private-b', auth: `wrong-key:${sig}` },
      { channel: 'private-c' },
      { channel: 'presence-d', auth: `${APP.key}:${sig}`, channel_data: '{"user_id":"1"}' },
    ];
    for (const data of cases) {
      ws.sendJson({ event: 'pusher:subscribe', data });
      const reply = await ws.nextJson((m) => m.channel === data.channel);
      assert.equal(reply.event, 'pusher:subscription_error', JSON.stringify(reply));
      assert.equal(reply.data.type, 'AuthError');
      assert.equal(reply.data.status, 401);
    }
    // The signature works for the channel it was made for, on the same socket.
    ws.sendJson({ event: 'pusher:subscribe', data: { channel: 'private-other', auth: `${APP.key}:${sig}` } });
    const ok = await ws.nextJson((m) => m.channel === 'private-other');
    assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
    assert.equal(ok.data, '{}');
  });

  it('presence: Echo here/joining/leaving, a user with two connections counted once', async () => {
    const ann = await clients.echo(server, { authParams: { user_id: 'u-ann', name: 'Ann' } });
    const bob1 = await clients.echo(server, { authParams: { user_id: 'u-bob', name: 'Bob' } });
    const bob2 = await clients.echo(server, { authParams: { user_id: 'u-bob', name: 'Bob' } });

    const joined = [];
    const left = [];
    const annHere = new Promise((resolve) =>
      ann.join('room').here(resolve).joining((u) => joined.push(u)).leaving((u) => left.push(u)),
    );
    assert.deepEqual(await withDeadline(annHere), [{ name: 'Ann' }]);

    const bobHere = new Promise((resolve) => bob1.join('room').here(resolve));
    const members = await withDeadline(bobHere);
    assert.deepEqual(members.map((m) => m.name).sort(), ['Ann', 'Bob']);
    await waitFor(() => joined.length === 1, 5000);
    assert.deepEqual(joined, [{ name: 'Bob' }]);

    // Bob's second tab: no second member_added, count stays 2.
    const bob2Here = new Promise((resolve) => bob2.join('room').here(resolve));
    assert.equal((await withDeadline(bob2Here)).length, 2);
    const annChannel = ann.connector.pusher.channel('presence-room');
    assert.equal(annChannel.members.count, 2);

    // One of Bob's tabs leaves: Bob is still there.
    bob2.leave('room');
    await sync(ann);
    assert.equal(left.length, 0);
    assert.equal(joined.length, 1);
    assert.equal(annChannel.members.count, 2);

    // The last one leaves: leaving() with Bob's info.
    bob1.disconnect();
    await waitFor(() => left.length === 1, 5000);
    assert.deepEqual(left, [{ name: 'Bob' }]);
    assert.equal(annChannel.members.count, 1);
  });

  it('whispers between Echo clients, not back to the sender; presence whispers carry user_id', async () => {
    const a = await clients.echo(server, { authParams: { user_id: 'w-a', name: 'A' } });
    const b = await clients.echo(server, { authParams: { user_id: 'w-b', name: 'B' } });
    const aChan = a.private('chat');
    const bGot = new Promise((resolve) => b.private('chat').listenForWhisper('typing', resolve));
    const aGot = [];
    aChan.listenForWhisper('typing', (d) => aGot.push(d));
    await subscribed(a.connector.pusher.channel('private-chat'));
    await subscribed(b.connector.pusher.channel('private-chat'));
    aChan.whisper('typing', { who: 'a' });
    assert.deepEqual(await withDeadline(bGot), { who: 'a' });
    await sync(a);
    assert.equal(aGot.length, 0);

    // Presence: pusher-js passes the sender's user_id as metadata.
    a.join('lobby');
    b.join('lobby');
    const aPresence = a.connector.pusher.channel('presence-lobby');
    const bPresence = b.connector.pusher.channel('presence-lobby');
    await subscribed(aPresence);
    await subscribed(bPresence);
    const meta = new Promise((resolve) => bPresence.bind('client-wave', (data, metadata) => resolve({ data, metadata })));
    aPresence.trigger('client-wave', { hi: true });
    const got = await withDeadline(meta);
    assert.deepEqual(got.data, { hi: true });
    assert.equal(got.metadata.user_id, 'w-a');
  });

  it('rejects client events on public channels, unsubscribed channels and over the rate limit', async () => {
    const p = await clients.pusher(server);
    const pub = p.subscribe('public-chat');
    await subscribed(pub);
    const errors = [];
    p.connection.bind('error', (e) => errors.push(e));
    pub.trigger('client-nope', { x: 1 });
    await waitFor(() => errors.length === 1, 5000);
    assert.equal(errors[0].type, 'PusherError');
    assert.match(errors[0].data.message, /private and presence/);

    // By hand: a channel the socket is not subscribed to, then a burst over
    // realtime.client_event_rate (10 per second).
    const { ws: sender, socketId } = await rawPusher(server);
    const { ws: receiver, socketId: receiverId } = await rawPusher(server);
    raws.push(sender, receiver);
    sender.sendJson({ event: 'client-x', channel: 'private-burst', data: {} });
    const notSubscribed = await sender.nextJson((m) => m.event === 'pusher:error');
    assert.match(notSubscribed.data.message, /subscribe/);
    for (const [ws, id] of [[sender, socketId], [receiver, receiverId]]) {
      const auth = `${APP.key}:${crypto.createHmac('sha256', APP.secret).update(`${id}:private-burst`).digest('hex')}`;
      ws.sendJson({ event: 'pusher:subscribe', data: { channel: 'private-burst', auth } });
      assert.equal((await ws.nextJson((m) => m.channel === 'private-burst')).event, 'pusher_internal:subscription_succeeded');
    }
    // One TCP write: the hub reads it in one loop turn, so the bucket
    // (refilled on the once-a-second tick) cannot refill in the middle.
    const burst = Array.from({ length: 14 }, (_, i) =>
      encodeFrame({ opcode: OP.TEXT, payload: JSON.stringify({ event: 'client-burst', channel: 'private-burst', data: { i } }) }),
    );
    sender.send(Buffer.concat(burst));
    sender.sendJson({ event: 'pusher:ping', data: {} });
    await sender.nextJson((m) => m.event === 'pusher:pong');
    const limited = sender.frames.filter((f) => f.json?.event === 'pusher:error' && f.json.data.code === 4301).length;
    assert.equal(limited, 4, 'a full bucket (realtime.client_event_rate=10) takes 10 of the 14 events');
    receiver.sendJson({ event: 'pusher:ping', data: {} });
    await receiver.nextJson((m) => m.event === 'pusher:pong');
    const delivered = receiver.all.filter((f) => f.json?.event === 'client-burst');
    assert.equal(delivered.length + limited, 14);
    assert.deepEqual(delivered[0].json, { event: 'client-burst', channel: 'private-burst', data: { i: 0 } });
  });

  it('signs a user in: user.bind() gets the SDK\'s sendToUser and Realtime\\broadcastToUser()', async () => {
    const p = await clients.pusher(server, { userParams: { user_id: 'u-sign', name: 'Sig' } });
    p.signin();
    await waitFor(() => p.user.serverToUserChannel?.subscribed, 5000, { message: 'signin and #server-to-user- subscription' });
    assert.equal(p.user.user_data.id, 'u-sign');
    const rec = new Recorder(p.user);

    await backend(server).sendToUser('u-sign', 'notice', { text: 'from the SDK' });
    const fromSdk = await rec.next((e) => e.event === 'notice');
    assert.deepEqual(fromSdk.data, { text: 'from the SDK' });

    await phpBroadcast(server, { user: 'u-sign', message: { text: 'from PHP' }, event: 'notice' });
    const fromPhp = await rec.next((e) => e.event === 'notice');
    assert.deepEqual(fromPhp.data, { text: 'from PHP' });

    // Another user's channel is refused; an unsigned socket has none.
    const { ws } = await rawPusher(server);
    raws.push(ws);
    ws.sendJson({ event: 'pusher:subscribe', data: { channel: '#server-to-user-u-sign', auth: '' } });
    const refused = await ws.nextJson((m) => m.channel === '#server-to-user-u-sign');
    assert.equal(refused.event, 'pusher:subscription_error');
    assert.equal(refused.data.status, 403);
  });

  it('closes a sign-in with a bad signature with 4009', async () => {
    const { ws } = await rawPusher(server);
    raws.push(ws);
    ws.sendJson({ event: 'pusher:signin', data: { auth: `${APP.key}:${'0'.repeat(64)}`, user_data: '{"id":"x"}' } });
    const err = await ws.nextJson((m) => m.event === 'pusher:error');
    assert.equal(err.data.code, 4009);
    assert.equal((await ws.nextClose()).code, 4009);
  });

  it('puts native and pusher-js members of one presence channel in the same member list', async () => {
    const token = nativeToken('n-1', { info: { name: 'Native' }, channels: ['presence-mixed'] });
    const native = await connect(`${server.wsUrl}?token=${token}`);
    natives.push(native);
    const sub = await native.subscribe('presence-mixed');
    assert.deepEqual(sub.members, [{ id: 'n-1', info: { name: 'Native' } }]);

    const echo = await clients.echo(server, { authParams: { user_id: 'p-1', name: 'Pusher' } });
    const here = new Promise((resolve) => echo.join('mixed').here(resolve));
    assert.deepEqual((await withDeadline(here)).map((m) => m.name).sort(), ['Native', 'Pusher']);
    const added = await native.next((m) => m.type === 'member_added');
    assert.deepEqual(added.member, { id: 'p-1', info: { name: 'Pusher' } });

    // Whispers cross protocols: client-wave <-> the native whisper "wave".
    const channel = echo.connector.pusher.channel('presence-mixed');
    channel.trigger('client-wave', { from: 'pusher' });
    const w = await native.next((m) => m.type === 'whisper');
    assert.equal(w.event, 'wave');
    assert.deepEqual(w.data, { from: 'pusher' });
    assert.equal(w.from.user_id, 'p-1');
    const back = new Promise((resolve) => channel.bind('client-wave', (data, meta) => resolve({ data, meta })));
    native.send({ action: 'whisper', channel: 'presence-mixed', event: 'wave', data: { from: 'native' } });
    const got = await withDeadline(back);
    assert.deepEqual(got.data, { from: 'native' });
    assert.equal(got.meta.user_id, 'n-1');

    // The native member leaves: pusher-js gets member_removed.
    const leaving = new Promise((resolve) => echo.join('mixed').leaving(resolve));
    native.close();
    assert.deepEqual(await withDeadline(leaving), { name: 'Native' });
  });
});

describe('Pusher close codes', () => {
  let server;
  before(async () => {
    server = await startPusherServer({ ping_interval: 1 });
  });
  after(async () => {
    await server?.stop();
  });

  it('closes a Pusher client that does not answer pings with 4201, not the native 4000', async () => {
    const ws = await rawWebSocket(server.wsPort, { path: appPath() });
    try {
      const hello = await ws.nextJson((m) => m.event === 'pusher:connection_established');
      assert.equal(JSON.parse(hello.data).activity_timeout, 1);
      const close = await ws.nextClose(6000);
      assert.equal(close.code, 4201);
    } finally {
      ws.close();
    }
  });

  it('closes Pusher clients with 4200 (reconnect at once) when the server stops, natives with 1001', async () => {
    const ws = await rawWebSocket(server.wsPort, { path: appPath() });
    const native = await rawWebSocket(server.wsPort);
    try {
      ws.autoPong = true;
      native.autoPong = true;
      await ws.nextJson((m) => m.event === 'pusher:connection_established');
      await native.nextJson((m) => m.type === 'connected');
      server.signal('SIGINT');
      assert.equal((await ws.nextClose(5000)).code, 4200);
      assert.equal((await native.nextClose(5000)).code, 1001);
    } finally {
      ws.close();
      native.close();
    }
  });
});

/** Awaits a promise with a 5 s deadline. */
function withDeadline(promise, ms = 5000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A round trip through the hub on an Echo client's connection: anything the
 * hub sent it before has arrived once a fresh subscription is acknowledged.
 */
async function sync(echo) {
  const p = echo.connector.pusher;
  const name = `sync-${Math.random().toString(36).slice(2)}`;
  const channel = p.subscribe(name);
  await subscribed(channel);
  p.unsubscribe(name);
}
