// A process without a hub (a CLI script, a queue worker) publishes through
// POST /publish on the hub port and keeps that connection between calls;
// the hub closes a kept connection after realtime.handshake_timeout idle
// seconds, and the next call opens a new one without the caller noticing.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { EXTENSION, closeAll, connect, startServer } from './lib/server.mjs';
import { phpBin, run } from './lib/pool/proc.mjs';

const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib');
const SECRET = 'keepalive-test-secret';
// Raw requests authenticate with realtime.publish_key; the CLI signs with SECRET.
const PUBLISH_KEY = 'keepalive-publish-key-0123';

/** Sends raw HTTP/1.1 requests on one socket; resolves with what came back before the server closed. */
function rawExchange(port, requests, { timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the hub did not close the connection within ${timeout} ms; got: ${data.slice(0, 400)}`));
    }, timeout);
    sock.on('connect', () => sock.write(requests.join('')));
    sock.on('data', (c) => (data += c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

describe('POST /publish keeps its connection (HTTP keep-alive)', () => {
  let server;
  const clients = [];

  before(async () => {
    server = await startServer({ ini: { 'realtime.secret': SECRET, 'realtime.publish_key': PUBLISH_KEY, 'realtime.handshake_timeout': '1' } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('answers several requests on one connection, then closes it when asked', async () => {
    const body = JSON.stringify({ type: 'publish', channels: ['ka-raw'], data: { n: 1 } });
    const post = (extra = '') =>
      `POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PUBLISH_KEY}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
    const c = await connect(server.wsUrl);
    clients.push(c);
    await c.subscribe('ka-raw');
    // Written one after another, each waiting for the previous answer, as a client would.
    const sock = net.connect(server.wsPort, '127.0.0.1');
    await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    let got = '';
    sock.on('data', (chunk) => (got += chunk));
    const closed = new Promise((resolve) => sock.on('close', resolve));
    for (let i = 1; i <= 3; i++) {
      sock.write(post(i === 3 ? 'Connection: close\r\n' : ''));
      const want = i;
      await new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`answer ${want} did not come: ${got}`)), 5000);
        const check = () => {
          if ((got.match(/HTTP\/1\.1 202/g) || []).length >= want) {
            clearTimeout(deadline);
            sock.off('data', check);
            resolve();
          }
        };
        sock.on('data', check);
        check();
      });
    }
    await closed;
    const answers = got.split('HTTP/1.1 ').slice(1);
    assert.equal(answers.length, 3, got);
    assert.match(answers[0], /\r\nConnection: keep-alive\r\n/);
    assert.match(answers[1], /\r\nConnection: keep-alive\r\n/);
    assert.match(answers[2], /\r\nConnection: close\r\n/);
    for (let i = 0; i < 3; i++) {
      await c.next((m) => m.type === 'message' && m.channel === 'ka-raw' && m.data && m.data.n === 1, 5000);
    }
  });

  it('pipelined requests and bad keys get their answer and a close', async () => {
    const body = JSON.stringify({ type: 'publish', channels: ['ka-pipe'], data: 1 });
    const post = (secret) =>
      `POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const piped = await rawExchange(server.wsPort, [post(PUBLISH_KEY), post(PUBLISH_KEY)]);
    assert.equal((piped.match(/HTTP\/1\.1 /g) || []).length, 1, piped);
    assert.match(piped, /\r\nConnection: close\r\n/);
    const denied = await rawExchange(server.wsPort, [post('wrong')]);
    assert.match(denied, /^HTTP\/1\.1 401 /);
    assert.match(denied, /\r\nConnection: close\r\n/);
  });

  it("a CLI script's broadcasts all arrive, in order, across the hub closing its idle connection", async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    await c.subscribe('ka-cli');
    // 3 groups of 4, 1.5 s apart: longer than realtime.handshake_timeout (1 s
    // here), so the hub closes the kept connection between groups.
    const args = ['-n', '-d', `extension=${EXTENSION}`, '-d', `realtime.listen=127.0.0.1:${server.wsPort}`,
      '-d', `realtime.secret=${SECRET}`, path.join(LIB, 'cli-burst.php'), 'ka-cli', '4', '1500', '3'];
    const res = await run(phpBin(), args, { timeout: 30000 });
    assert.equal(res.code, 0, `stdout: ${res.stdout}\nstderr: ${res.stderr}`);
    assert.deepEqual(JSON.parse(res.stdout.trim()), { ok: true, sent: 12 });
    for (let seq = 0; seq < 12; seq++) {
      const m = await c.next((x) => x.type === 'message' && x.channel === 'ka-cli', 5000);
      assert.deepEqual(m.data, { seq }, `message ${seq} out of order`);
    }
  });
});
