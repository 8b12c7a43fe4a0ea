// Issue 17: the Laravel driver (integrations/laravel) in a real Laravel 8
// application (Debian's php-laravel-framework, tests/e2e/laravel-app),
// served by php-fpm behind nginx and by php -S with workers, with Laravel
// Echo 2 + pusher-js in Node as the clients. The app sets only
// BROADCAST_DRIVER=realtime: broadcasts go to the hub in-process.
//
//   - a ShouldBroadcastNow event on a public channel, sent by the worker;
//   - a private channel authorized by routes/channels.php through
//     /broadcasting/auth (signed by Realtime\pusherAuth()), and a user the
//     callback refuses;
//   - a queued ShouldBroadcast event sent by `php artisan queue:work`
//     (database queue on sqlite): a CLI process with no hub, publishing
//     through the pool's shared segment, to a private channel and to a
//     signed-in user's #server-to-user- channel (Realtime\broadcastToUser());
//   - `php artisan realtime:status` listing every hub of the pool;
//   - a presence channel (here, joining, leaving), toOthers() skipping the
//     sender, a whisper, and a broadcast notification;
//   - the same from a page of the app in headless Chromium (the browser
//     builds of pusher-js and laravel-echo), next to a client in Node.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { connect, waitFor, withTimeout } from './lib/server.mjs';
import { cliServer, fpmNginx } from './lib/pool/servers.mjs';
import { LARAVEL_EXTENSIONS, artisan, makeLaravelApp } from './lib/laravel.mjs';
import { APP, Echo, PusherJS, connected, subscribed } from './pusher-helpers.mjs';
import { REPO_ROOT } from './lib/server.mjs';
import { SANITIZER } from './lib/sanitizer.mjs';

// The ASan run (scripts/asan.sh) gives PHP plain malloc (USE_ZEND_ALLOC=0).
// PHP 8.2 frees the objects still alive at the end of a request (Laravel's
// container and its closures hold each other) with its heap, not one by one,
// so under plain malloc they are reported as leaks of PHP's own. Their
// stacks name PHP's object allocators once unwound in full;
// tests/asan/lsan-laravel.supp adds those to the usual suppressions. A leak
// with no such frame (every allocation of the extension) still fails.
if (SANITIZER) {
  process.env.ASAN_OPTIONS = `${process.env.ASAN_OPTIONS || ''}:fast_unwind_on_malloc=0:malloc_context_size=6`;
  process.env.LSAN_OPTIONS = `suppressions=${path.join(REPO_ROOT, 'tests/asan/lsan-laravel.supp')}:print_suppressions=0`;
}

const INI = [
  'realtime.allow_anonymous = 1',
  `realtime.app_id = ${APP.id}`,
  `realtime.app_key = ${APP.key}`,
  `realtime.app_secret = ${APP.secret}`,
  'realtime.client_events = 1',
  // The page (the app's port) and the hub are on different ports.
  'realtime.allowed_origins = *',
  LARAVEL_EXTENSIONS,
].join('\n');

const SERVERS = {
  'php-fpm + nginx': (docroot) =>
    fpmNginx({
      label: 'laravel-fpm',
      docroot,
      iniExtra: INI,
      pools: [{ name: 'app', pm: ['pm = static', 'pm.max_children = 2', 'pm.max_requests = 0'].join('\n') }],
    }),
  'php -S': (docroot) => cliServer({ label: 'laravel-cli', workers: 2, docroot, iniExtra: INI }),
};

/**
 * The first call of a callback: `cb` to hand out, `wait()` resolves with its
 * argument, within a deadline counted from the wait.
 */
function firstCall(what) {
  let resolve;
  const called = new Promise((r) => (resolve = r));
  return { cb: (v) => resolve(v), wait: (ms = 10000) => withTimeout(called, ms, what) };
}

let chrome;
/** One headless Chromium for the file, started on first use. */
async function browserContext() {
  chrome ??= await launchChromium();
  return chrome.context;
}
after(async () => {
  await chrome?.close();
});

