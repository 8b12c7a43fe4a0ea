// Attack: a client that sends PING frames in bulk and never reads (issue 11).
//
// Every PING asks for a PONG. A hub that queued one PONG per PING for a
// client that does not read grew by hundreds of MiB for 60 MiB sent. The
// hub now answers the most recent PING only (RFC 6455 5.5.3: one queued
// PONG at a time), and PONGs count against realtime.max_outbound.
//
// Asserted against a real php -S with the hub: the worker survives, its
// resident memory grows by less than RSS_BOUND_MB, and another client keeps
// receiving broadcasts during and after the flood.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, rawWebSocket, startServer, waitFor, withTimeout } from './lib/server.mjs';
import { rssBoundKb } from './lib/sanitizer.mjs';

const FLOOD_MB = 60;
const RSS_BOUND_MB = 48;

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

/**
 * Bytes the hub has not read yet from the TCP connection between its port
 * and the client's: rx_queue of the hub's end in /proc/net/tcp.
 */
function unreadByHub(hubPort, clientPort) {
  const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 4 && f[1].endsWith(`:${hex(hubPort)}`) && f[2].endsWith(`:${hex(clientPort)}`)) {
      return parseInt(f[4].split(':')[1], 16);
    }
  }
  return 0; // closed
}

/** count masked PING frames (payload: `payload` bytes), one buffer. */
function pings(count, payload = 0) {
  const size = 6 + payload;
  const buf = Buffer.alloc(count * size);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    buf[at] = 0x89;
    buf[at + 1] = 0x80 | payload; // masked; the key is 0, so the payload goes as is
    buf.fill(0x61, at + 6, at + size);
  }
  return buf;
}

/** Writes `total` bytes of chunk over and over, honouring backpressure. */
async function flood(sock, chunk, total) {
  let sent = 0;
  while (sent < total && !sock.destroyed) {
    if (!sock.write(chunk)) {
      let onDrain;
      let onClose;
      await withTimeout(
        new Promise((resolve, reject) => {
          onDrain = resolve;
          onClose = () => reject(new Error('the hub closed the flooding connection'));
          sock.once('drain', onDrain);
          sock.once('close', onClose);
        }),
        30000,
        'the hub to read what the flooding client sent',
      ).finally(() => {
        sock.off('drain', onDrain);
        sock.off('close', onClose);
      });
    }
    sent += chunk.length;
  }
  return sent;
}

describe('PING flood from a client that never reads', () => {
  let server;
  let watcher;

  before(async () => {
    server = await startServer();
    watcher = await connect(server.wsUrl);
    await watcher.subscribe('news');
  });
  after(async () => {
    closeAll(watcher);
    await server?.stop();
  });

  for (const [label, payload] of [
    ['empty PINGs', 0],
    ['PINGs of 125 bytes', 125],
  ]) {
    it(`${label}: ${FLOOD_MB} MiB sent, the worker stays under +${RSS_BOUND_MB} MiB and others keep receiving`, async (t) => {
      const raw = await rawWebSocket(server.wsPort);
      raw.sock.pause(); // never read: the PONGs pile up on the hub's side, if anywhere
      const before = rssKb(server.pid);
      const chunk = pings(Math.floor((1 << 20) / (6 + payload)), payload);
      let seq = 0;
      const publishing = (async () => {
        // Broadcasts while the flood runs: the other client gets each one.
        while (!raw.sock.destroyed && seq < 1000) {
          await server.publish('news', JSON.stringify({ seq }), { json: false });
          await watcher.next((m) => m.type === 'message' && m.channel === 'news', 10000);
          seq++;
          if (raw.floodDone) break;
        }
      })();
      const sent = await flood(raw.sock, chunk, FLOOD_MB << 20);
      raw.floodDone = true;
      await publishing;
      // Measured once the hub has read every byte sent.
      const clientPort = raw.sock.localPort;
      await waitFor(() => raw.sock.writableLength === 0 && unreadByHub(server.wsPort, clientPort) === 0, 30000, {
        message: 'the hub to read the whole flood',
      });
      await watcher.flush(10000);
      const after = rssKb(server.pid);
      t.diagnostic(`sent ${(sent / 1048576).toFixed(0)} MiB of ${label}; ${seq} broadcasts during the flood; VmRSS ${before} kB -> ${after} kB`);
      assert.ok(seq >= 1, 'no broadcast reached the other client during the flood');
      assert.ok(after - before < rssBoundKb(RSS_BOUND_MB * 1024), `the worker grew by ${after - before} kB`);
      // The worker is alive and serves: a broadcast still arrives, /health answers.
      await server.publish('news', 'after');
      const m = await watcher.next((x) => x.type === 'message' && x.data === 'after', 10000);
      assert.equal(m.data, 'after');
      assert.equal((await server.health()).status, 'ok');
      assert.equal(server.exitInfo, null);
      const status = await server.status();
      t.diagnostic(`slow_consumers ${status.slow_consumers}, connections ${status.connections}`);
      raw.sock.destroy();
    });
  }
});
