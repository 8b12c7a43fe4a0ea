// Reload-storm benchmark (issue 14): 1,000 clients of a channel with
// history drop at once, 1,000 messages are published while they are away,
// and all 1,000 reconnect at the same moment, each asking for what it
// missed (subscribe with "since"). Measures how long until every client has
// all 1,000 messages replayed (recovered: true, in order), and the hubs'
// CPU meanwhile. Run through bench/reload_storm.sh; prints one JSON line.
//
// php-fpm (4 static workers) behind nginx with the memory broker; the
// clients connect to the hub port, which the 4 workers' hubs share.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { connect, waitFor } from '../tests/e2e/lib/server.mjs';
import { publish, warmUp } from '../tests/e2e/lib/pool/clients.mjs';
import { PM, fpmNginx } from '../tests/e2e/lib/pool/servers.mjs';

const WebSocket = createRequire(new URL('../tests/e2e/package.json', import.meta.url))('ws');
const N = Number(process.env.N || 1000);          // clients
const MISSED = Number(process.env.MISSED || 1000); // messages published while they are away
const CHANNEL = 'storm';
const PAYLOAD = 'x'.repeat(100);

/** CPU seconds of every thread of pid so far (schedstat: ns on a CPU). */
function cpuSeconds(pid) {
  let ns = 0;
  try {
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    }
  } catch {
    /* gone */
  }
  return ns / 1e9;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** One reconnecting client: resolves with its completion time (ms after t0), rejects on a gap or a refusal. */
function resume(url, since, t0) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let next = since.offset + 1;
    let recovered = null;
    const fail = (why) => {
      ws.terminate();
      reject(new Error(why));
    };
    ws.on('open', () => ws.send(JSON.stringify({ action: 'subscribe', channel: CHANNEL, since })));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString('utf8'));
      if (m.type === 'subscribed') {
        recovered = m.recovered;
        if (recovered !== true) fail(`recovered: ${m.recovered}`);
      } else if (m.type === 'message' && m.channel === CHANNEL) {
        if (m.offset !== next) return fail(`offset ${m.offset}, expected ${next}`);
        next++;
        if (next > since.offset + MISSED) {
          resolve(performance.now() - t0);
          ws.close();
        }
      } else if (m.type === 'error') {
        fail(`error ${JSON.stringify(m)}`);
      }
    });
    ws.on('error', (err) => fail(err.message));
    ws.on('close', (code) => {
      if (next <= since.offset + MISSED) fail(`closed ${code} after ${next - since.offset - 1} messages`);
    });
  });
}

const dep = await fpmNginx({
  label: 'bench-storm',
  pools: [{ name: 'app', pm: PM.static4 }],
  iniExtra: [
    'realtime.allow_anonymous = 1',
    'realtime.max_connections = 20000',
    `realtime.history = "${CHANNEL}:${Math.max(MISSED, 1)}:600"`,
    'realtime.history_memory = 67108864',
  ].join('\n'),
});
try {
  await warmUp(dep, { min: 4, concurrency: 4 });
  const url = `ws://127.0.0.1:${dep.hubPort}/ws`;
  // Where the clients were when they dropped: the channel's position now.
  const probe = await connect(url, { timeout: 10000 });
  probe.send({ action: 'subscribe', channel: CHANNEL });
  const sub = await probe.next((m) => m.type === 'subscribed', 10000);
  probe.close();
  const since = { offset: sub.offset, epoch: sub.epoch };
  // What they miss: MISSED messages, published in one request.
  await publish(dep, CHANNEL, PAYLOAD, { count: MISSED, timeout: 120000 });
  const check = await connect(url, { timeout: 10000 });
  check.send({ action: 'subscribe', channel: CHANNEL });
  const top = await check.next((m) => m.type === 'subscribed', 10000);
  check.close();
  if (top.offset !== since.offset + MISSED) throw new Error(`the channel is at ${top.offset}, expected ${since.offset + MISSED}`);

  const workers = dep.servingPids();
  const cpu0 = workers.map(cpuSeconds);
  const t0 = performance.now();
  const done = await Promise.all(Array.from({ length: N }, () => resume(url, since, t0)));
  const total = performance.now() - t0;
  const cpu = workers.reduce((s, p, i) => s + cpuSeconds(p) - cpu0[i], 0);
  done.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      bench: 'reload_storm',
      clients: N,
      missed: MISSED,
      payload_bytes: PAYLOAD.length,
      hubs: workers.length,
      total_ms: Math.round(total),
      client_p50_ms: Math.round(pct(done, 50)),
      client_p99_ms: Math.round(pct(done, 99)),
      first_ms: Math.round(done[0]),
      messages_per_s: Math.round((N * MISSED) / (total / 1000)),
      hubs_cpu_ms: Math.round(cpu * 1000),
      hubs_cpu_us_per_message: Number(((cpu * 1e6) / (N * MISSED)).toFixed(3)),
    }),
  );
} finally {
  await dep.stop();
}
