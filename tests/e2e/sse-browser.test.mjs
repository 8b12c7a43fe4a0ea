// EventSource in headless Chromium (playwright-core) on the hub's SSE
// stream (issue 15): a page served by php -S reading the hub port (another
// origin: CORS), and a page behind nginx in front of php-fpm whose worker
// is SIGKILLed while a publisher sends 50 messages a second on a history
// channel: the browser reconnects on its own with Last-Event-ID and the
// page gets every message exactly once, in order. And the JavaScript
// client: its WebSocket failing, it falls back to SSE on its own, says so,
// and loses nothing at 50 messages a second across a cut stream.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import http from 'node:http';
import { REPO_ROOT, startServer, waitFor } from './lib/server.mjs';
import { kill9, publish, warmUp } from './lib/pool/clients.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';
import { numberedPublisher } from './lib/jsclient.mjs';

const events = (page) => page.evaluate(() => window.events);
const waitEvent = (page, pred, ms = 10000, message = 'an event') =>
  waitFor(async () => (await events(page)).some(pred), ms, { interval: 50, message });

describe('EventSource on a page served by php -S', () => {
  let server;
  let br;
  before(async () => {
    server = await startServer({
      ini: {
        allow_anonymous: 1,
        history: 'web-*:1000:600',
        allowed_origins: ({ httpPort }) => `http://127.0.0.1:${httpPort}`,
      },
    });
    br = await launchChromium();
  });
  after(async () => {
    await br?.close();
    await server?.stop();
  });

  it('reads the hub port from the page origin (CORS) and gets broadcasts with ids', async () => {
    const page = await br.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const hub = `http://127.0.0.1:${server.wsPort}`;
    await page.goto(`${server.httpUrl}/sse.html?hub=${encodeURIComponent(hub)}&channels=web-1,news`, { timeout: 10000 });
    await waitEvent(page, (e) => e.data.type === 'subscribed' && e.data.channel === 'news');
    for (let i = 1; i <= 5; i++) await server.publish('web-1', { i });
    await server.publish('news', 'plain');
    await waitEvent(page, (e) => e.data.type === 'message' && e.data.channel === 'news');
    const got = (await events(page)).filter((e) => e.data.type === 'message');
    assert.deepEqual(got.filter((e) => e.data.channel === 'web-1').map((e) => e.data.data.i), [1, 2, 3, 4, 5]);
    // The page's lastEventId is the stream's position on its history channel.
    assert.match(got[4].id, /^[0-9a-f]{8}-5-[0-9a-f]{16}$/);
    assert.deepEqual(errors, []);
    assert.equal(await page.evaluate(() => window.errors), 0);
    await page.close();
  });
});

describe('EventSource through nginx + php-fpm, its worker SIGKILLed', () => {
  let dep;
  let br;
  let pub;
  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-sse',
      pools: [{ name: 'app', pm: PM.static4 }],
      iniExtra: 'realtime.allow_anonymous = 1\nrealtime.history = "chat-*:10000:600"',
    });
    await warmUp(dep, { min: 4, concurrency: 4 });
    br = await launchChromium();
  });
  after(async () => {
    await pub?.stop();
    await br?.close();
    await dep?.stop();
  });

  it('reconnects with Last-Event-ID: nothing missed, nothing duplicated', async (t) => {
    const page = await br.context.newPage();
    await page.goto(`http://127.0.0.1:${dep.frontPort}/sse.php?channels=chat-sse`, { timeout: 10000 });
    await waitEvent(page, (e) => e.data.type === 'subscribed' && e.data.channel === 'chat-sse');
    pub = numberedPublisher((ch, data) => publish(dep, ch, data), 'chat-sse', 50);
    const nums = async () => (await events(page)).filter((e) => e.data.type === 'message').map((e) => e.data.data.n);
    await waitFor(async () => (await nums()).length >= 25, 15000, { interval: 100, message: 'messages before the kill' });

    const hello = (await events(page)).find((e) => e.data.type === 'connected');
    const node = String(hello.data.connection_id).split('.')[0];
    const pid = await dep.pidOfNode(node);
    t.diagnostic(`killing worker ${pid} (node ${node})`);
    kill9(pid);
    await waitFor(async () => (await events(page)).filter((e) => e.data.type === 'connected').length >= 2, 20000, {
      interval: 100,
      message: 'the EventSource to reconnect',
    });
    const resub = (await events(page)).filter((e) => e.data.type === 'subscribed').at(-1);
    assert.equal(resub.data.recovered, true, JSON.stringify(resub));
    const after = (await nums()).length;
    await waitFor(async () => (await nums()).length >= after + 25, 15000, { interval: 100, message: 'messages after the kill' });
    const sent = await pub.stop();
    pub = null;
    await waitFor(async () => (await nums()).length >= sent, 15000, { interval: 100, message: `all ${sent} messages` });
    await new Promise((r) => setTimeout(r, 300));
    const got = await nums();
    assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i + 1));
    await page.close();
  });
});

