// Helpers of the handoff tests (handoff*.test.mjs): numbered streams, the
// handoff log lines of every hub that ever ran, and Realtime\status() of
// the live workers.

import fs from 'node:fs';
import path from 'node:path';
import { fpmNginx, nginxServerBlock } from './pool/servers.mjs';

/** pm settings of a static FPM pool of n workers, plus extra lines. */
export const STATIC = (n, extra = []) => [`pm = static`, `pm.max_children = ${n}`, ...extra].join('\n');

/**
 * One app on php-fpm + nginx with two pools: "app" (app workers, kept)
 * and "churn" (churn workers recycled every maxRequests requests), which
 * nginx serves on a server block of its own. Returns { dep, churn }: churn
 * makes requests to the churn pool. iniExtra as for fpmNginx().
 */
export async function appAndChurn({ label, app, churn, maxRequests = 1, iniExtra }) {
  const dep = await fpmNginx({
    label,
    pools: [
      { name: 'app', pm: STATIC(app) },
      { name: 'churn', pm: STATIC(churn, [`pm.max_requests = ${maxRequests}`]) },
    ],
    ...(iniExtra === undefined ? {} : { iniExtra }),
    nginxExtra: (pools) =>
      nginxServerBlock({ httpListen: `127.0.0.1:${pools[1].extraPort}`, hubAddr: `127.0.0.1:${pools[1].hubPort}`, fpmAddr: `127.0.0.1:${pools[1].fpmPort}` }),
  });
  return { dep, churn: dep.forPool('churn', dep.pools[1].extraPort) };
}

/**
 * Checks a received sequence: from its first number on, each number up to
 * last once and in order (a client that joined mid-stream starts later).
 * Returns an error text or ''.
 */
export function seqProblem(seqs, last) {
  if (!seqs.length) return `got nothing (want up to ${last})`;
  const want = Array.from({ length: last + 1 - seqs[0] }, (_, i) => seqs[0] + i);
  if (seqs.length === want.length && seqs.every((s, i) => s === want[i])) return '';
  return `got ${JSON.stringify(seqs)}, want ${seqs[0]}..${last} once each, in order`;
}

/**
 * Sums the handoff log lines of realtime.log (every hub of the deployment
 * writes there, with its pid): what givers moved, what takers took over,
 * and what was closed for lack of a taker.
 */
export function handoffLog(dep) {
  const text = fs.readFileSync(path.join(dep.dir, 'realtime.log'), 'utf8');
  const out = { moved: 0, took: 0, closed: 0, stops: 0, tookByPid: new Map(), lines: [] };
  for (const line of text.split('\n')) {
    if (!line.includes('handoff:')) continue;
    out.lines.push(line);
    const pid = Number((/realtime\[(\d+)\]/.exec(line) || [])[1]);
    let m = /handoff: moved (\d+) connection/.exec(line);
    if (m) {
      out.moved += Number(m[1]);
      out.stops++;
      const c = /closed (\d+)/.exec(line);
      if (c) out.closed += Number(c[1]);
    }
    m = /handoff: took over (\d+) connection/.exec(line);
    if (m) {
      out.took += Number(m[1]);
      out.tookByPid.set(pid, (out.tookByPid.get(pid) || 0) + Number(m[1]));
    }
    if (/no other hub of this app can take over/.test(line)) out.closed++;
  }
  return out;
}

/**
 * Realtime\status() of every worker in pids (status.php?sleep holds each
 * answering worker so concurrent requests reach the others). Resolves
 * Map pid → status; throws if some did not answer within ms.
 */
export async function statusOf(dep, pids, { ms = 15000 } = {}) {
  const seen = new Map();
  const deadline = Date.now() + ms;
  while (pids.some((p) => !seen.has(p))) {
    if (Date.now() > deadline) throw new Error(`status of workers ${pids.filter((p) => !seen.has(p)).join(', ')} not seen within ${ms} ms`);
    const answers = await Promise.all(
      Array.from({ length: pids.length + 1 }, () => dep.json('/status.php?sleep=100').catch(() => null)),
    );
    for (const a of answers) if (a && pids.includes(a.pid)) seen.set(a.pid, a.status);
  }
  return seen;
}

/**
 * Asserts that the counters add up: every connection a giver moved was
 * taken over (log lines of every hub that ran), none closed, and the
 * status counters of the live takers match their own log lines. takers:
 * [[deployment of a pool, its worker pids], ...] (status.php of that pool).
 */
export async function checkCounters(assert, dep, takers, t) {
  const log = handoffLog(dep);
  t?.diagnostic(`handoff log: ${log.stops} stop(s) moved ${log.moved}, takers took ${log.took}, closed ${log.closed}`);
  assert.ok(log.moved > 0, 'no hub logged a handoff');
  assert.equal(log.took, log.moved, `taken over != handed off:\n${log.lines.join('\n')}`);
  assert.equal(log.closed, 0, `connections closed at a handoff:\n${log.lines.join('\n')}`);
  const statuses = new Map();
  for (const [via, pids] of takers) for (const [pid, s] of await statusOf(via, pids)) statuses.set(pid, s);
  for (const [pid, s] of statuses) {
    assert.equal(Number(s.handoff_closed), 0, `worker ${pid}: handoff_closed ${s.handoff_closed}`);
    assert.equal(Number(s.taken_over), log.tookByPid.get(pid) || 0, `worker ${pid}: status taken_over ${s.taken_over}, its log lines say ${log.tookByPid.get(pid) || 0}`);
  }
  return { log, statuses };
}

