// Operability (issue 16): a real Prometheus server (Debian's `prometheus`
// binary, its own config and storage in a temp dir, on a free loopback
// port) scrapes GET /metrics of a php-fpm pool of 4 workers each second
// with the bearer token of realtime.metrics_key. After a known workload (N
// subscribers, M broadcasts, one slow consumer that stops reading and is
// closed) its HTTP query API returns the totals: connections, deliveries,
// the slow consumer's close, messages by source, the latency histogram.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { METRICS_KEY, freePort, httpRequest, rawWebSocket, waitFor } from './lib/server.mjs';
import { connectMany, expectAll, publish, spread, warmUp } from './lib/pool/clients.mjs';
import { makeTempDir, spawnGroup } from './lib/pool/proc.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';

const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN || '/usr/bin/prometheus';

async function startPrometheus(targetPort) {
  const dir = makeTempDir('prometheus');
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: realtime',
    '    metrics_path: /metrics',
    '    authorization:',
    '      type: Bearer',
    `      credentials: ${METRICS_KEY}`,
    '    static_configs:',
    `      - targets: ['127.0.0.1:${targetPort}']`,
    '',
  ].join('\n'));
  const proc = spawnGroup('prometheus', PROMETHEUS_BIN, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { cwd: dir, marker: dir });
  await waitFor(async () => {
    if (proc.exitInfo) throw new Error(`prometheus exited: ${JSON.stringify(proc.exitInfo)}\n${proc.log}`);
    try {
      return (await httpRequest(port, '/-/ready', { timeout: 2000 })).status === 200;
    } catch {
      return false;
    }
  }, 30000, { interval: 200, message: 'prometheus to be ready' });
  /** The instant vector of a PromQL query, as [{ metric, value }]. */
  const query = async (q) => {
    const res = await httpRequest(port, `/api/v1/query?query=${encodeURIComponent(q)}`, { timeout: 5000 });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.status, 'success', res.body);
    return res.json.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  /** The one value of a query that sums to a scalar vector, or NaN when empty. */
  const value = async (q) => {
    const r = await query(q);
    return r.length === 1 ? r[0].value : NaN;
  };
  return {
    port,
    query,
    value,
    get log() {
      return proc.log;
    },
    stop: () => proc.stop(),
  };
}

describe('metrics: a real Prometheus scrapes a php-fpm pool of 4 workers', { timeout: 150000 }, () => {
  let d;
  let prom;
  const clients = [];

  before(async () => {
    d = await fpmNginx({
      label: 'fpm-prometheus',
      pools: [{ name: 'app', pm: PM.static4 }],
      // A small outbound queue and no pings: the client that stops reading
      // is closed as a slow consumer after a few hundred kilobytes.
      iniExtra: ['realtime.allow_anonymous = 1', 'realtime.max_outbound = 131072', 'realtime.ping_interval = 0'].join('\n'),
    });
    await warmUp(d, { min: 4 });
    prom = await startPrometheus(d.hubPort);
  });
  after(async () => {
    for (const c of clients) c.close();
    await prom?.stop();
    if (d) await d.stop();
  });

  it('its query API returns the workload\'s totals: connections, deliveries, a slow consumer\'s close', async () => {
    const N = 24;
    const M = 6;
    // Prometheus has scraped the pool at least once, and the pool is idle.
    await waitFor(async () => (await prom.value('realtime_hubs{job="realtime"}')) === 4, 30000,
      { interval: 500, message: () => `a scrape with 4 hubs (prometheus log: ${prom.log.slice(-800)})` });
    assert.equal(await prom.value('up{job="realtime"}'), 1);
    const base = {
      deliveries: await prom.value('realtime_deliveries_total'),
      slow: await prom.value('realtime_slow_consumer_closes_total'),
      php: await prom.value('realtime_messages_published_total{source="php"}'),
      latency: await prom.value('realtime_delivery_latency_seconds_count'),
    };

    clients.push(...(await connectMany(d.wsUrl, N, { subscribe: 'prom' })));
    assert.ok(Object.keys(spread(clients)).length >= 2, `clients on at least 2 hubs: ${JSON.stringify(spread(clients))}`);
    await publish(d, 'prom', { n: 1 }, { count: M });
    for (let i = 0; i < M; i++) {
      await expectAll(clients, (m) => m.type === 'message' && m.channel === 'prom', 15000, `message ${i}`);
    }

    // One more client subscribes to a channel of its own and stops reading.
    const slow = await rawWebSocket(d.hubPort, { path: new URL(d.wsUrl).pathname });
    clients.push(slow);
    await slow.nextJson((m) => m.type === 'connected');
    slow.sendJson({ action: 'subscribe', channel: 'firehose', id: 's' });
    await slow.nextJson((m) => m.type === 'subscribed');
    slow.pause();
    await waitFor(async () => (await prom.value('realtime_connections')) === N + 1, 20000,
      { interval: 500, message: 'prometheus to see N + 1 connections' });
    const pad = 'z'.repeat(4096);
    let requests = 0;
    const closed = async () => {
      const p = (await httpRequest(d.hubPort, '/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` } })).body;
      const m = /^realtime_slow_consumer_closes_total (\d+)$/m.exec(p);
      return m && Number(m[1]) > base.slow;
    };
    // 50 messages of 4 KB a request, until the hub gives up on the reader
    // (bounded: the kernel's socket buffers hold a few megabytes).
    while (requests < 200 && !(await closed())) {
      await publish(d, 'firehose', { pad }, { count: 50 });
      requests++;
    }
    assert.ok(await closed(), `no slow-consumer close after ${requests} requests of 50 messages`);
    slow.resume();

    // Prometheus, a scrape or two later, has the totals.
    const want = async () => ({
      connections: await prom.value('realtime_connections'),
      native: await prom.value('realtime_sessions{protocol="native",transport="websocket"}'),
      perHub: await prom.value('sum(realtime_hub_connections)'),
      deliveries: (await prom.value('realtime_deliveries_total')) - base.deliveries,
      slow: (await prom.value('realtime_slow_consumer_closes_total')) - base.slow,
      php: (await prom.value('realtime_messages_published_total{source="php"}')) - base.php,
      latency: (await prom.value('realtime_delivery_latency_seconds_count')) - base.latency,
      subscriptions: await prom.value('realtime_subscriptions'),
    });
    let got;
    await waitFor(async () => {
      got = await want();
      return got.connections === N && got.native === N && got.perHub === N && got.slow === 1
        && got.deliveries >= N * M && got.php >= M + requests * 50 && got.latency >= M
        && got.subscriptions === N;
    }, 30000, { interval: 500, message: () => `prometheus totals: ${JSON.stringify(got)}` });

    // The histogram is one Prometheus understands: a median within its buckets.
    const median = await prom.value('histogram_quantile(0.5, sum by (le) (realtime_delivery_latency_seconds_bucket))');
    assert.ok(Number.isFinite(median) && median >= 0 && median <= 1, `median latency ${median}`);
    // Per hub: four series, one a hub, labelled.
    const hubs = await prom.query('realtime_hub_connections');
    assert.equal(hubs.length, 4, JSON.stringify(hubs));
    for (const h of hubs) assert.match(h.metric.hub, /^\d+$/);
    // A rate over the workload is positive (counters, not gauges).
    assert.ok((await prom.value('rate(realtime_deliveries_total[1m])')) > 0);
  });
});
