// The chat demo in demo/: the page starts the hub and points the browser at
// it; send.php validates and broadcasts to channel "chat".
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, closeAll, connect, startServer } from './lib/server.mjs';

describe('chat demo', () => {
  let server;
  const clients = [];

  const send = (fields) => {
    const body = new URLSearchParams(fields).toString();
    return server.http('/send.php', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
      body,
    });
  };

  before(async () => {
    server = await startServer({
      docroot: path.join(REPO_ROOT, 'demo'),
      warmup: '/',
      ini: { allowed_origins: 'http://localhost:8000' },
    });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('the page injects the hub port and path and shows no warning', async () => {
    const res = await server.http('/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /text\/html/);
    assert.ok(res.body.includes(`const RT = {"port":${server.wsPort},"path":"\\/ws"};`), 'RT config in page');
    assert.ok(!res.body.includes('class="notice"'), 'no warning banner');
  });

  it('send.php broadcasts {name, text, at} with event "message" on channel chat', async () => {
    const a = await connect(server.wsUrl, { origin: 'http://localhost:8000' });
    const b = await connect(server.wsUrl, { origin: 'http://localhost:8000' });
    clients.push(a, b);
    await a.subscribe('chat');
    await b.subscribe('chat');

    const t0 = Math.floor(Date.now() / 1000);
    const res = await send({ name: '  Ann  ', text: 'hello <b>world</b> ☃' });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { ok: true });

    for (const c of [a, b]) {
      const m = await c.next((x) => x.type === 'message');
      assert.equal(m.channel, 'chat');
      assert.equal(m.event, 'message');
      assert.equal(m.data.name, 'Ann');
      assert.equal(m.data.text, 'hello <b>world</b> ☃');
      assert.ok(Math.abs(m.data.at - t0) <= 5, `at ${m.data.at}`);
    }
  });

  it('send.php rejects bad input with 400 and GET with 405', async () => {
    for (const fields of [{ name: '', text: 'x' }, { name: 'x', text: '   ' }, { name: 'n'.repeat(33), text: 'x' }, { name: 'x', text: 't'.repeat(501) }, { text: 'x' }]) {
      const res = await send(fields);
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.equal(res.json.ok, false);
      assert.equal(typeof res.json.error, 'string');
    }
    // Limits count characters, not bytes.
    assert.equal((await send({ name: 'é'.repeat(32), text: '☃'.repeat(500) })).status, 200);
    assert.equal((await server.http('/send.php')).status, 405);
  });
});
