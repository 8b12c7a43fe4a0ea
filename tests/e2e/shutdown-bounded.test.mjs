// Stopping the hub ends in bounded time (issue 11, point 8): SIGINT to
// php -S runs module shutdown, which stops the hub. A client that never
// reads (its socket buffers full, so the 1001 close frame can never be
// written) or a webhook receiver that never answers must not hold the
// process past realtime.shutdown_timeout: the hub force-closes what is left
// at that deadline, the thread is joined, and php exits cleanly (status 0,
// no signal). Without the cut, the thread outlived its stop and the
// extension was unloaded under it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { closeAll, connect, rawWebSocket, startServer, waitFor, withTimeout } from './lib/server.mjs';

const SHUTDOWN_TIMEOUT = 1500; // ms
// The hub cuts its stop at SHUTDOWN_TIMEOUT; PHP waits at most 1 s more for
// the thread; the rest is process exit on a busy machine.
const MARGIN = 2500;

/** Bytes the hub's side of its connections holds unsent in the kernel (/proc/net/tcp{,6}). */
function hubUnsentBytes(wsPort) {
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5) continue;
      if (parseInt(f[1].split(':')[1], 16) === wsPort) total += parseInt(f[4].split(':')[0], 16);
    }
  }
  return total;
}

// A closing client gets a close-handshake grace of 1 to 2 s (the hub's clock
// has whole seconds); the slow-client test stops within less, so that its
// client is always cut by the deadline, not by that grace.
const SHORT_TIMEOUT = 800; // ms

/** SIGINT, then the exit: resolves { exit, ms }. */
async function interrupt(server) {
  const t0 = Date.now();
  assert.ok(server.signal('SIGINT'));
  const exit = await withTimeout(server.exited, SHUTDOWN_TIMEOUT + 15000, 'php -S to exit after SIGINT');
  return { exit, ms: Date.now() - t0 };
}

describe('a stop is bounded by realtime.shutdown_timeout', () => {
  const servers = [];
  const clients = [];
  const closers = [];
  after(async () => {
    closeAll(clients);
    for (const s of servers) await s.stop();
    for (const c of closers) await c();
  });

  it('a client that never reads (full socket buffers) is force-closed; php exits 0 in time', async () => {
    const server = await startServer({
      ini: { shutdown_timeout: SHORT_TIMEOUT, ping_interval: 0, max_outbound: 256 << 20, max_message_size: 1 << 20 },
    });
    servers.push(server);
    const reader = await connect(server.wsUrl);
    clients.push(reader);
    const slow = await rawWebSocket(server.wsPort);
    clients.push(slow);
    await slow.nextJson((m) => m.type === 'connected');
    slow.sendJson({ action: 'subscribe', channel: 'stuck', id: 's' });
    await slow.nextJson((m) => m.type === 'subscribed');
    slow.pause(); // from now on nothing is read

    // Publish large messages until the kernel's buffers on the hub's side
    // stop growing (the client's receive window is shut and the send buffer
    // full), then more: the hub is left holding a frame it has half written,
    // so even the 1001 close frame can never go out.
    const pad = 'z'.repeat(32 * 1024);
    let last = -1;
    let flat = 0;
    let batches = 0;
    const deadline = Date.now() + 30000;
    while (flat < 3 && Date.now() < deadline) {
      await server.publish('stuck', { pad }, { count: 32 });
      batches++;
      const now = hubUnsentBytes(server.wsPort);
      flat = now > 0 && now <= last ? flat + 1 : 0;
      last = Math.max(last, now);
    }
    assert.ok(flat >= 3, `the kernel's buffers never filled after ${batches} batches of 1 MB (${last} bytes unsent)`);
    for (let i = 0; i < 4; i++) await server.publish('stuck', { pad }, { count: 32 });
    assert.ok(!/slow consumer/i.test(server.log), 'the client was dropped as a slow consumer before the stop');

    const { exit, ms } = await interrupt(server);
    assert.deepEqual(exit, { code: 0, signal: null }, `php output:\n${server.log}`);
    assert.ok(ms < SHORT_TIMEOUT + MARGIN, `php exited ${ms} ms after SIGINT (shutdown_timeout ${SHORT_TIMEOUT} ms)`);
    assert.match(server.log, /force-closed 1 connection/, server.log);
    assert.doesNotMatch(server.log, /did not end|did not stop/, server.log);
    // The reading client got its 1001.
    const info = await reader.waitClose(5000);
    assert.equal(info.code, 1001);
  });

  it('a webhook receiver that never answers does not hold the stop; its call is cancelled', async () => {
    const held = [];
    const receiver = http.createServer((req) => held.push(req));
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      for (const r of held) r.socket.destroy();
      return new Promise((resolve) => receiver.close(resolve));
    });
    const server = await startServer({
      ini: {
        shutdown_timeout: SHUTDOWN_TIMEOUT,
        secret: 'bounded-stop-secret',
        webhook_url: `http://127.0.0.1:${receiver.address().port}/hooks`,
        webhook_delay: 0,
      },
    });
    servers.push(server);
    const c = await connect(server.wsUrl);
    clients.push(c);
    await c.subscribe('occupied-now'); // channel_occupied goes out at once
    await waitFor(() => held.length >= 1, 10000, { message: 'the webhook request to arrive' });
    const cancelled = new Promise((resolve) => held[0].socket.once('close', resolve));

    const { exit, ms } = await interrupt(server);
    assert.deepEqual(exit, { code: 0, signal: null }, `php output:\n${server.log}`);
    assert.ok(ms < SHUTDOWN_TIMEOUT + MARGIN, `php exited ${ms} ms after SIGINT (shutdown_timeout ${SHUTDOWN_TIMEOUT} ms)`);
    assert.ok(ms >= SHUTDOWN_TIMEOUT - 100, `the webhook call was not given its grace: exited after ${ms} ms`);
    await withTimeout(cancelled, 5000, 'the webhook connection to be closed');
    assert.doesNotMatch(server.log, /did not end|did not stop/, server.log);
  });

  it('with nothing to wait for, a stop takes far less than shutdown_timeout', async () => {
    const server = await startServer({ ini: { shutdown_timeout: 10000 } });
    servers.push(server);
    const c = await connect(server.wsUrl);
    clients.push(c);
    const { exit, ms } = await interrupt(server);
    assert.deepEqual(exit, { code: 0, signal: null }, `php output:\n${server.log}`);
    assert.ok(ms < 3000, `php exited ${ms} ms after SIGINT`);
    assert.equal((await c.waitClose(5000)).code, 1001);
  });
});
