// pusher-js's browser build in headless Chromium: a page served by php -S
// connects to the hub and receives a Realtime\broadcast().
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { APP, phpBroadcast, startPusherServer } from './pusher-helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

// No skip without a browser: scripts/deps.sh installs Debian's chromium, and a
// machine without it fails here, saying what to install.
describe('pusher-js in a browser', () => {
  let server;
  let context;
  let profile;

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (scripts/deps.sh), or set CHROMIUM_BIN`);
    // The page (http://127.0.0.1:<php port>) and the hub are on different ports.
    server = await startPusherServer({ allowed_origins: '*' });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'realtime-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  after(async () => {
    await context?.close().catch(() => {});
    await server?.stop();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  it('receives a broadcast on a public channel', async () => {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const url = `${server.httpUrl}/pusher/page.php?key=${APP.key}&port=${server.wsPort}&channel=browser-news`;
    await page.goto(url, { timeout: 10000 });
    await page.waitForFunction(() => window.subscribed === true, null, { timeout: 10000 });
    assert.equal(await page.textContent('#state'), 'connected');

    await phpBroadcast(server, { channel: 'browser-news', message: { headline: 'Hello, browser' }, event: 'Headline' });
    await page.waitForFunction(() => window.received.length > 0, null, { timeout: 5000 });
    const received = await page.evaluate(() => window.received);
    assert.deepEqual(received, [{ event: 'Headline', data: { headline: 'Hello, browser' } }]);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
