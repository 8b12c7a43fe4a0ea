// The JavaScript client in headless Chromium (driven by playwright-core)
// against php-fpm + nginx: a page loads clients/js/realtime.js as a module
// (and realtime.global.js as a classic script), subscribes, and goes
// through a cut socket, its worker SIGKILLed, an FPM reload, and the page
// going offline and online; each time it is connected again, resubscribed,
// and gets what is published next. A publisher at 50 messages a second on a
// channel with history runs through all of it: the page gets every message
// exactly once and in order (compared with Realtime\history()).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { REPO_ROOT, waitFor } from './lib/server.mjs';
import { kill9, publish, tokenFor, warmUp } from './lib/pool/clients.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';
import { compareWithHistory, history, numberedPublisher, tcpProxy } from './lib/jsclient.mjs';

const CLIENT_DIR = path.join(REPO_ROOT, 'clients', 'js');

const MODULE_PAGE = `<!doctype html><meta charset="utf-8"><title>realtime</title>
<script type="module">
import { Realtime } from '/realtime.js';
const q = new URLSearchParams(location.search);
window.states = [];
window.got = [];
const rt = new Realtime({ url: q.get('ws'), token: q.get('token'), minDelay: 50, maxDelay: 500 });
rt.on('state', (i) => states.push({ state: i.state, code: i.code, delay: i.delay }));
window.rt = rt;
window.sub = rt.subscribe(q.get('channel'), { onMessage: (d) => got.push(d) });
window.chat = [];
window.unrecovered = 0;
window.chatSub = rt.subscribe('chat-web', {
  onMessage: (d, m) => chat.push({ offset: m.offset, data: d }),
  onUnrecovered: () => unrecovered++,
});
</script>`;

const CLASSIC_PAGE = `<!doctype html><meta charset="utf-8"><title>realtime</title>
<script src="/realtime.global.js"></script>
<script>
const q = new URLSearchParams(location.search);
window.got = [];
window.rt = new Realtime({ url: q.get('ws'), token: q.get('token') });
window.sub = rt.subscribe(q.get('channel'), { onMessage: (d) => got.push(d) });
</script>`;

