// Bounded resources: what one client (or a flood of them) may cost a hub.
// Each limit is driven past its setting against a real php -S with the hub:
// the client over it is refused (closed, 503, or the protocol's error), the
// refusal is counted in Realtime\status() and logged with its reason, and
// other clients keep working.
//
//   realtime.max_connections_per_ip   IPv4 loopback, and ::1 next to 127.0.0.1
//   realtime.max_handshakes           half-open connections that never send a request
//   realtime.handshake_timeout        trickled bytes; /health kept alive does not renew it
//   realtime.max_auth_calls           a slow auth endpoint sees at most N requests at once
//   realtime.subscribe_rate           native and Pusher
//   realtime.max_subscriptions        counted, in both protocols
//   realtime.max_channels, realtime.max_presence_members
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, startServer, waitFor, withTimeout } from './lib/server.mjs';
import { issueToken, connectWithToken, upgrade } from './lib/identity.mjs';
import { APP, startPusherServer } from './pusher-helpers.mjs';

/** Starts a hub, runs fn(hub), stops it. */
async function withHub(options, fn) {
  const hub = await startServer(options);
  try {
    return await fn(hub);
  } finally {
    await hub.stop();
  }
}

/** A TCP connection to host:port, resolved once connected; records what comes back. */
function openSocket(port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.received = '';
    sock.closedAt = null;
    sock.whenClosed = new Promise((res) => sock.on('close', () => {
      sock.closedAt = Date.now();
      res();
    }));
    sock.on('data', (c) => { sock.received += c.toString('latin1'); });
    sock.on('error', () => {}); // a reset is one of the answers tested for
    sock.once('connect', () => resolve(sock));
    sock.once('error', reject);
  });
}

/** Resolves true when sock is closed by the peer within ms, false otherwise. */
async function closedWithin(sock, ms) {
  try {
    await withTimeout(sock.whenClosed, ms, 'socket close');
    return true;
  } catch {
    return false;
  }
}

