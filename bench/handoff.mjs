// Handoff benchmark (issue 13): how long and how much CPU it takes to hand
// 1,000 (or N) connections from an ending php-fpm worker's hub to the hubs
// of other workers, and the longest pause in deliveries that other clients see
// meanwhile. Run through bench/handoff.sh; prints one JSON line per run.
//
// The deployment is tests/e2e/lib/handoff.mjs oneHubHoldsAll(): every
// client on one php-fpm worker's hub, two takers and observers beside it.
// A request streams numbered broadcasts every 5 ms through the app pool
// (stream mode), and once everything is ready the churn worker's request
// is let go: its hub hands off.

import fs from 'node:fs';
import { waitFor } from '../tests/e2e/lib/server.mjs';
import { delay, publish } from '../tests/e2e/lib/pool/clients.mjs';
import { handoffLog, oneHubHoldsAll } from '../tests/e2e/lib/handoff.mjs';

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

// Above 2,000 moving clients, one node process cannot also read the stream
// on all of them: only the observers get it, and the pause measured is the
// one the handoff causes other clients.
const MOVERS_STREAM = N <= 2000;
const { dep, app, holding, release, movers, observers, stop } = await oneHubHoldsAll({
  label: 'bench-handoff',
  n: N,
  observers: OBSERVERS,
  moversChannel: MOVERS_STREAM ? 'b' : 'quiet',
});
try {
  const appPids = dep.workers('app');
  const streamed = MOVERS_STREAM ? [...observers, ...movers] : observers;
  for (const c of [...observers, ...movers]) {
    c.times = [];
    c.ws.on('message', () => c.times.push(performance.now()));
  }
  let stream = null;
  if (STREAM) {
    // Broadcasts every 5 ms from 0.5 s before the churn request ends to 1.5 s after.
    stream = publish(app, 'b', { x: 1 }, { count: 400, gap: 5, timeout: 30000 });
    await delay(500);
  }
  const cpu0 = appPids.map(cpuSeconds);
  release();
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
    moved: Number(m[1]),
    takers: Number(m[2]),
    handoff_ms: Number(m[3]),
  };
  if (STREAM) {
    await stream;
    await waitFor(() => streamed.every((c) => c.times.length >= 400), 20000, { message: 'every client to get the 400 broadcasts' });
    // longest gap between two broadcasts (sent every 5 ms) at any client
    out.pause_ms_observers = Math.round(Math.max(...observers.map((c) => gaps(c.times))));
    if (MOVERS_STREAM) out.pause_ms_moved = Math.round(Math.max(...movers.map((c) => gaps(c.times))));
    // The same stream with no handoff (every client on the takers now):
    // the gaps this machine shows anyway.
    for (const c of streamed) c.times = [];
    await publish(app, 'b', { x: 1 }, { count: 400, gap: 5, timeout: 30000 });
    await waitFor(() => streamed.every((c) => c.times.length >= 400), 20000, { message: 'the baseline stream' });
    out.pause_ms_observers_baseline = Math.round(Math.max(...observers.map((c) => gaps(c.times))));
    if (MOVERS_STREAM) out.pause_ms_moved_baseline = Math.round(Math.max(...movers.map((c) => gaps(c.times))));
  } else {
    // The takers' CPU (every thread, schedstat) from just before the
    // request ended until the last connection was taken in.
    out.taker_cpu_ms = +((cpu1.reduce((x, y) => x + y, 0) - cpu0.reduce((x, y) => x + y, 0)) * 1000).toFixed(1);
  }
  out.closed = movers.filter((c) => !c.isOpen).length;
  console.log(JSON.stringify(out));
} finally {
  await stop();
}