/**
 * N clients on one php-fpm worker's hub, with takers ready beside it: the
 * deployment for a large handoff. Pools: "churn" (static 1,
 * pm.max_requests = 1, plus churnExtra lines) on the main front, and "app"
 * (ondemand, 3) on a second front. Hubs start with their workers and
 * ondemand starts none before a request, so while the churn worker's hub
 * is alone every client lands on it. Then two app workers are held busy
 * (the takers: an idle one would end after 1 s), and `observers` clients
 * connect to their hubs; a third app worker serves broadcasts. Movers
 * subscribe to moversChannel, observers to "b". The churn worker's request
 * (hold.php) lasts until release() is called: then its hub hands off.
 * Returns { dep, app, holding, release, movers, observers, churnNode, all,
 * stop } (stop: ends the held requests, closes every client, stops the
 * deployment).
 */
export async function oneHubHoldsAll({ label, n, observers: nObservers = 2, moversChannel = 'b', churnExtra = [], iniExtra }) {
  const { connect, waitFor } = await import('./server.mjs');
  const { connectMany, nodeOf } = await import('./pool/clients.mjs');
  const dep = await fpmNginx({
    label,
    pools: [
      { name: 'churn', pm: STATIC(1, ['pm.max_requests = 1', ...churnExtra]) },
      { name: 'app', pm: ['pm = ondemand', 'pm.max_children = 3', 'pm.process_idle_timeout = 1s'].join('\n') },
    ],
    iniExtra: iniExtra || ['realtime.allow_anonymous = 1', 'realtime.max_connections = 20000'].join('\n'),
    nginxExtra: (pools) =>
      nginxServerBlock({ httpListen: `127.0.0.1:${pools[1].extraPort}`, hubAddr: `127.0.0.1:${pools[1].hubPort}`, fpmAddr: `127.0.0.1:${pools[1].fpmPort}` }),
  });
  const app = dep.forPool('app', dep.pools[1].extraPort);
  const all = [];
  const ws = `ws://127.0.0.1:${dep.hubPort}/ws`;
  const churnFlag = path.join(dep.dir, 'release-churn');
  const busyFlag = path.join(dep.dir, 'release-busy');
  const stop = async () => {
    fs.writeFileSync(busyFlag, '');
    fs.writeFileSync(churnFlag, '');
    for (const c of all) c.close();
    await dep.stop();
  };
  try {
    // The deployment's probe of the app pool's port (it waits for it to
    // listen) may have made ondemand start a worker. A request through
    // that pool is taken after the probe's connection, by a worker that
    // then ends once idle for 1 s; ondemand starts none after it.
    await app.json('/pid.php');
    await waitFor(() => dep.workers('app').length === 0, 15000, { interval: 100, message: 'the app pool\'s worker to end, idle' });
    const holding = dep.json(`/hold.php?until=${encodeURIComponent(churnFlag)}`, { timeout: 90000 });
    holding.catch(() => {}); // awaited by the caller; a failure before then is not a crash of its own
    await waitFor(() => connect(ws, { timeout: 1000 }).then((c) => (all.push(c), true)).catch(() => false), 5000, { message: 'the churn hub' });
    const movers = await connectMany(ws, n - 1, { batch: 100, subscribe: moversChannel });
    all.push(...movers);
    await all[0].subscribe(moversChannel);
    movers.push(all[0]);
    const churnNode = nodeOf(all[0]);
    const strays = movers.filter((c) => nodeOf(c) !== churnNode);
    if (strays.length) throw new Error(`${strays.length} client(s) did not land on the churn hub (${churnNode})`);
    // One at a time: ondemand starts a worker for each waiting request, but
    // two sent together could leave the second waiting behind the first.
    for (let i = 1; i <= 2; i++) {
      app.json(`/hold.php?until=${encodeURIComponent(busyFlag)}`, { timeout: 90000 }).catch(() => {});
      await waitFor(() => dep.workers('app').length >= i, 15000, { interval: 20, message: `app worker ${i} to start` });
    }
    const observers = [];
    await waitFor(async () => {
      const c = await connect(ws);
      all.push(c);
      if (nodeOf(c) !== churnNode) {
        await c.subscribe('b');
        observers.push(c);
      } else {
        c.close();
      }
      return observers.length >= nObservers && new Set(observers.map(nodeOf)).size >= 2;
    }, 30000, { interval: 1, message: 'observers on two app hubs' }).catch((err) => {
      const nodes = [...new Set(observers.map(nodeOf))];
      throw new Error(`${err.message}: ${observers.length} observer(s) on hub(s) ${JSON.stringify(nodes)}, app workers ${JSON.stringify(dep.workers('app'))}`);
    });
    return { dep, app, holding, release: () => fs.writeFileSync(churnFlag, ''), movers, observers, churnNode, all, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
