// pusher-js's browser build in headless Chromium: a page served by php -S
// connects to the hub and receives a Realtime\broadcast().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { APP, phpBroadcast, startPusherServer } from './pusher-helpers.mjs';

describe('pusher-js in a browser', () => {
  let server;
  let context;
  let chrome;

  before(async () => {
    // The page (http://127.0.0.1:<php port>) and the hub are on different ports.
    server = await startPusherServer({ allowed_origins: '*' });
    chrome = await launchChromium();
    context = chrome.context;
  });
  after(async () => {
    await chrome?.close();
    await server?.stop();
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