for (const [kind, start] of Object.entries(SERVERS)) {
  describe(`Laravel driver on ${kind}`, () => {
    let app;
    let dep;
    const echoes = [];

    before(async () => {
      app = makeLaravelApp();
      dep = await start(path.join(app, 'public'));
      const setup = await artisan(app, path.join(dep.dir, 'php.ini'), ['app:queue-tables']);
      assert.equal(setup.code, 0, `artisan app:queue-tables: ${setup.stdout}${setup.stderr}`);
      const home = await dep.json('/');
      assert.equal(home.ok, true);
    });
    after(async () => {
      for (const e of echoes) e.disconnect();
      if (dep) await dep.stop();
      if (app) fs.rmSync(app, { recursive: true, force: true });
    });

    /** Laravel Echo (broadcaster 'pusher') as `user` (X-User), connected to the hub. */
    async function echo(user) {
      const e = new Echo({
        broadcaster: 'pusher',
        Pusher: PusherJS,
        key: APP.key,
        cluster: 'mt1',
        wsHost: '127.0.0.1',
        wsPort: dep.hubPort,
        wssPort: dep.hubPort,
        forceTLS: false,
        enabledTransports: ['ws'],
        authEndpoint: `http://127.0.0.1:${dep.frontPort}/broadcasting/auth`,
        auth: { headers: { 'X-User': String(user) } },
        userAuthentication: {
          endpoint: `http://127.0.0.1:${dep.frontPort}/user-auth`,
          transport: 'ajax',
          headers: { 'X-User': String(user) },
        },
      });
      echoes.push(e);
      await connected(e.connector.pusher, 10000);
      return e;
    }

    const channelOf = (e, name) => e.connector.pusher.channel(name);

    async function post(reqPath, headers = {}, body = '') {
      const res = await dep.get(reqPath, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body), ...headers },
        body,
      });
      assert.equal(res.status, 200, `POST ${reqPath}: ${res.status} ${res.body.slice(0, 500)}\n${dep.logs()}`);
      return res.json;
    }

    it('sends a ShouldBroadcastNow event from the worker to a public channel', async () => {
      const ann = await echo(1);
      const got = firstCall('OrderShipped on orders');
      ann.channel('orders').listen('OrderShipped', got.cb);
      await subscribed(channelOf(ann, 'orders'));
      await post('/ship/5');
      const data = await got.wait();
      assert.equal(data.orderId, 5);
      assert.ok(dep.servingPids().includes(data.pid), `sent by a worker (pid ${data.pid})`);
      assert.equal(data.socket, undefined, 'the socket id is not part of the payload');

      // A private-encrypted- channel among the channels: nothing is sent.
      const leak = [];
      ann.channel('orders').listen('.Leak', (d) => leak.push(d));
      const refused = await post('/encrypted');
      assert.match(refused.error, /private-encrypted-vault: private-encrypted- channels are not supported/);
      // Anything sent before the next event would arrive before it (one stream).
      const next = firstCall('OrderShipped 6');
      ann.channel('orders').listen('OrderShipped', (d) => d.orderId === 6 && next.cb(d));
      await post('/ship/6');
      await next.wait();
      assert.deepEqual(leak, []);
    });

    it('authorizes private channels by routes/channels.php and refuses a forbidden user', async () => {
      const eve = await echo(3);
      const refused = firstCall('subscription error for Eve');
      eve.private('orders.private').error(refused.cb);
      const err = await refused.wait();
      assert.equal(err.status, 403, `Eve refused by the channel callback: ${JSON.stringify(err)}`);
      assert.equal(channelOf(eve, 'private-orders.private').subscribed, false);

      // Ann's answer for another socket id: the hub checks the signature.
      const forged = await post('/broadcasting/auth', { 'X-User': '1' }, 'socket_id=1.1&channel_name=private-orders.private');
      assert.match(forged.auth, new RegExp(`^${APP.key}:[0-9a-f]{64}$`));
      const p = new PusherJS(APP.key, {
        cluster: 'mt1',
        wsHost: '127.0.0.1',
        wsPort: dep.hubPort,
        forceTLS: false,
        enabledTransports: ['ws'],
        channelAuthorization: { customHandler: (params, callback) => callback(null, forged) },
      });
      echoes.push(p);
      await connected(p, 10000);
      await assert.rejects(subscribed(p.subscribe('private-orders.private')), /subscription_error.*401/);
    });

    it('sends queued ShouldBroadcast events from php artisan queue:work (CLI, shared segment) to a private channel and a user', async () => {
      const ann = await echo(1);
      const bob = await echo(2);
      const onPrivate = firstCall('OrderPaid on private-orders.private');
      ann.private('orders.private').listen('OrderPaid', onPrivate.cb);
      await subscribed(channelOf(ann, 'private-orders.private'));
      const onUser = firstCall('OrderPaid for user 2');
      const pusher = bob.connector.pusher;
      pusher.user.bind('App\\Events\\OrderPaid', onUser.cb);
      pusher.signin();
      await waitFor(() => pusher.user.serverToUserChannel?.subscribed, 5000, { message: 'signin and #server-to-user-2' });

      // The artisan command sees every hub of the server through the segment.
      const want = dep.servingPids().sort((a, b) => a - b);
      const status = await waitFor(async () => {
        const r = await artisan(app, path.join(dep.dir, 'php.ini'), ['realtime:status', '--json']);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const s = JSON.parse(r.stdout);
        const pids = s.hubs.map((h) => h.pid).sort((a, b) => a - b);
        return JSON.stringify(pids) === JSON.stringify(want) ? s : null;
      }, 15000, { interval: 200, message: `realtime:status to list the hubs of pids ${want}` });
      assert.equal(status.running, false);
      assert.equal(status.publish_path, 'segment');
      const text = await artisan(app, path.join(dep.dir, 'php.ini'), ['realtime:status']);
      assert.match(text.stdout, /Publishes via: segment/);
      assert.match(text.stdout, new RegExp(`Hubs: +${want.length}, \\d+ connections`));

      await post('/pay/3');
      const work = await artisan(app, path.join(dep.dir, 'php.ini'), ['queue:work', '--stop-when-empty']);
      assert.equal(work.code, 0, work.stdout + work.stderr);
      assert.match(work.stdout, /Processed: +App\\Events\\OrderPaid/);
      const paid = await onPrivate.wait();
      assert.equal(paid.orderId, 3);
      assert.equal(paid.amount, 300);
      assert.ok(!dep.servingPids().includes(paid.pid), `sent by the queue worker, not a web worker (pid ${paid.pid})`);
      const direct = await onUser.wait();
      assert.deepEqual(direct, paid);
    });

    it('runs presence channels: here, joining, leaving; toOthers() skips the sender; whispers', async () => {
      const ann = await echo(1);
      const bob = await echo(2);
      const annRoom = ann.join('room.1');
      const here = firstCall('here for Ann');
      const joining = firstCall('Bob joining');
      const leaving = firstCall('Bob leaving');
      const annGot = [];
      annRoom.here(here.cb).joining(joining.cb).leaving(leaving.cb).listen('.message', (m) => annGot.push(m));
      assert.deepEqual(await here.wait(), [{ id: 1, name: 'Ann' }]);

      const bobRoom = bob.join('room.1');
      const bobHere = firstCall('here for Bob');
      const bobGot = [];
      const bobFirst = firstCall('a message for Bob');
      const whisper = firstCall('a whisper for Bob');
      bobRoom.here(bobHere.cb).listen('.message', (m) => {
        bobGot.push(m);
        bobFirst.cb(m);
      }).listenForWhisper('typing', whisper.cb);
      const members = (await bobHere.wait()).map((u) => u.name).sort();
      assert.deepEqual(members, ['Ann', 'Bob']);
      assert.deepEqual(await joining.wait(), { id: 2, name: 'Bob' });

      // toOthers(): Ann's socket id in X-Socket-ID, as Echo's interceptors send it.
      await post('/say', { 'X-User': '1', 'X-Socket-ID': ann.socketId() }, 'text=hello');
      assert.deepEqual(await bobFirst.wait(), { from: 'Ann', text: 'hello' });
      // Bob's answer, after Ann's message in the same stream: once Ann has it,
      // her own message would have come first.
      await post('/say', { 'X-User': '2', 'X-Socket-ID': bob.socketId() }, 'text=hi');
      await waitFor(() => annGot.length > 0, 5000, { message: "Bob's message at Ann" });
      assert.deepEqual(annGot, [{ from: 'Bob', text: 'hi' }], 'Ann does not get her own message');
      assert.deepEqual(bobGot, [{ from: 'Ann', text: 'hello' }], 'Bob does not get his own message');

      annRoom.whisper('typing', { name: 'Ann' });
      assert.deepEqual(await whisper.wait(), { name: 'Ann' });

      bob.leave('room.1');
      assert.deepEqual(await leaving.wait(), { id: 2, name: 'Bob' });
    });

    it('serves Echo in headless Chromium: public event, notification, presence, toOthers(), whispers', async () => {
      const context = await browserContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`http://127.0.0.1:${dep.frontPort}/echo.html?key=${APP.key}&port=${dep.hubPort}&user=1`, { timeout: 10000 });
        await page.waitForFunction(() => state.subscribed.orders && state.subscribed.user && state.here, null, { timeout: 10000 });
        assert.deepEqual(await page.evaluate(() => state.here), [{ id: 1, name: 'Ann' }]);

        await post('/ship/8');
        await post('/notify/1');
        await page.waitForFunction(() => log.length >= 2, null, { timeout: 5000 });
        const log = await page.evaluate(() => log.splice(0));
        assert.deepEqual(log[0], ['orders', { orderId: 8, pid: log[0][1].pid }]);
        assert.equal(log[1][0], 'notification');
        assert.equal(log[1][1].invoice, 7);

        // Bob, in Node, joins; the page sees him join, and they talk.
        const bob = await echo(2);
        const bobGot = [];
        const bobHello = firstCall('the page\'s message at Bob');
        const bobWhisper = firstCall('the page\'s whisper at Bob');
        const bobRoom = bob.join('room.1');
        const bobHere = firstCall('here for Bob');
        bobRoom.here(bobHere.cb).listen('.message', (m) => {
          bobGot.push(m);
          bobHello.cb(m);
        }).listenForWhisper('typing', bobWhisper.cb);
        await bobHere.wait();
        await page.waitForFunction(() => state.joined.length === 1, null, { timeout: 5000 });
        assert.deepEqual(await page.evaluate(() => state.joined), [{ id: 2, name: 'Bob' }]);

        assert.equal(await page.evaluate(() => say('from the browser')), 200);
        assert.deepEqual(await bobHello.wait(), { from: 'Ann', text: 'from the browser' });
        await post('/say', { 'X-User': '2', 'X-Socket-ID': bob.socketId() }, 'text=to the browser');
        await page.waitForFunction(() => log.length >= 1, null, { timeout: 5000 });
        assert.deepEqual(await page.evaluate(() => log.splice(0)), [['room', { from: 'Bob', text: 'to the browser' }]],
          'the page does not get its own message');
        assert.deepEqual(bobGot, [{ from: 'Ann', text: 'from the browser' }]);

        await page.evaluate(() => echo.join('room.1').whisper('typing', { name: 'Ann' }));
        assert.deepEqual(await bobWhisper.wait(), { name: 'Ann' });
        bobRoom.whisper('typing', { name: 'Bob' });
        await page.waitForFunction(() => log.length >= 1, null, { timeout: 5000 });
        assert.deepEqual(await page.evaluate(() => log.splice(0)), [['whisper', { name: 'Bob' }]]);
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    });

    it("delivers a broadcast notification on the user's private channel", async () => {
      const bob = await echo(2);
      const note = firstCall('a notification for Bob');
      bob.private('App.Models.User.2').notification(note.cb);
      await subscribed(channelOf(bob, 'private-App.Models.User.2'));
      await post('/notify/2');
      const n = await note.wait();
      assert.equal(n.invoice, 7);
      assert.equal(n.type, 'App\\Notifications\\InvoicePaid');
    });
  });
}

