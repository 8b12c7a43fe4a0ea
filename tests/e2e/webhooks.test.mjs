// Webhooks (realtime.webhook_url): the hub POSTs channel_occupied,
// channel_vacated, member_added and member_removed to the app, signed with
// HMAC-SHA256; leaves are held back realtime.webhook_delay seconds and
// dropped with the matching join when the user or channel comes back in
// time; failed deliveries are retried with backoff.
//
// The receiver is a Node HTTP server in this file; it records every POST
// and answers with planned statuses (200 unless told otherwise).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { METRICS_KEY, closeAll, httpRequest, startServer, waitFor, withTimeout } from './lib/server.mjs';
import { connectWithToken, hmacHex, issueToken } from './lib/identity.mjs';

const SECRET = 'webhook-token-secret';
const APP_KEY = 'hook-key';
const FALLBACK_KEY = 'fallback-hook-key'; // realtime.app_key of the hub signed with realtime.secret
const APP_SECRET = 'hook-app-secret';

async function startReceiver() {
  const requests = [];
  const plan = new Map(); // path -> statuses to answer next
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const queue = plan.get(req.url) || [];
      const status = queue.length ? queue.shift() : 200;
      let json;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      requests.push({ at: Date.now(), path: req.url, method: req.method, headers: req.headers, body, json, status });
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status < 300 ? 'ok\n' : 'not now\n');
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${srv.address().port}`;
  return {
    url: (p) => `${base}${p}`,
    requests,
    /** Answers the next requests to `p` with these statuses. */
    failNext(p, ...statuses) {
      plan.set(p, [...(plan.get(p) || []), ...statuses]);
    },
    /** Requests to `p`, in arrival order. */
    to(p) {
      return requests.filter((r) => r.path === p);
    },
    /** Events of the requests to `p` that were answered 2xx, in order. */
    delivered(p) {
      return requests.filter((r) => r.path === p && r.status < 300).flatMap((r) => r.json.events);
    },
    close() {
      srv.closeAllConnections?.();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

const names = (events) => events.map((e) => (e.user_id === undefined ? `${e.name} ${e.channel}` : `${e.name} ${e.channel} ${e.user_id}`));

describe('webhooks', () => {
  let receiver;
  let hub; // webhook_delay=1, app_secret signs
  let fallback; // no app_secret: realtime.secret signs
  const clients = [];
  const as = async (server, id) => {
    const c = await connectWithToken(server, await issueToken(server, id, { channels: ['private-*', 'presence-*'] }));
    clients.push(c);
    return c;
  };
  /** Waits until an event matching `pred` was delivered to `p`; returns all delivered events. */
  const until = (p, pred, ms = 6000, what = 'a webhook event') =>
    waitFor(() => receiver.delivered(p).some(pred) && receiver.delivered(p), ms, { interval: 25, message: what });

  before(async () => {
    receiver = await startReceiver();
    [hub, fallback] = await Promise.all([
      startServer({
        ini: {
          secret: SECRET,
          allow_anonymous: 0,
          webhook_url: receiver.url('/hooks'),
          webhook_delay: 1,
          app_key: APP_KEY,
          app_secret: APP_SECRET,
          // A ping every tick of the hub's one-second clock: lets the reload
          // test start right after a tick (see there).
          ping_interval: 1,
        },
      }),
      startServer({ ini: { secret: SECRET, allow_anonymous: 0, webhook_url: receiver.url('/fallback'), webhook_delay: 1, app_key: FALLBACK_KEY } }),
    ]);
  });
  after(async () => {
    closeAll(clients);
    await Promise.all([hub?.stop(), fallback?.stop()]);
    await receiver?.close();
  });

  it('posts JSON signed with X-Pusher-Signature = HMAC-SHA256(app_secret, body) and X-Pusher-Key', async () => {
    const c = await as(hub, 'signer');
    const t0 = Date.now();
    await c.subscribe('hooked-public');
    await until('/hooks', (e) => e.channel === 'hooked-public');
    const [req] = receiver.to('/hooks').filter((r) => r.body.includes('hooked-public'));
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-pusher-key'], APP_KEY);
    assert.equal(req.headers['x-pusher-signature'], hmacHex(APP_SECRET, req.body));
    assert.notEqual(req.headers['x-pusher-signature'], hmacHex(SECRET, req.body));
    assert.equal(req.headers['user-agent'], 'realtime-hub');
    assert.deepEqual(Object.keys(req.json).sort(), ['events', 'time_ms']);
    assert.ok(Number.isInteger(req.json.time_ms) && req.json.time_ms >= t0 - 1000 && req.json.time_ms <= Date.now() + 1000, `time_ms ${req.json.time_ms}`);
    assert.deepEqual(req.json.events, [{ name: 'channel_occupied', channel: 'hooked-public' }]);
    // Public and private channels have no member events.
    await c.subscribe('private-hooked');
    await c.unsubscribe('private-hooked');
    await c.unsubscribe('hooked-public');
    const events = await until('/hooks', (e) => e.name === 'channel_vacated' && e.channel === 'private-hooked');
    // The vacated events are held back, then go out in the order of the leaves.
    assert.deepEqual(names(events.filter((e) => /hooked/.test(e.channel))), [
      'channel_occupied hooked-public',
      'channel_occupied private-hooked',
      'channel_vacated private-hooked',
      'channel_vacated hooked-public',
    ]);
    for (const r of receiver.to('/hooks')) assert.equal(r.headers['x-pusher-signature'], hmacHex(APP_SECRET, r.body));
    // /metrics counts each request the receiver took (issue 16).
    let counted;
    await waitFor(async () => {
      const text = (await httpRequest(hub.wsPort, '/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` } })).body;
      counted = Number((/^realtime_webhooks_total\{outcome="delivered"\} (\d+)$/m.exec(text) || [])[1]);
      return counted === receiver.to('/hooks').filter((r) => r.status >= 200 && r.status < 300).length;
    }, 5000, { interval: 100, message: () => `realtime_webhooks_total{outcome="delivered"} ${counted}, the receiver took ${receiver.to('/hooks').length}` });
  });

  it('presence: occupied, member_added, member_removed, vacated in order; one member per user', async () => {
    const ch = 'presence-hooks';
    const a1 = await as(hub, 'ann');
    const a2 = await as(hub, 'ann');
    const b = await as(hub, 'bob');
    await a1.subscribe(ch);
    await a2.subscribe(ch); // a second tab: no second member_added
    await b.subscribe(ch);
    await until('/hooks', (e) => e.name === 'member_added' && e.channel === ch && e.user_id === 'bob');
    const left = Date.now();
    await a1.unsubscribe(ch);
    a2.close(); // the last tab of ann: leaves by dropping the connection
    b.ws.close();
    const events = await until('/hooks', (e) => e.name === 'channel_vacated' && e.channel === ch, 6000, 'channel_vacated');
    assert.deepEqual(names(events.filter((e) => e.channel === ch)), [
      `channel_occupied ${ch}`,
      `member_added ${ch} ann`,
      `member_added ${ch} bob`,
      `member_removed ${ch} ann`,
      `member_removed ${ch} bob`,
      `channel_vacated ${ch}`,
    ]);
    // Held back by the delay (1 s; the hub's clock has whole seconds, so
    // somewhere up to a second), not sent with the leave.
    const removedAt = receiver.to('/hooks').find((r) => r.body.includes('member_removed') && r.body.includes(ch)).at;
    assert.ok(removedAt - left <= 2500, `member_removed ${removedAt - left} ms after the leave`);
  });

  it('a reload within the delay (leave, then join again) posts no member_removed / member_added pair', async () => {
    const ch = 'presence-reload';
    const tab = await as(hub, 'reloader');
    await tab.subscribe(ch);
    await until('/hooks', (e) => e.name === 'member_added' && e.channel === ch);
    const before = receiver.delivered('/hooks').length;

    // The hub's clock ticks once a second and a leave is due
    // webhook_delay ticks later; start the reload right after a tick (a
    // server ping) so it has the whole second of webhook_delay=1.
    const pings = tab.pings;
    await waitFor(() => tab.pings > pings, 3000, { interval: 5, message: 'a server ping' });
    tab.close(); // the page unloads: the socket drops
    const again = await as(hub, 'reloader');
    await again.subscribe(ch);

    // A leave after the reload, on another channel: when its webhook has
    // arrived, anything the reload caused has too (leaves go out in order).
    const sentinel = await as(hub, 'sentinel');
    await sentinel.subscribe('presence-sentinel');
    await sentinel.unsubscribe('presence-sentinel');
    const events = await until('/hooks', (e) => e.name === 'channel_vacated' && e.channel === 'presence-sentinel', 6000, 'the sentinel leave');
    assert.deepEqual(names(events.slice(before).filter((e) => e.channel === ch)), [], 'events for the reloaded channel');

    // A real leave still gets through.
    again.close();
    const later = await until('/hooks', (e) => e.name === 'channel_vacated' && e.channel === ch);
    assert.deepEqual(names(later.slice(before).filter((e) => e.channel === ch)), [`member_removed ${ch} reloader`, `channel_vacated ${ch}`]);
  });

  it('retries a failed delivery (500, then 200) with the same body', async () => {
    const p = '/fallback';
    const c = await as(fallback, 'retry-user');
    receiver.failNext(p, 500);
    await c.subscribe('retry-one');
    await until(p, (e) => e.channel === 'retry-one', 8000, 'the retried delivery');
    const attempts = receiver.to(p).filter((r) => r.body.includes('"retry-one"'));
    assert.deepEqual(attempts.map((r) => r.status), [500, 200]);
    assert.equal(attempts[1].body, attempts[0].body, 'the retry repeats the body');
    assert.equal(attempts[1].headers['x-pusher-signature'], attempts[0].headers['x-pusher-signature']);
    // Backoff 1 s (the hub's clock has whole seconds: up to 2 s).
    assert.ok(attempts[1].at - attempts[0].at <= 3000, `retried after ${attempts[1].at - attempts[0].at} ms`);
    // Without realtime.app_secret, realtime.secret signs.
    for (const r of receiver.to(p)) {
      assert.equal(r.headers['x-pusher-signature'], hmacHex(SECRET, r.body));
      assert.equal(r.headers['x-pusher-key'], FALLBACK_KEY);
    }
  });

  // TODO: fails today. webhook.c sends new batches while a failed one waits
  // for its retry (rt__send_next only skips retries that are not due), so
  // the retried batch arrives after newer events.
  it('events that happen while a delivery waits for its retry are not delivered before it', async () => {
    const p = '/fallback';
    const c = await as(fallback, 'order-user');
    receiver.failNext(p, 500);
    await c.subscribe('order-first');
    await waitFor(() => receiver.to(p).some((r) => r.status === 500 && r.body.includes('"order-first"')), 5000, { message: 'the failing attempt' });
    await c.subscribe('order-second');
    await until(p, (e) => e.channel === 'order-first', 8000, 'the retried delivery');
    const events = await until(p, (e) => e.channel === 'order-second', 8000, 'the later event');
    assert.deepEqual(
      names(events.filter((e) => e.channel.startsWith('order-'))),
      ['channel_occupied order-first', 'channel_occupied order-second'],
      `deliveries: ${JSON.stringify(receiver.to(p).map((r) => [r.status, r.json.events.map((e) => e.channel)]))}`,
    );
  });

  it('keeps retrying through several failures', async () => {
    const p = '/fallback';
    const c = await as(fallback, 'retry-user-2');
    receiver.failNext(p, 503, 502);
    await c.subscribe('retry-three');
    await until(p, (e) => e.channel === 'retry-three', 10000, 'delivery after two failures');
    const attempts = receiver.to(p).filter((r) => r.body.includes('"retry-three"'));
    assert.deepEqual(attempts.map((r) => r.status), [503, 502, 200]);
    assert.equal(new Set(attempts.map((r) => r.body)).size, 1);
  });
});
