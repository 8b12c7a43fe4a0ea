// Operability (issue 16): GET /metrics on the hub port covers the whole
// pool of php-fpm workers (each hub publishes its counters in its slot of
// the shared segment; whichever hub answers sums them), in Prometheus text
// format, behind realtime.metrics_key; /health/live and /health/ready.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { METRICS_KEY, closeAll, connect, httpRequest, publishSignature, startServer, waitFor } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { connectMany, expectAll, publish, spread, warmUp } from './lib/pool/clients.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';
import { startApp } from './lib/redis/apps.mjs';
import { startRedis } from './lib/redis/redis.mjs';

const AUTH = { authorization: `Bearer ${METRICS_KEY}` };
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"$/;

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a
 * HELP, a TYPE or a sample; a family's TYPE comes before its samples and
 * once; counters end in _total; values are numbers. Returns
 * { types, samples: [{ name, labels, value }] }.
 */
export function parseProm(text) {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const types = new Map();
  const helps = new Set();
  const seen = new Set();
  const samples = [];
  let lineNo = 0;
  for (const line of text.slice(0, -1).split('\n')) {
    lineNo++;
    const where = `line ${lineNo}: ${line}`;
    if (line.startsWith('# HELP ')) {
      const [name] = line.slice(7).split(' ', 1);
      assert.match(name, NAME, where);
      assert.ok(!helps.has(name), `HELP twice: ${where}`);
      helps.add(name);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, ...rest] = line.slice(7).split(' ');
      assert.match(name, NAME, where);
      assert.equal(rest.length, 0, where);
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), where);
      assert.ok(!types.has(name), `TYPE twice: ${where}`);
      assert.ok(!samples.some((s) => s.name === name || ["bucket", "sum", "count"].some((x) => s.name === `${name}_${x}`)), `TYPE after samples: ${where}`);
      if (type === 'counter') assert.match(name, /_total$/, `a counter's name ends in _total: ${where}`);
      types.set(name, type);
      continue;
    }
    assert.ok(!line.startsWith('#') && line.trim() !== '', `unexpected line ${where}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample: ${where}`);
    const labels = {};
    if (m[3]) {
      for (const pair of m[3].split(',')) {
        const lm = LABEL.exec(pair);
        assert.ok(lm, `bad label ${pair}: ${where}`);
        assert.ok(!(lm[1] in labels), `label twice: ${where}`);
        labels[lm[1]] = lm[2];
      }
    }
    const value = Number(m[4]);
    assert.ok(Number.isFinite(value) || /^[+-]Inf$|^NaN$/.test(m[4]), `bad value: ${where}`);
    // A histogram's samples are its family's _bucket (with le), _sum and _count.
    const hist = /^(.*)_(bucket|sum|count)$/.exec(m[1]);
    const family = types.has(m[1]) ? m[1] : hist && types.get(hist[1]) === 'histogram' ? hist[1] : null;
    assert.ok(family, `sample without TYPE: ${where}`);
    if (family !== m[1] && hist[2] === 'bucket') assert.match(String(labels.le), /^(\d+(\.\d+)?|\+Inf)$/, where);
    const key = `${m[1]}{${JSON.stringify(labels)}}`;
    assert.ok(!seen.has(key), `series twice: ${where}`);
    seen.add(key);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

