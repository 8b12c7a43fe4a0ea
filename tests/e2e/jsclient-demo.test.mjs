// The chat demo (demo/) with the JavaScript client and history, in headless
// Chromium: the page shows the chat's last 50 messages, a reload shows them
// again (nothing missing, nothing twice), and messages sent while the page
// was offline appear once it is online, in order, each once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { REPO_ROOT, startServer, waitFor } from './lib/server.mjs';
import { sessionDir } from './lib/identity.mjs';


describe('chat demo with the JavaScript client and history (Chromium)', () => {
  let server;
  let context;
  let chrome;
  let page;
  const sessions = sessionDir();

  before(async () => {
    server = await startServer({
      docroot: path.join(REPO_ROOT, 'demo'),
      warmup: '/login.php',
      // As scripts/demo.sh sets them.
      ini: {
        allowed_origins: ({ httpPort }) => `http://127.0.0.1:${httpPort}`,
        secret: 'demo-test-secret',
        client_events: 1,
        allow_anonymous: 0,
        history: 'presence-chat:100:86400',
        'session.save_path': sessions,
      },
    });
    chrome = await launchChromium();
    context = chrome.context;
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
    fs.rmSync(sessions, { recursive: true, force: true });
  });

  const shown = () => page.$$eval('#log li:not(.sys) span:nth-child(2)', (els) => els.map((e) => e.textContent));
  const live = () => page.waitForFunction(() => document.getElementById('status').textContent === 'live', null, { timeout: 10000 });
  const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => `m${a + i}`);
  /** Sends messages from the page's session through send.php, in order. */
  const send = (texts) =>
    page.evaluate(async (list) => {
      for (const text of list) {
        const body = new FormData();
        body.set('name', 'Ann');
        body.set('text', text);
        const res = await fetch('send.php', { method: 'POST', body, credentials: 'same-origin' });
        if (!res.ok) throw new Error(`send.php: ${res.status}`);
      }
    }, texts);

  it('logs in, goes live, shows what is sent', async () => {
    page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.httpUrl}/login.php`, { timeout: 10000 });
    await page.fill('input[name=name]', 'Ann');
    await Promise.all([page.waitForURL(/\?as=Ann/, { timeout: 10000 }), page.click('button[type=submit]')]);
    await live();
    await page.waitForFunction(() => document.getElementById('count').textContent === '1', null, { timeout: 5000 });
    await send(range(1, 55));
    await waitFor(async () => (await shown()).length === 55, 10000);
    assert.deepEqual(await shown(), range(1, 55));
    assert.deepEqual(errors, []);
  });

  it('after a reload shows the last 50 messages, each once', async () => {
    await page.reload({ timeout: 10000 });
    await live();
    await send(['m56']);
    await waitFor(async () => (await shown()).length === 51, 10000);
    assert.deepEqual(await shown(), range(6, 56));
  });

  it('offline and back: what was sent meanwhile appears once, in order', async () => {
    await context.setOffline(true);
    try {
      await page.waitForFunction(() => /offline/.test(document.getElementById('status').textContent), null, { timeout: 5000 });
      // The page cannot send while offline: Node posts with its session cookie.
      const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      for (const text of range(57, 61)) {
        const body = new URLSearchParams({ name: 'Ann', text }).toString();
        const res = await server.http('/send.php', {
          method: 'POST',
          headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
          body,
        });
        assert.equal(res.status, 200, res.body);
      }
    } finally {
      await context.setOffline(false);
    }
    await live();
    await waitFor(async () => (await shown()).length === 56, 10000);
    assert.deepEqual(await shown(), range(6, 61));
    const notices = await page.$$eval('#log li.sys', (els) => els.map((e) => e.textContent));
    assert.deepEqual(notices, [], 'nothing said about missed messages');
  });
});