const CLIENT_PAGE = `<!doctype html><meta charset="utf-8"><title>realtime</title>
<script type="module">
import { Realtime } from '/realtime.js';
const q = new URLSearchParams(location.search);
window.got = [];
window.transports = [];
window.states = [];
// A network that breaks WebSocket: it never opens.
class NoWebSocket {
  constructor() { setTimeout(() => this.onclose && this.onclose({ code: 1006 }), 10); }
  close() {}
}
const rt = new Realtime({ url: q.get('ws'), transports: ['websocket', 'sse'], WebSocket: NoWebSocket, minDelay: 50, maxDelay: 300 });
rt.on('transport', (t) => transports.push(t));
rt.on('state', (i) => states.push(i.state));
window.rt = rt;
window.sub = rt.subscribe('js-sse', { onMessage: (d) => got.push(d.n) });
</script>`;

describe('the JavaScript client falling back to SSE (php -S)', () => {
  let server;
  let br;
  let pages;
  let pub;
  before(async () => {
    server = await startServer({ ini: { allow_anonymous: 1, history: 'js-*:10000:600', allowed_origins: '*' } });
    const js = fs.readFileSync(path.join(REPO_ROOT, 'clients', 'js', 'realtime.js'));
    pages = http.createServer((req, res) => {
      const isJs = req.url.startsWith('/realtime.js');
      res.writeHead(200, { 'Content-Type': isJs ? 'text/javascript' : 'text/html', 'Cache-Control': 'no-store' });
      res.end(isJs ? js : CLIENT_PAGE);
    });
    await new Promise((r) => pages.listen(0, '127.0.0.1', r));
    br = await launchChromium();
  });
  after(async () => {
    await pub?.stop();
    await br?.close();
    await new Promise((r) => (pages ? pages.close(() => r()) : r()));
    await server?.stop();
  });

  it('uses SSE when WebSocket fails, and loses nothing across a cut stream', async () => {
    const page = await br.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${pages.address().port}/?ws=${encodeURIComponent(server.wsUrl)}`, { timeout: 10000 });
    await page.waitForFunction(() => window.rt.state === 'connected' && window.sub.state === 'subscribed', null, { timeout: 15000 });
    assert.equal(await page.evaluate(() => window.rt.transport), 'sse');
    assert.deepEqual(await page.evaluate(() => window.transports), ['sse']);
    pub = numberedPublisher((ch, data) => server.publish(ch, data), 'js-sse', 50);
    const got = () => page.evaluate(() => window.got.length);
    await waitFor(async () => (await got()) >= 100, 20000, { interval: 100, message: '100 messages' });
    // Cut the stream: the client reconnects and resubscribes from its position.
    await page.evaluate(() => window.rt._conn.close());
    const cut = await got();
    await waitFor(async () => (await got()) >= cut + 100, 20000, { interval: 100, message: '100 messages after the cut' });
    const sent = await pub.stop();
    pub = null;
    await waitFor(async () => (await got()) >= sent, 15000, { interval: 100, message: `all ${sent} messages` });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await page.evaluate(() => window.got), Array.from({ length: sent }, (_, i) => i + 1));
    const states = await page.evaluate(() => window.states);
    assert.ok(states.filter((x) => x === 'connected').length >= 2, states.join(','));
    assert.deepEqual(errors, []);
    await page.close();
  });
});