const one = (p, name, labels = {}) => {
  const s = p.samples.filter((x) => x.name === name
    && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  assert.equal(s.length, 1, `one sample of ${name} ${JSON.stringify(labels)}`);
  return s[0].value;
};
const sum = (p, name) => p.samples.filter((x) => x.name === name).reduce((a, x) => a + x.value, 0);

describe('metrics: /metrics and probes of a php-fpm pool of 4 workers', { timeout: 120000 }, () => {
  let d;
  const clients = [];
  const scrape = async (headers = AUTH) => httpRequest(d.hubPort, '/metrics', { headers, timeout: 5000 });

  before(async () => {
    d = await fpmNginx({ label: 'fpm-metrics', pools: [{ name: 'app', pm: PM.static4 }] });
    await warmUp(d, { min: 4 });
  });
  after(async () => {
    for (const c of clients) c.close();
    if (d) await d.stop();
  });

  it('refuses /metrics without the key (401) or with a wrong one, answers with it', async () => {
    const none = await scrape({});
    assert.equal(none.status, 401, none.body);
    assert.match(String(none.headers['www-authenticate']), /Bearer/);
    assert.equal((await scrape({ authorization: 'Bearer wrong-key-of-same-len!!' })).status, 401);
    assert.equal((await scrape({ authorization: `Bearer ${METRICS_KEY}x` })).status, 401);
    const ok = await scrape();
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  });

  it('a scrape from any worker shows the whole pool: connections, hubs, deliveries', async () => {
    const N = 40;
    const M = 5;
    clients.push(...(await connectMany(d.wsUrl, N, { subscribe: 'metrics' })));
    const nodes = Object.keys(spread(clients));
    assert.ok(nodes.length >= 2, `clients on at least 2 hubs: ${JSON.stringify(spread(clients))}`);
    const before = parseProm((await scrape()).body);
    const deliveredBefore = one(before, 'realtime_deliveries_total');
    await publish(d, 'metrics', { n: 1 }, { count: M });
    for (let i = 0; i < M; i++) {
      await expectAll(clients, (m) => m.type === 'message' && m.channel === 'metrics', 15000, `message ${i}`);
    }
    // Each hub publishes its figures once a second; several scrapes (new
    // connections, so SO_REUSEPORT spreads them over the hubs) agree.
    const answeredBy = new Set();
    await waitFor(async () => {
      const p = parseProm((await scrape()).body);
      const hubs = one(p, 'realtime_hubs');
      const conns = one(p, 'realtime_connections');
      const delivered = one(p, 'realtime_deliveries_total') - deliveredBefore;
      const perHub = sum(p, 'realtime_hub_connections');
      const perHubDelivered = sum(p, 'realtime_hub_deliveries_total');
      for (const s of p.samples.filter((x) => x.name === 'realtime_hub_connections')) {
        assert.match(s.labels.hub, /^\d+$/);
        assert.match(s.labels.pid, /^\d+$/);
      }
      answeredBy.add(p.samples.find((x) => x.name === 'realtime_hub_connections').labels.hub);
      // Every hub takes every message from the shared ring (as of its last tick).
      const dispatched = p.samples.filter((x) => x.name === 'realtime_hub_messages_dispatched_total');
      return hubs === 4 && conns >= N && perHub === conns && delivered >= N * M
        && perHubDelivered === one(p, 'realtime_deliveries_total')
        && dispatched.length === 4 && dispatched.every((x) => x.value >= M);
    }, 15000, { interval: 200, message: 'a scrape with the pool totals' });
    const p = parseProm((await scrape()).body);
    assert.equal(one(p, 'realtime_hubs'), 4);
    assert.equal(p.samples.filter((x) => x.name === 'realtime_hub_connections').length, 4);
    assert.equal(p.types.get('realtime_messages_dispatched_total'), 'counter');
    assert.equal(p.types.get('realtime_connections'), 'gauge');
    for (const reason of ['max_connections', 'max_connections_per_ip', 'subscribe_rate']) {
      assert.equal(typeof one(p, 'realtime_refusals_total', { reason }), 'number');
    }
    assert.equal(one(p, 'realtime_broker_up'), 1);
    assert.ok(one(p, 'realtime_app_channels') >= 1);
    // Issue 16's families: sessions by protocol and transport, auth
    // outcomes, bytes, messages by source, the latency histogram.
    assert.ok(one(p, 'realtime_sessions', { protocol: 'native', transport: 'websocket' }) >= N);
    assert.ok(one(p, 'realtime_auth_total', { outcome: 'ok' }) >= N);
    assert.ok(one(p, 'realtime_bytes_sent_total') > 0);
    assert.ok(one(p, 'realtime_messages_published_total', { source: 'php' }) >= M);
    assert.equal(p.types.get('realtime_delivery_latency_seconds'), 'histogram');
    const buckets = p.samples.filter((x) => x.name === 'realtime_delivery_latency_seconds_bucket');
    assert.equal(buckets.at(-1).labels.le, '+Inf');
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative buckets');
    assert.equal(buckets.at(-1).value, one(p, 'realtime_delivery_latency_seconds_count'));
    assert.ok(one(p, 'realtime_delivery_latency_seconds_count') >= M, 'each hub with subscribers observed each message');
  });

  it('answers the probes: /health/live and /health/ready 200, /health as before', async () => {
    const live = await httpRequest(d.hubPort, '/health/live');
    assert.equal(live.status, 200, live.body);
    assert.equal(live.json.status, 'live');
    const ready = await httpRequest(d.hubPort, '/health/ready');
    assert.equal(ready.status, 200, ready.body);
    assert.equal(ready.json.status, 'ready');
    const health = await httpRequest(d.hubPort, '/health');
    assert.deepEqual(health.json, { status: 'ok' });
    assert.equal((await httpRequest(d.hubPort, '/health/ready', { method: 'POST' })).status, 405);
  });
});

describe('metrics: sessions by transport, subscriptions, auth outcomes, messages by source', { timeout: 60000 }, () => {
  const SECRET = 'metrics-families-secret-0123456789';
  let server;
  const clients = [];
  const streams = [];
  before(async () => {
    server = await startServer({ ini: { secret: SECRET, allow_anonymous: 1, history: 'hist-*:100:3600' } });
  });
  after(async () => {
    for (const s of streams) s.close();
    closeAll(clients);
    await server?.stop();
  });
  const scrape = async () => parseProm((await httpRequest(server.wsPort, '/metrics', { headers: AUTH })).body);

  it('counts each kind of session, the subscriptions, a refused token, /publish and broadcast()', async () => {
    const ws = await connect(server.wsUrl);
    clients.push(ws);
    await ws.subscribe('fam');
    streams.push(await openStream(server.wsPort, '/ws/sse?channels=fam,fam2'));
    const poll = await httpRequest(server.wsPort, '/ws/poll?channels=fam', { timeout: 10000 });
    assert.equal(poll.status, 200, poll.body);
    // A malformed token is refused with 401: unauthenticated.
    await assert.rejects(connect(`${server.wsUrl}?token=not-a-token`, { timeout: 5000 }));
    const body = JSON.stringify({ type: 'publish', channels: ['fam'], data: { via: 'api' } });
    const api = await httpRequest(server.wsPort, '/publish', {
      method: 'POST', body, headers: { 'content-type': 'application/json', ...publishSignature(SECRET, body) },
    });
    assert.equal(api.status, 202, api.body);
    await server.publish('fam', { via: 'php' });
    await ws.next((m) => m.type === 'message' && m.data && m.data.via === 'php', 10000);
    let p;
    await waitFor(async () => {
      p = await scrape();
      return one(p, 'realtime_sessions', { protocol: 'native', transport: 'websocket' }) === 1
        && one(p, 'realtime_sessions', { protocol: 'native', transport: 'sse' }) === 1
        && one(p, 'realtime_sessions', { protocol: 'native', transport: 'longpoll' }) === 1
        && one(p, 'realtime_sessions', { protocol: 'pusher', transport: 'websocket' }) === 0
        && one(p, 'realtime_subscriptions') === 4
        && one(p, 'realtime_auth_total', { outcome: 'unauthenticated' }) === 1
        && one(p, 'realtime_auth_total', { outcome: 'ok' }) >= 2
        && one(p, 'realtime_messages_published_total', { source: 'publish_api' }) === 1
        && one(p, 'realtime_messages_published_total', { source: 'php' }) >= 1
        && one(p, 'realtime_delivery_latency_seconds_count') >= 2;
    }, 10000, { interval: 200, message: () => `the families: ${JSON.stringify(p?.samples.filter((x) => /sessions|subscriptions|auth|published|latency_seconds_count/.test(x.name)))}` });
    ws.close();
    await waitFor(async () => one(await scrape(), 'realtime_sessions', { protocol: 'native', transport: 'websocket' }) === 0,
      10000, { interval: 200, message: 'the closed session no longer counted' });
  });

  it('counts recoveries: recovered, and not recovered (an unknown epoch)', async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    const first = await c.subscribe('hist-1');
    await c.unsubscribe('hist-1');
    await server.publish('hist-1', { n: 1 });
    const back = await c.request({ action: 'subscribe', channel: 'hist-1', since: { offset: first.offset, epoch: first.epoch } });
    assert.equal(back.recovered, true, JSON.stringify(back));
    const lost = await c.request({ action: 'subscribe', channel: 'hist-2', since: { offset: 1, epoch: '0123456789abcdef' } });
    assert.equal(lost.recovered, false, JSON.stringify(lost));
    const p = await scrape();
    assert.equal(one(p, 'realtime_recoveries_total', { outcome: 'recovered' }), 1);
    assert.equal(one(p, 'realtime_recoveries_total', { outcome: 'not_recovered' }), 1);
    // The shared history store, once for the server (not summed over hubs).
    assert.ok(one(p, 'realtime_history_bytes') >= 64 * 1024);
    assert.equal(one(p, 'realtime_history_evictions_total', { what: 'messages' }), 0);
    assert.equal(one(p, 'realtime_history_evictions_total', { what: 'channels' }), 0);
    assert.equal(one(p, 'realtime_history_resets_total'), 0);
  });
});