// The hub's native protocol signs clients in through the same Laravel route:
// realtime.auth_endpoint is /broadcasting/auth, whose GET (the hub's call,
// with the client's Cookie and Authorization headers) the driver answers
// with the signed-in user, the channels it may join (its notification
// channel and the connection's native_channels) and its presence info
// (native_user_info: tests/e2e/laravel-app/config/broadcasting.php). No
// anonymous clients here.
describe('Laravel driver: native clients signed in through /broadcasting/auth', () => {
  let app;
  let dep;
  before(async () => {
    app = makeLaravelApp();
    dep = await fpmNginx({
      label: 'laravel-native',
      docroot: path.join(app, 'public'),
      iniExtra: ({ httpPort }) => [
        INI.replace('realtime.allow_anonymous = 1', 'realtime.allow_anonymous = 0'),
        `realtime.auth_endpoint = "http://127.0.0.1:${httpPort}/broadcasting/auth"`,
      ].join('\n'),
      pools: [{ name: 'app', pm: ['pm = static', 'pm.max_children = 2', 'pm.max_requests = 0'].join('\n') }],
    });
  });
  after(async () => {
    if (dep) await dep.stop();
    if (app) fs.rmSync(app, { recursive: true, force: true });
  });

  it('connects as the Laravel user with its notification channel, the configured patterns and presence info; refuses the signed-out', async () => {
    const ann = await connect(dep.wsUrl, { headers: { Authorization: 'User 1' }, timeout: 10000 });
    try {
      assert.equal(ann.hello.user_id, '1');
      await ann.subscribe('private-App.Models.User.1');
      const other = await ann.request({ action: 'subscribe', channel: 'private-App.Models.User.2' });
      assert.equal(other.type, 'error', JSON.stringify(other));
      assert.equal(other.code, 'forbidden');
      const room = await ann.subscribe('presence-room.4');
      assert.deepEqual(room.members, [{ id: '1', info: { name: 'Ann' } }]);

      const res = await dep.get('/notify/1', { method: 'POST', headers: { 'Content-Length': 0 } });
      assert.equal(res.status, 200, `POST /notify/1: ${res.status} ${res.body.slice(0, 500)}\n${dep.logs()}`);
      const note = await ann.next((m) => m.type === 'message' && m.channel === 'private-App.Models.User.1', 10000);
      assert.equal(note.data.invoice, 7);
      assert.equal(note.data.type, 'App\\Notifications\\InvoicePaid');
    } finally {
      ann.close();
    }
    // Signed out, or a user the app does not know: the route answers 401.
    await assert.rejects(connect(dep.wsUrl, { timeout: 10000 }), /HTTP 401/);
    await assert.rejects(connect(dep.wsUrl, { headers: { Authorization: 'User 99' }, timeout: 10000 }), /HTTP 401/);
  });
});
