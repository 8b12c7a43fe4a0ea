// The chat demo (demo/) under php-fpm (4 workers) behind nginx, in headless
// Chromium, through the faults of a real deployment: every worker SIGKILLed
// (the page's hub among them: 1006, reconnect with backoff) and a server
// reload (SIGUSR2: 1012, reconnect at once). Messages are sent while the
// page is away; once it is live again it shows every message once, in
// order, and says nothing about missed ones: the client recovers them from
// the history in the shared segment, which outlives the workers and the
// reload. The page loads the JavaScript client from the hub (/ws/realtime.js).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { REPO_ROOT, httpRequest, waitFor } from './lib/server.mjs';
import { sessionDir } from './lib/identity.mjs';
import { kill9 } from './lib/pool/clients.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';


describe('chat demo under php-fpm + nginx: a killed worker and a reload lose nothing (Chromium)', () => {
  let dep;
  let context;
  let chrome;
  let page;
  const sessions = sessionDir();
  const errors = [];

  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-demo',
      pools: [{ name: 'app', pm: PM.static4 }],
      docroot: path.join(REPO_ROOT, 'demo'),
      // As scripts/demo.sh sets them; the page (nginx's port) and the hubs
      // (the hub port) are two origins.
      iniExtra: [
        'realtime.allowed_origins = "*"',
        'realtime.client_events = 1',
        'realtime.allow_anonymous = 0',
        'realtime.history = "presence-chat:100:86400"',
        `session.save_path = "${sessions}"`,
      ].join('\n'),
    });
    // The demo has no warm-up page: hubs start with their workers anyway.
    await waitFor(async () => (await httpRequest(dep.frontPort, '/login.php').catch(() => ({}))).status === 200, 20000, { message: 'login.php through nginx' });
    chrome = await launchChromium();
    context = chrome.context;
  });
  after(async () => {
    await chrome?.close();
    await dep?.stop();
    fs.rmSync(sessions, { recursive: true, force: true });
  });

  const shown = () => page.$$eval('#log li:not(.sys) span:nth-child(2)', (els) => els.map((e) => e.textContent));
  const notices = () => page.$$eval('#log li.sys', (els) => els.map((e) => e.textContent));
  const live = () => page.waitForFunction(() => document.getElementById('status').textContent === 'live', null, { timeout: 20000 });
  /** Starts recording the page's status line; returns a function that reads the record. */
  async function statuses() {
    await page.evaluate(() => {
      window.__states = [];
      new MutationObserver(() => window.__states.push(document.getElementById('status').textContent)).observe(document.getElementById('status'), {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    return () => page.evaluate(() => window.__states);
  }
  const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => `m${a + i}`);

  /** Posts messages with the page's session cookie, from Node (the page may be away), retrying while workers restart. */
  async function send(texts) {
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    for (const text of texts) {
      const body = new URLSearchParams({ name: 'Ann', text }).toString();
      let last;
      await waitFor(
        async () => {
          try {
            last = await httpRequest(dep.frontPort, '/send.php', {
              method: 'POST',
              headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
              body,
              timeout: 5000,
            });
          } catch (err) {
            last = { status: 0, body: err.message };
          }
          return last.status === 200;
        },
        20000,
        { interval: 100, message: `send.php to take ${text} (last: ${last && last.status} ${last && last.body})` },
      );
    }
  }

  it('logs in through nginx, loads the client from the hub, goes live', async () => {
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${dep.frontPort}/login.php`, { timeout: 15000 });
    await page.fill('input[name=name]', 'Ann');
    await Promise.all([page.waitForURL(/\?as=Ann/, { timeout: 15000 }), page.click('button[type=submit]')]);
    await live();
    await send(range(1, 10));
    await waitFor(async () => (await shown()).length === 10, 15000);
    assert.deepEqual(await shown(), range(1, 10));
  });

  it('every worker SIGKILLed: what was sent meanwhile appears once, in order', async () => {
    const states = await statuses();
    const pids = dep.servingPids();
    for (const pid of pids) kill9(pid);
    await send(range(11, 20));
    await waitFor(() => dep.servingPids().filter((p) => !pids.includes(p)).length === 4, 20000, { message: 'FPM to start 4 new workers' });
    await live();
    await send(['m21']);
    await waitFor(async () => (await shown()).length === 21, 20000, { message: 'the page to show m1..m21' });
    assert.deepEqual(await shown(), range(1, 21));
    assert.ok((await states()).some((st) => st !== 'live'), `the page saw its connection drop: ${await states()}`);
    assert.deepEqual(await notices(), [], 'nothing said about missed messages');
  });

  it('a reload (SIGUSR2): what was sent meanwhile appears once, in order', async () => {
    const states = await statuses();
    const before = dep.servingPids();
    process.kill(dep.masterPid, 'SIGUSR2');
    await send(range(22, 31));
    await waitFor(() => {
      const now = dep.servingPids();
      return now.length === 4 && now.every((p) => !before.includes(p));
    }, 20000, { message: 'the reloaded pool to run 4 new workers' });
    await live();
    await send(['m32']);
    await waitFor(async () => (await shown()).length === 32, 20000, { message: 'the page to show m1..m32' });
    assert.deepEqual(await shown(), range(1, 32));
    assert.ok((await states()).some((st) => st !== 'live'), `the page saw its connection drop: ${await states()}`);
    assert.deepEqual(await notices(), [], 'nothing said about missed messages');
  });

  it('a page reload after all that shows the same messages, each once', async () => {
    await page.reload({ timeout: 15000 });
    await live();
    await waitFor(async () => (await shown()).length === 32, 15000);
    assert.deepEqual(await shown(), range(1, 32));
    assert.deepEqual(errors, []);
  });
});
