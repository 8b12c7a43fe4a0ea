// The HTTP side of the hub port: /health, the upgrade checks and their
// status codes, origin rules, and the connection limit.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import net from 'node:net';
import { METRICS_KEY, closeAll, connect, httpRequest, rawRequest, rawWebSocket, startServer, waitFor, withTimeout } from './lib/server.mjs';

const upgradeHeaders = (extra = {}) => ({
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
  'Sec-WebSocket-Version': '13',
  ...extra,
});

describe('hub HTTP endpoints (default settings)', () => {
  let server;
  const clients = [];

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('GET /health answers 200 with status, pid, connections and channels (asked with realtime.metrics_key)', async () => {
    const res = await server.hub('/health', { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] || '', /application\/json/);
    assert.equal(res.json.status, 'ok');
    assert.equal(res.json.pid, server.pid);
    assert.equal(typeof res.json.connections, 'number');
    assert.equal(typeof res.json.channels, 'number');
  });

  it('/health counts connections and channels', async () => {
    const base = await server.health();
    const a = await connect(server.wsUrl);
    const b = await connect(server.wsUrl);
    clients.push(a, b);
    await a.subscribe('health-1');
    await a.subscribe('health-2');
    await b.subscribe('health-2');
    const now = await server.health();
    assert.equal(now.connections, base.connections + 2);
    assert.equal(now.channels, base.channels + 2);
    await b.unsubscribe('health-2');
    await a.unsubscribe('health-2');
    assert.equal((await server.health()).channels, base.channels + 1);
  });

  it('unknown paths answer 404', async () => {
    assert.equal((await server.hub('/nope')).status, 404);
    assert.equal((await server.hub('/')).status, 404);
    assert.equal((await server.hub('/ws/extra', { headers: upgradeHeaders() })).status, 404);
  });

  it('non-GET at the WebSocket path answers 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await server.hub('/ws', { method, headers: { 'Content-Length': '0' } });
      assert.equal(res.status, 405, method);
    }
  });

  it('GET at the path without an Upgrade answers 426', async () => {
    assert.equal((await server.hub('/ws')).status, 426);
  });

  it('a missing or malformed Sec-WebSocket-Key answers 400', async () => {
    const h = upgradeHeaders();
    delete h['Sec-WebSocket-Key'];
    assert.equal((await server.hub('/ws', { headers: h })).status, 400);
    // RFC 6455: the key is 16 random bytes, base64-encoded (24 characters).
    const wrong = [];
    for (const key of ['', 'short', 'not base64 at all!!!!!', Buffer.alloc(15).toString('base64'), Buffer.alloc(17).toString('base64'), '!!!!!!!!!!!!!!!!!!!!!!==']) {
      const res = await server.hub('/ws', { headers: upgradeHeaders({ 'Sec-WebSocket-Key': key }) });
      if (res.status !== 400) wrong.push(`${JSON.stringify(key)} -> ${res.status}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('a Sec-WebSocket-Version other than 13 answers 426 naming version 13', async () => {
    for (const version of ['8', '12', '14']) {
      const res = await server.hub('/ws', { headers: upgradeHeaders({ 'Sec-WebSocket-Version': version }) });
      assert.equal(res.status, 426, `version ${version}`);
      assert.equal(res.headers['sec-websocket-version'], '13');
    }
  });

  it('a valid upgrade answers 101 with the right Sec-WebSocket-Accept', async () => {
    const raw = await rawWebSocket(server.wsPort); // checks status and accept key
    const hello = await raw.nextJson((m) => m.type === 'connected');
    assert.equal(typeof hello.connection_id, 'string');
    raw.close();
  });

  it('with no allowed_origins, accepts no Origin or an Origin matching Host, rejects others with 403', async () => {
    // ws sends Host: 127.0.0.1:<port>
    const same = await connect(server.wsUrl, { origin: `http://127.0.0.1:${server.wsPort}` });
    clients.push(same);
    const none = await connect(server.wsUrl);
    clients.push(none);

    for (const origin of ['http://evil.example', `http://127.0.0.1:${server.httpPort}`, `http://localhost:${server.wsPort}`, 'null']) {
      const res = await server.hub('/ws', { headers: upgradeHeaders({ Origin: origin }) });
      assert.equal(res.status, 403, `origin ${origin}`);
    }
  });

  it('malformed HTTP answers 400 and closes the connection', async () => {
    for (const junk of ['THIS IS NOT HTTP\r\n\r\n', 'GET /ws HTTP/1.1\r\nHost\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03']) {
      const res = await rawRequest(server.wsPort, Buffer.from(junk, 'latin1'));
      assert.equal(res.status, 400, `for ${JSON.stringify(junk)}: ${JSON.stringify(res.raw.slice(0, 200))}`);
      assert.equal(res.closed, true);
    }
  });

  it('accepts a query string on the WebSocket path', async () => {
    const c = await connect(`${server.wsUrl}?v=1&lang=en`);
    clients.push(c);
    await c.flush();
  });

  it('the hub still serves clients after all that', async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    await c.subscribe('still-fine');
    await server.publish('still-fine', 'yes');
    assert.equal((await c.next((m) => m.type === 'message')).data, 'yes');
  });
});