/** Whether a WebSocket client can open (and get "connected") now. */
async function canConnect(url, opts = {}) {
  try {
    const c = await connect(url, { timeout: 2000, ...opts });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** A Realtime\status() counter, read from the PHP side of the server. */
async function counter(server, key) {
  const s = await server.status();
  assert.ok(key in s, `Realtime\\status() has no "${key}": ${JSON.stringify(s)}`);
  return s[key];
}

describe('realtime.max_connections_per_ip', () => {
  it('closes an IPv4 address\'s connection past the limit before reading it, and admits it again once one closes', async () => {
    await withHub({ ini: { max_connections_per_ip: 3, handshake_timeout: 30 } }, async (server) => {
      const clients = [];
      try {
        for (let i = 0; i < 3; i++) clients.push(await connect(server.wsUrl));
        // The fourth is closed at once, with nothing written to it, long
        // before its handshake deadline.
        const extra = await openSocket(server.wsPort);
        assert.ok(await closedWithin(extra, 3000), 'the connection over the limit stayed open');
        assert.equal(extra.received, '');
        assert.equal(await canConnect(server.wsUrl), false);
        // Open clients are not disturbed.
        await clients[0].subscribe('per-ip');
        assert.ok(await counter(server, 'refused_per_ip') >= 2);
        assert.match(server.log, /refused a connection from 127\.0\.0\.1: it has 3 connections \(realtime\.max_connections_per_ip\)/);
        // A slot is freed by a close.
        clients.pop().close();
        await waitFor(() => canConnect(server.wsUrl), 5000, { interval: 100, message: 'a connection after one closed' });
      } finally {
        closeAll(...clients);
      }
    });
  });

  it('counts ::1 and 127.0.0.1 as different clients on a dual-stack listener', async () => {
    // Not skipped without IPv6: a machine without ::1 on its loopback fails
    // here, saying so.
    await new Promise((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', (err) => reject(new Error(`this test needs IPv6 on the loopback (::1): ${err.message}`)));
      probe.listen(0, '::1', () => probe.close(resolve));
    });
    await withHub({ ini: { max_connections_per_ip: 2, listen: ({ wsPort }) => `[::]:${wsPort}` } }, async (server) => {
      const v6Url = `ws://[::1]:${server.wsPort}/ws`;
      const clients = [];
      try {
        clients.push(await connect(v6Url), await connect(v6Url));
        const extra = await openSocket(server.wsPort, '::1');
        assert.ok(await closedWithin(extra, 3000), 'the third ::1 connection stayed open');
        assert.equal(extra.received, '');
        // IPv4 (an IPv4-mapped address on this socket) has its own count.
        clients.push(await connect(server.wsUrl), await connect(server.wsUrl));
        assert.equal(await canConnect(server.wsUrl), false);
        assert.match(server.log, /refused a connection from ::\/64: it has 2 connections/);
        assert.ok(await counter(server, 'refused_per_ip') >= 2);
      } finally {
        closeAll(...clients);
      }
    });
  });
});

describe('realtime.max_handshakes', () => {
  it('closes new connections while N half-open ones hold the handshake slots; a client connects once they drop', async () => {
    await withHub({ ini: { max_handshakes: 5, handshake_timeout: 30 } }, async (server) => {
      // Six connections that never send a request. The hub may take them in
      // any order (it listens on more than one socket): whichever five it
      // takes first hold the slots, and the sixth is closed at once, with
      // nothing written to it, long before the handshake deadline.
      const idle = [];
      for (let i = 0; i < 6; i++) idle.push(await openSocket(server.wsPort));
      try {
        await waitFor(() => idle.some((s) => s.closedAt !== null), 3000,
          { message: 'one connection past max_handshakes closed' });
        const refused = idle.filter((s) => s.closedAt !== null);
        assert.equal(refused.length, 1);
        assert.equal(refused[0].received, '');
        // A client cannot get in while the five are held.
        assert.equal(await canConnect(server.wsUrl), false);
        assert.equal(idle.filter((s) => s.closedAt !== null).length, 1, 'a held handshake was closed');
        assert.ok(await counter(server, 'refused_handshakes') >= 2);
        assert.match(server.log, /refused a connection: 5 connections are in their handshake \(realtime\.max_handshakes\)/);
      } finally {
        for (const s of idle) s.destroy();
      }
      await waitFor(() => canConnect(server.wsUrl), 5000, { interval: 100, message: 'a connection once the half-open ones dropped' });
      // An upgraded connection no longer counts: five open clients and one more.
      const open = [];
      try {
        for (let i = 0; i < 6; i++) open.push(await connect(server.wsUrl));
      } finally {
        closeAll(...open);
      }
    });
  });
});

describe('realtime.handshake_timeout', () => {
  let server;
  before(async () => {
    server = await startServer({ ini: { handshake_timeout: 2 } });
  });
  after(async () => {
    await server?.stop();
  });

  it('closes a connection that trickles a request head a byte at a time', async () => {
    const before = await counter(server, 'handshake_timeouts');
    const sock = await openSocket(server.wsPort);
    const head = Buffer.from(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(200)}`);
    let i = 0;
    const timer = setInterval(() => {
      if (i < head.length && !sock.destroyed) sock.write(head.subarray(i, ++i));
    }, 100);
    try {
      const started = Date.now();
      assert.ok(await closedWithin(sock, 6000), 'a trickling connection outlived the deadline');
      assert.ok(sock.closedAt - started <= 4500, `closed after ${sock.closedAt - started} ms`);
      assert.equal(sock.received, '');
    } finally {
      clearInterval(timer);
      sock.destroy();
    }
    assert.ok(await counter(server, 'handshake_timeouts') > before);
    assert.match(server.log, /no complete request within 2 seconds \(realtime\.handshake_timeout\)/);
  });

  it('does not renew the deadline for kept-alive requests that need no credentials (/health); an upgraded session outlives it', async () => {
    const ws = await connect(server.wsUrl);
    const sock = await openSocket(server.wsPort);
    const started = Date.now();
    const request = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    // A whole /health request every 400 ms, each answered and kept alive.
    const timer = setInterval(() => {
      if (!sock.destroyed) sock.write(request);
    }, 400);
    try {
      assert.ok(await closedWithin(sock, 8000), 'kept-alive /health requests held the connection open');
      assert.ok(sock.closedAt - started <= 4500, `closed after ${sock.closedAt - started} ms`);
      // It was answered while it lasted, and kept alive.
      assert.match(sock.received, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(sock.received, /Connection: keep-alive/);
      assert.ok(sock.received.split('HTTP/1.1 200').length - 1 >= 2);
      // The WebSocket session opened before it, past the same deadline, is
      // untouched: the deadline is the handshake's only.
      await ws.flush();
      assert.ok(ws.isOpen);
    } finally {
      clearInterval(timer);
      sock.destroy();
      ws.close();
    }
  });
});

describe('realtime.max_auth_calls', () => {
  it('answers 503 with Retry-After past N calls in flight; the endpoint never sees more than N at once', async () => {
    const held = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let seen = 0;
    let holdNew = true;
    const endpoint = http.createServer((req, res) => {
      seen++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const answer = () => {
        inFlight--;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ user_id: `u${seen}` }));
      };
      if (holdNew) held.push(answer);
      else answer();
    });
    await new Promise((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${endpoint.address().port}/auth`;
    try {
      await withHub({ ini: { auth_endpoint: url, auth_timeout: 20000, allow_anonymous: 0, max_auth_calls: 3, handshake_timeout: 30 } }, async (server) => {
        const upgrades = [];
        for (let i = 0; i < 10; i++) upgrades.push(upgrade(server, { timeout: 15000 }));
        // Three calls reach the endpoint and wait there; the other seven
        // are answered without a call.
        await waitFor(() => held.length === 3, 5000, { message: 'three held endpoint calls' });
        await waitFor(async () => (await counter(server, 'refused_auth_calls')) === 7, 5000, { interval: 50 });
        assert.equal(seen, 3);
        assert.match(server.log, /refused a connection: 3 auth endpoint calls in flight \(realtime\.max_auth_calls\)/);
        holdNew = false;
        for (const answer of held.splice(0)) answer();
        const answers = await Promise.all(upgrades);
        const statuses = answers.map((r) => r.status).sort();
        assert.deepEqual(statuses, [101, 101, 101, 503, 503, 503, 503, 503, 503, 503]);
        for (const r of answers.filter((a) => a.status === 503)) {
          assert.equal(r.headers['retry-after'], '5');
          assert.match(r.body, /realtime\.max_auth_calls/);
        }
        assert.equal(maxInFlight, 3);
        // The finished calls freed their slots.
        const again = await upgrade(server);
        assert.equal(again.status, 101);
      });
    } finally {
      for (const answer of held) answer();
      await new Promise((resolve) => endpoint.close(resolve));
    }
  });
});

describe('realtime.subscribe_rate', () => {
  it('native: a burst of max_subscriptions goes through, then rate_limited, unsubscribes included; tokens come back over time', async () => {
    await withHub({ ini: { subscribe_rate: 1, max_subscriptions: 5 } }, async (server) => {
      const c = await connect(server.wsUrl);
      try {
        // Five subscribes (the burst), then five unsubscribes, sent at once:
        // a second that passes in between adds one token at most.
        for (let i = 0; i < 10; i++) {
          c.send({ action: i < 5 ? 'subscribe' : 'unsubscribe', channel: `rate-${i % 5}`, id: `s${i}` });
        }
        const replies = [];
        for (let i = 0; i < 10; i++) replies.push(await c.next((m) => m.id === `s${i}`));
        assert.deepEqual(replies.slice(0, 5).map((m) => m.type), Array(5).fill('subscribed'));
        const limited = replies.slice(5).filter((m) => m.type === 'error');
        assert.ok(limited.length >= 3, JSON.stringify(replies.slice(5)));
        for (const r of limited) {
          assert.equal(r.code, 'rate_limited');
          assert.match(r.message, /realtime\.subscribe_rate/);
        }
        assert.ok(c.isOpen);
        assert.equal(await counter(server, 'refused_subscribe_rate'), limited.length);
        assert.match(server.log, /over realtime\.subscribe_rate \(1 per second\)/);
        // Refilled at one a second.
        await waitFor(async () => (await c.request({ action: 'unsubscribe', channel: 'rate-4' })).type === 'unsubscribed',
          4000, { interval: 300 });
      } finally {
        c.close();
      }
    });
  });

  it('Pusher: pusher:error 4301 and a subscription_error past the burst', async () => {
    const server = await startPusherServer({ subscribe_rate: 1, max_subscriptions: 3 });
    const c = await connect(`ws://127.0.0.1:${server.wsPort}/app/${APP.key}?protocol=7`, { waitConnected: false });
    try {
      await c.next((m) => m.event === 'pusher:connection_established');
      // Three (the burst) go through; a second that passes meanwhile adds one
      // token at most, and that subscribe then meets max_subscriptions.
      for (let i = 0; i < 6; i++) c.send({ event: 'pusher:subscribe', data: { channel: `prate-${i}` } });
      for (let i = 0; i < 3; i++) {
        await c.next((m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === `prate-${i}`);
      }
      let limited = 0;
      for (let i = 3; i < 6; i++) {
        const e = await c.next((m) => m.event === 'pusher:subscription_error' && m.channel === `prate-${i}`);
        const data = typeof e.data === 'string' ? JSON.parse(e.data) : e.data;
        assert.equal(data.status, 429);
        assert.equal(data.type, 'LimitReached');
        if (/realtime\.subscribe_rate/.test(data.error)) limited++;
      }
      assert.ok(limited >= 2, `${limited} refused for the rate`);
      await waitFor(() => c.received.filter((m) => m.event === 'pusher:error').length === limited, 2000);
      for (const e of c.received.filter((m) => m.event === 'pusher:error')) {
        const data = typeof e.data === 'string' ? JSON.parse(e.data) : e.data;
        assert.equal(data.code, 4301);
      }
      assert.ok(c.isOpen);
      assert.equal(await counter(server, 'refused_subscribe_rate'), limited);
    } finally {
      c.close();
      await server.stop();
    }
  });
});

describe('realtime.max_subscriptions', () => {
  it('is refused and counted in the native protocol and in Pusher\'s', async () => {
    const server = await startPusherServer({ max_subscriptions: 2, allow_anonymous: 1 });
    const n = await connect(server.wsUrl);
    const p = await connect(`ws://127.0.0.1:${server.wsPort}/app/${APP.key}?protocol=7`, { waitConnected: false });
    try {
      await n.subscribe('ms-1');
      await n.subscribe('ms-2');
      const over = await n.request({ action: 'subscribe', channel: 'ms-3' });
      assert.equal(over.code, 'too_many_subscriptions');

      await p.next((m) => m.event === 'pusher:connection_established');
      for (let i = 1; i <= 3; i++) p.send({ event: 'pusher:subscribe', data: { channel: `pms-${i}` } });
      const e = await p.next((m) => m.event === 'pusher:subscription_error' && m.channel === 'pms-3');
      const data = typeof e.data === 'string' ? JSON.parse(e.data) : e.data;
      assert.equal(data.status, 429);
      assert.equal(data.type, 'LimitReached');
      assert.equal(await counter(server, 'refused_subscriptions'), 2);
      assert.match(server.log, /it is on 2 channels \(realtime\.max_subscriptions\)/);
    } finally {
      closeAll(n, p);
      await server.stop();
    }
  });
});

describe('realtime.max_channels', () => {
  it('refuses a subscribe that would add a channel past the limit, but not one to an existing channel', async () => {
    await withHub({ ini: { max_channels: 3 } }, async (server) => {
      const a = await connect(server.wsUrl);
      const b = await connect(server.wsUrl);
      try {
        await a.subscribe('mc-1');
        await a.subscribe('mc-2');
        await a.subscribe('mc-3');
        const over = await a.request({ action: 'subscribe', channel: 'mc-4' });
        assert.equal(over.type, 'error');
        assert.equal(over.code, 'too_many_channels');
        assert.match(over.message, /realtime\.max_channels/);
        // An existing channel takes more subscribers.
        await b.subscribe('mc-2');
        assert.equal(await counter(server, 'refused_channels'), 1);
        assert.match(server.log, /the hub has 3 channels \(realtime\.max_channels\)/);
        // A channel that empties frees its place.
        await a.unsubscribe('mc-3');
        await b.subscribe('mc-4');
        const channels = (await server.status()).channels;
        assert.equal(channels, 3);
      } finally {
        closeAll(a, b);
      }
    });
  });
});

describe('realtime.max_presence_members', () => {
  it('refuses a new user past the limit on a presence channel; members\' other connections still join', async () => {
    const secret = 'limits-secret';
    await withHub({ ini: { secret, allow_anonymous: 0, max_presence_members: 2 } }, async (server) => {
      const token = (user) => issueToken(server, user, { channels: ['presence-*'] });
      const clients = [];
      try {
        const u1 = await connectWithToken(server, await token('u1'));
        const u2 = await connectWithToken(server, await token('u2'));
        const u3 = await connectWithToken(server, await token('u3'));
        const u1b = await connectWithToken(server, await token('u1'));
        clients.push(u1, u2, u3, u1b);
        await u1.subscribe('presence-room');
        await u2.subscribe('presence-room');
        const over = await u3.request({ action: 'subscribe', channel: 'presence-room' });
        assert.equal(over.type, 'error');
        assert.equal(over.code, 'too_many_members');
        assert.match(over.message, /realtime\.max_presence_members/);
        // The same user from another tab is not a new member.
        const again = await u1b.subscribe('presence-room');
        assert.equal(again.members.length, 2);
        // Another presence channel has its own count.
        await u3.subscribe('presence-other');
        assert.equal(await counter(server, 'refused_presence_members'), 1);
        assert.match(server.log, /the channel has 2 members on this hub \(realtime\.max_presence_members\)/);
        // A member that leaves makes room.
        await u2.unsubscribe('presence-room');
        await u3.subscribe('presence-room');
      } finally {
        closeAll(...clients);
      }
    });
  });
});