/** Serves the two pages and the client's files from a Node HTTP server. */
async function pageServer() {
  const files = {
    '/': ['text/html', MODULE_PAGE],
    '/classic': ['text/html', CLASSIC_PAGE],
    '/realtime.js': ['text/javascript', fs.readFileSync(path.join(CLIENT_DIR, 'realtime.js'))],
    '/realtime.global.js': ['text/javascript', fs.readFileSync(path.join(CLIENT_DIR, 'realtime.global.js'))],
  };
  const server = http.createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    res.writeHead(f ? 200 : 404, { 'Content-Type': f ? f[0] : 'text/plain', 'Cache-Control': 'no-store' });
    res.end(f ? f[1] : 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('JavaScript client in a browser (php-fpm + nginx)', () => {
  let dep;
  let proxy;
  let pages;
  let context;
  let chrome;
  let page;
  let pub;
  let start;

  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-jsbrowser',
      pools: [{ name: 'app', pm: PM.static4 }],
      iniExtra: 'realtime.allow_anonymous = 1\nrealtime.allowed_origins = "*"\nrealtime.history = "chat-*:10000:600"',
    });
    await warmUp(dep, { min: 4, concurrency: 4 });
    proxy = await tcpProxy(dep.frontPort);
    pages = await pageServer();
    chrome = await launchChromium();
    context = chrome.context;
  });
  after(async () => {
    await chrome?.close();
    await pub?.stop();
    await pages?.close();
    await proxy?.close();
    await dep?.stop();
  });

  const state = () => page.evaluate(() => ({ state: rt.state, sub: sub.state, id: rt.connectionId }));
  const statesSince = (n) => page.evaluate((k) => states.slice(k), n);
  const stateCount = () => page.evaluate(() => states.length);

  // Publishes until the page has it (a worker may still be starting).
  const deliver = (channel, tag) =>
    waitFor(
      async () => (await page.evaluate((t) => got.some((d) => d && d.tag === t), tag)) || (await publish(dep, channel, { tag }), false),
      10000,
      { interval: 200, message: `the page to get ${tag}` },
    );
  const backOnline = () =>
    waitFor(async () => {
      const s = await state();
      return s.state === 'connected' && s.sub === 'subscribed';
    }, 15000, { interval: 50, message: 'the page to be connected and subscribed again' });

  it('connects from a page (ES module) and gets broadcasts', async () => {
    page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const token = await tokenFor(dep, 'browser');
    const ws = `ws://127.0.0.1:${proxy.port}/ws`;
    await page.goto(`${pages.url}/?ws=${encodeURIComponent(ws)}&token=${encodeURIComponent(token)}&channel=web`, { timeout: 10000 });
    await backOnline();
    await page.waitForFunction(() => chatSub.state === 'subscribed', null, { timeout: 10000 });
    start = await page.evaluate(() => chatSub.position);
    pub = numberedPublisher((ch, data) => publish(dep, ch, data), 'chat-web', 50);
    await deliver('web', 'first');
    assert.deepEqual(errors, []);
    const s = await page.evaluate(() => states.map((x) => x.state));
    assert.deepEqual(s, ['connecting', 'connected']);
  });

  it('reconnects after its socket is cut', async () => {
    const n = await stateCount();
    proxy.refuse(true);
    try {
      assert.ok(proxy.cut() >= 1);
      await waitFor(async () => (await statesSince(n)).some((x) => x.state === 'disconnected'), 5000);
      const at = pub.count;
      await waitFor(() => pub.count >= at + 10, 5000);
    } finally {
      proxy.refuse(false);
    }
    await backOnline();
    await deliver('web', 'after-cut');
  });

  it('reconnects after its worker is SIGKILLed', async () => {
    const n = await stateCount();
    const { id } = await state();
    kill9(await dep.pidOfNode(String(id).split('.')[0]));
    await waitFor(async () => (await statesSince(n)).some((x) => x.state === 'disconnected'), 10000);
    await backOnline();
    assert.notEqual((await state()).id, id);
    await deliver('web', 'after-kill');
  });

  it('reconnects at once after an FPM reload (1012)', async () => {
    const n = await stateCount();
    process.kill(dep.masterPid, 'SIGUSR2');
    await waitFor(async () => (await statesSince(n)).some((x) => x.state === 'disconnected'), 15000);
    const drop = (await statesSince(n)).find((x) => x.state === 'disconnected');
    assert.equal(drop.code, 1012);
    assert.equal(drop.delay, 0);
    await backOnline();
    await deliver('web', 'after-reload');
  });

  it('goes disconnected when the page goes offline and back when it is online', async () => {
    const n = await stateCount();
    await context.setOffline(true);
    try {
      await waitFor(async () => (await state()).state === 'disconnected', 5000, { message: 'the offline page to be disconnected' });
      // Offline: no timer runs down; it waits for the online event.
      const drop = (await statesSince(n)).find((x) => x.state === 'disconnected');
      assert.equal(drop.delay, null);
      // Away while 10 messages are published: the replay must bring them.
      const at = pub.count;
      await waitFor(() => pub.count >= at + 10, 5000);
    } finally {
      await context.setOffline(false);
    }
    await backOnline();
    await deliver('web', 'after-offline');
  });

  it('got every message of the history channel once and in order through all of that', async (t) => {
    await waitFor(() => pub.count >= 100, 10000);
    const published = await pub.stop();
    const top = (await history(dep.get, 'chat-web', { limit: 1 })).at(-1);
    await waitFor(async () => (await page.evaluate(() => chatSub.position.offset)) === top.offset, 10000, {
      message: `the page to reach offset ${top.offset}`,
    });
    const chat = await page.evaluate(() => chat);
    const messages = await history(dep.get, 'chat-web', { since: start });
    t.diagnostic(`${published} published (${pub.errors.length} publish requests retried), ${chat.length} handed over`);
    assert.deepEqual(compareWithHistory({ log: chat.map((m) => ({ name: 'message', ...m })) }, messages, start), []);
    assert.equal(await page.evaluate(() => unrecovered), 0);
  });

  it('works as a classic script too (realtime.global.js)', async () => {
    const p = await context.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    const ws = `ws://127.0.0.1:${proxy.port}/ws`;
    const token = await tokenFor(dep, 'classic');
    await p.goto(`${pages.url}/classic?ws=${encodeURIComponent(ws)}&token=${encodeURIComponent(token)}&channel=classic`, { timeout: 10000 });
    await p.waitForFunction(() => window.sub && sub.state === 'subscribed', null, { timeout: 10000 });
    await waitFor(
      async () => (await p.evaluate(() => got.length)) > 0 || (await publish(dep, 'classic', { tag: 'c' }), false),
      10000,
      { interval: 200 },
    );
    assert.deepEqual(errors, []);
    await p.close();
  });
});