describe('metrics: /health/ready follows the redis broker', { timeout: 60000 }, () => {
  let redis;
  let app;
  before(async () => {
    redis = await startRedis();
    app = await startApp(redis, { ini: { 'realtime.metrics_key': METRICS_KEY } });
  });
  after(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('answers 503 with the reason while redis-server is down, 200 after it returns; /health/live stays 200', async () => {
    const ready = () => httpRequest(app.wsPort, '/health/ready');
    await waitFor(async () => (await ready()).status === 200, 10000, { message: 'ready with redis up' });
    await redis.kill();
    let down;
    await waitFor(async () => {
      down = await ready();
      return down.status === 503;
    }, 15000, { interval: 100, message: '/health/ready to answer 503 with redis down' });
    assert.deepEqual(down.json, { status: 'unready', reason: 'broker down' });
    assert.equal((await httpRequest(app.wsPort, '/health/live')).status, 200);
    const p = parseProm((await httpRequest(app.wsPort, '/metrics', { headers: AUTH })).body);
    assert.equal(one(p, 'realtime_broker_up'), 0);
    await redis.restart();
    await waitFor(async () => (await ready()).status === 200, 20000, { interval: 100, message: '/health/ready to answer 200 once redis is back' });
    // The reconnect is counted, and the broker is up again.
    await waitFor(async () => {
      const q = parseProm((await httpRequest(app.wsPort, '/metrics', { headers: AUTH })).body);
      return one(q, 'realtime_redis_reconnects_total') >= 1 && one(q, 'realtime_broker_up') === 1;
    }, 10000, { interval: 200, message: 'realtime_redis_reconnects_total >= 1 after redis came back' });
  });
});

describe('metrics: realtime.log_format = json, realtime.log_level, rate-limited refusals', { timeout: 60000 }, () => {
  let server;
  before(async () => {
    server = await startServer({
      ini: { 'realtime.log_format': 'json', 'realtime.log_level': 'warning', 'realtime.max_connections': 1 },
    });
  });
  after(async () => server?.stop());

  it('every line is one JSON object; a flood of refused clients logs one line and counts them all', async () => {
    const FLOOD = 40;
    const held = await connect(server.wsUrl);
    try {
      const results = await Promise.allSettled(Array.from({ length: FLOOD }, () => connect(server.wsUrl, { timeout: 5000 })));
      for (const r of results) if (r.status === 'fulfilled') r.value.close();
      assert.equal(results.filter((r) => r.status === 'rejected').length, FLOOD);
      await waitFor(async () => {
        const p = parseProm((await httpRequest(server.wsPort, '/metrics', { headers: AUTH })).body);
        return one(p, 'realtime_refusals_total', { reason: 'max_connections' }) === FLOOD;
      }, 10000, { message: 'every refusal counted' });
      await waitFor(() => server.log.includes('max_connections'), 5000, { message: 'the refusal logged' });
      const lines = server.log.split('\n').filter((l) => l.startsWith('{'));
      const parsed = lines.map((l) => JSON.parse(l));
      for (const o of parsed) {
        assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.ok(['error', 'warning'].includes(o.level), `log_level=warning keeps ${o.level} out`);
        assert.equal(typeof o.pid, 'number');
        assert.equal(typeof o.msg, 'string');
        assert.equal(typeof o.held, 'number');
      }
      const refusals = parsed.filter((o) => /max_connections/.test(o.msg));
      assert.equal(refusals.length, 1, `one line for ${FLOOD} refusals (the rest held back): ${JSON.stringify(refusals)}`);
      assert.ok(!server.log.split('\n').some((l) => /realtime\[\d+\] /.test(l)), 'no text-format line');
    } finally {
      held.close();
    }
  });
});

// The status page in headless Chromium. With REALTIME_SCREENSHOT=<file.png>
// (scripts/status-screenshot.sh) the screenshot is kept there: the README's.
describe('metrics: /status in headless Chromium', { timeout: 90000 }, () => {
  let d;
  let context;
  let chrome;
  const clients = [];
  before(async () => {
    d = await fpmNginx({ label: 'fpm-status', pools: [{ name: 'app', pm: PM.static4 }] });
    await warmUp(d, { min: 4 });
    chrome = await launchChromium({ viewport: { width: 1100, height: 560 } });
    context = chrome.context;
  });
  after(async () => {
    for (const c of clients) c.close();
    await chrome?.close();
    if (d) await d.stop();
  });

  it('/status and /status.json refuse without the key', async () => {
    assert.equal((await httpRequest(d.hubPort, '/status')).status, 401);
    assert.equal((await httpRequest(d.hubPort, '/status.json')).status, 401);
    const page = await httpRequest(d.hubPort, '/status', { headers: AUTH });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.doesNotMatch(page.body, /<(script|link|img)[^>]+(src|href)=/i, 'no external assets');
  });

  it('loads, polls each second and draws the live figures of the whole pool', async () => {
    clients.push(...(await connectMany(d.wsUrl, 24, { subscribe: 'status' })));
    const page = await context.newPage();
    await page.setExtraHTTPHeaders(AUTH);
    await page.goto(`http://127.0.0.1:${d.hubPort}/status`);
    await page.waitForFunction(() => Number(document.body.getAttribute('data-updates')) >= 2, null, { timeout: 15000 });
    const publisher = publish(d, 'status', { n: 1 }, { count: 40, gap: 50 });
    await page.waitForFunction(() => Number(document.getElementById('v_realtime_connections').textContent) >= 24
      && document.querySelectorAll('#hubs tr').length === 4, null, { timeout: 15000 });
    await publisher;
    await page.waitForFunction(() => Number(document.getElementById('v_realtime_deliveries_total').textContent) > 0
      && Number(document.getElementById('v_messages').textContent) > 0, null, { timeout: 15000 });
    const before = Number(await page.evaluate(() => document.body.getAttribute('data-updates')));
    await page.waitForFunction((n) => Number(document.body.getAttribute('data-updates')) >= n + 2, before, { timeout: 10000 });
    assert.equal(await page.evaluate(() => document.getElementById('err').textContent), '');
    // The busiest channel of the app, counted over every hub.
    let status;
    await waitFor(async () => {
      status = (await httpRequest(d.hubPort, '/status.json', { headers: AUTH })).json;
      return status.busiest.some((c) => c.channel === 'status' && c.subscribers === 24)
        && status.busiest.every((c) => c.channel !== '');
    }, 10000, { interval: 200, message: () => `channel "status" with 24 subscribers in ${JSON.stringify(status?.busiest)}` });
    await page.waitForFunction(() => [...document.querySelectorAll('#busiest tr')]
      .some((row) => row.children[0].textContent === 'status' && row.children[1].textContent === '24'), null, { timeout: 10000 });
    const png = await page.screenshot({ fullPage: false });
    // Not blank: a PNG of this size with drawn charts compresses to well over
    // what a page of one colour does.
    assert.ok(png.length > 20000, `screenshot of ${png.length} bytes looks blank`);
    const inked = await page.evaluate(() => {
      const cv = document.getElementById('c_realtime_connections');
      const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
      return n;
    });
    // A flat line of a few seconds inks few pixels: any ink is a drawn chart.
    assert.ok(inked > 10, `the connections chart is drawn (${inked} pixels)`);
    if (process.env.REALTIME_SCREENSHOT) fs.writeFileSync(process.env.REALTIME_SCREENSHOT, png);
    await page.close();
  });
});
