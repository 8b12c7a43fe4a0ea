// Handoff benchmark (issue 13): how long and how much CPU it takes to hand
// 1,000 connections from an ending php-fpm worker's hub to the hubs of two
// other workers, and the longest pause in deliveries that other clients see
// meanwhile. Run through bench/handoff.sh; prints one JSON line per run.
//
// One pool of one app behind nginx: "app" (static 2) and "churn" (static 1,
// pm.max_requests = 1). The churn worker's hub starts first and alone, so
// every client lands on it; then the app workers start theirs, observers
// connect to them, a request streams numbered broadcasts every 5 ms through
// the app pool, and the churn worker's request ends: its hub hands off.

import fs from 'node:fs';
import { connect, waitFor } from '../tests/e2e/lib/server.mjs';
import { connectMany, delay, nodeOf, publish, warmUp } from '../tests/e2e/lib/pool/clients.mjs';
import { fpmNginx, nginxServerBlock } from '../tests/e2e/lib/pool/servers.mjs';
import { STATIC, handoffLog } from '../tests/e2e/lib/handoff.mjs';

const N = Number(process.env.N || 1000);
const OBSERVERS = 40;
const STREAM = process.env.MODE === 'stream';

/** CPU seconds of every thread of pid so far (schedstat: ns on a CPU). */
function cpuSeconds(pid) {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
  }
  return ns / 1e9;
}

function gaps(times) {
  let max = 0;
  for (let i = 1; i < times.length; i++) max = Math.max(max, times[i] - times[i - 1]);
  return max;
}

const dep = await fpmNginx({
  label: 'bench-handoff',
  pools: [
    { name: 'app', pm: STATIC(2) },
    { name: 'churn', pm: STATIC(1, ['pm.max_requests = 1']) },
  ],
  iniExtra: ['realtime.allow_anonymous = 1', 'realtime.max_connections = 20000'].join('\n'),
  nginxExtra: (pools) =>
    nginxServerBlock({ httpListen: `127.0.0.1:${pools[1].extraPort}`, hubAddr: `127.0.0.1:${pools[1].hubPort}`, fpmAddr: `127.0.0.1:${pools[1].fpmPort}` }),
});
const churn = dep.forPool('churn', dep.pools[1].extraPort);
const all = [];
try {
  // The churn worker's hub, alone: every client lands on it.
  const holdEnds = Date.now() + 5000;
  const holding = churn.json('/pid.php?sleep=5000', { timeout: 30000 });
  await waitFor(() => connect(`ws://127.0.0.1:${dep.hubPort}/ws`, { timeout: 1000 }).then((c) => (all.push(c), true)).catch(() => false), 5000, { message: 'the churn hub' });
  const movers = await connectMany(`ws://127.0.0.1:${dep.hubPort}/ws`, N - 1, { batch: 100, subscribe: 'b' });
  movers.push(all[0]);
  await all[0].subscribe('b');
  all.push(...movers.slice(0, -1));
  const churnNode = nodeOf(all[0]);
  if (movers.some((c) => nodeOf(c) !== churnNode)) throw new Error('a client did not land on the churn hub');
  // Now the app workers' hubs, and observers on them.
  await warmUp(dep, { min: 2 });
  const observers = [];
  while (observers.length < OBSERVERS) {
    const c = await connect(`ws://127.0.0.1:${dep.hubPort}/ws`);
    all.push(c);
    if (nodeOf(c) === churnNode) continue;
    await c.subscribe('b');
    observers.push(c);
  }
  // Observers that landed on the churn hub are not observers: let them go.
  for (const c of all) if (!observers.includes(c) && !movers.includes(c)) c.close();
  const appPids = dep.workers('app');
  for (const c of [...observers, ...movers]) {
    c.times = [];
    c.ws.on('message', () => c.times.push(performance.now()));
  }
  const left = holdEnds - Date.now();
  let stream = null;
  if (STREAM) {
    // Broadcasts every 5 ms from 0.5 s before the churn request ends to 1.5 s after.
    await delay(Math.max(0, left - 500));
    stream = publish(dep, 'b', { x: 1 }, { count: 400, gap: 5, timeout: 30000 });
  }
  const cpu0 = appPids.map(cpuSeconds);
  const pid = (await holding).pid;
  await waitFor(() => {
    const log = handoffLog(dep);
    return log.lines.some((l) => l.includes(`realtime[${pid}]`) && l.includes('handoff: moved')) && log.took === log.moved;
  }, 10000, { interval: 1, message: 'the handoff' });
  const cpu1 = appPids.map(cpuSeconds);
  const line = handoffLog(dep).lines.find((l) => l.includes(`realtime[${pid}]`) && l.includes('handoff: moved'));
  const m = /moved (\d+) connection\(s\) to (\d+) hub\(s\) in (\d+) ms/.exec(line);
  const out = {
    mode: STREAM ? 'stream' : 'idle',
    connections: N,
    setup_left_ms: left,
    moved: Number(m[1]),
    takers: Number(m[2]),
    handoff_ms: Number(m[3]),
  };
  if (STREAM) {
    await stream;
    await waitFor(() => [...observers, ...movers].every((c) => c.times.length >= 400), 20000, { message: 'every client to get the 400 broadcasts' });
    // longest gap between two broadcasts (sent every 5 ms) at any client
    out.pause_ms_observers = Math.round(Math.max(...observers.map((c) => gaps(c.times))));
    out.pause_ms_moved = Math.round(Math.max(...movers.map((c) => gaps(c.times))));
    // The same stream with no handoff (every client on the takers now):
    // the gaps this machine shows anyway.
    for (const c of [...observers, ...movers]) c.times = [];
    await publish(dep, 'b', { x: 1 }, { count: 400, gap: 5, timeout: 30000 });
    await waitFor(() => [...observers, ...movers].every((c) => c.times.length >= 400), 20000, { message: 'the baseline stream' });
    out.pause_ms_observers_baseline = Math.round(Math.max(...observers.map((c) => gaps(c.times))));
    out.pause_ms_moved_baseline = Math.round(Math.max(...movers.map((c) => gaps(c.times))));
  } else {
    // The takers' CPU (every thread, schedstat) from just before the
    // request ended until the last connection was taken in.
    out.taker_cpu_ms = +((cpu1.reduce((x, y) => x + y, 0) - cpu0.reduce((x, y) => x + y, 0)) * 1000).toFixed(1);
  }
  out.closed = movers.filter((c) => !c.isOpen).length;
  console.log(JSON.stringify(out));
} finally {
  for (const c of all) c.close();
  await dep.stop();
}