describe('realtime.allowed_origins', () => {
  let server;
  const clients = [];
  before(async () => {
    server = await startServer({ ini: { allowed_origins: 'http://localhost:8000 https://app.example.com' } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('accepts listed origins and requests without Origin', async () => {
    clients.push(await connect(server.wsUrl, { origin: 'http://localhost:8000' }));
    clients.push(await connect(server.wsUrl, { origin: 'https://app.example.com' }));
    clients.push(await connect(server.wsUrl));
  });

  it('rejects unlisted origins with 403', async () => {
    for (const origin of ['http://localhost:8001', 'https://evil.example.com', 'http://app.example.com', 'https://app.example.com.evil']) {
      const res = await server.hub('/ws', { headers: upgradeHeaders({ Origin: origin }) });
      assert.equal(res.status, 403, `origin ${origin}`);
    }
  });
});

describe('realtime.max_connections', () => {
  let server;
  const clients = [];
  before(async () => {
    server = await startServer({ ini: { max_connections: 2 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('answers 503 when full and accepts again once a client leaves', async () => {
    const a = await connect(server.wsUrl);
    const b = await connect(server.wsUrl);
    clients.push(a, b);
    const res = await server.hub('/ws', { headers: upgradeHeaders() });
    assert.equal(res.status, 503);
    // /health is not a WebSocket connection and still answers.
    assert.equal((await server.health()).connections, 2);

    a.close();
    await waitFor(async () => (await server.health()).connections === 1, 5000, { message: 'the closed client to be forgotten' });
    const c = await connect(server.wsUrl);
    clients.push(c);
    await c.flush();
  });
});

describe('early start', () => {
  let server;
  after(async () => {
    await server?.stop();
  });

  it('php -S runs its hub from its start, before any PHP request', async () => {
    server = await startServer({ warmup: false });
    // A static file runs no PHP; the hub answers all the same.
    assert.equal((await server.http('/ready.txt')).status, 200);
    const health = await waitFor(async () => (await server.health()).status === 'ok', 10000, { message: '/health before any PHP request' });
    assert.ok(health);
  });
});

describe('realtime.handshake_timeout', () => {
  let server;
  after(async () => {
    await server?.stop();
  });

  it('drops a connection that never completes its HTTP request', async () => {
    server = await startServer({ ini: { handshake_timeout: 1 } });
    const sock = net.connect({ host: '127.0.0.1', port: server.wsPort });
    const t0 = Date.now();
    const ended = new Promise((resolve) => sock.once('close', resolve));
    sock.on('error', () => {});
    sock.write('GET /ws HTTP/1.1\r\nHost: x\r\n'); // and nothing more
    await withTimeout(ended, 5000, 'the hub to drop the half-sent handshake');
    assert.ok(Date.now() - t0 >= 500, `dropped after ${Date.now() - t0} ms`);
  });
});

describe('realtime.enabled=0', () => {
  let server;
  after(async () => {
    await server?.stop();
  });

  it('starts no hub; status() says so and broadcast() throws Realtime\\Exception', async () => {
    server = await startServer({ ini: { enabled: 0 }, waitHub: false });
    const st = await server.status();
    assert.equal(st.running, false);
    const res = await server.publish('news', 'x', { allowError: true });
    assert.equal(res.status, 500, res.body);
    assert.equal(res.json.class, 'Realtime\\Exception', res.body);
    await assert.rejects(httpRequest(server.wsPort, '/health', { timeout: 1000 }), /ECONNREFUSED/);
  });
});
