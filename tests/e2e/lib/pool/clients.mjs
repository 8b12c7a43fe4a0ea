// Clients and requests for the worker-pool tests: warm-up, fleets of
// WebSocket clients and their spread over the hubs, presence members with
// tokens, the CLI publisher.

import path from 'node:path';
import { connect, waitFor } from '../server.mjs';
import { POOL_LIB, isAlive, phpBin, run } from './proc.mjs';

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The hub node of a client: the part of its connection id before the dot. */
export function nodeOf(client) {
  return String(client.connectionId).split('.')[0];
}

/** { node: count } of the clients, and a one-line summary. */
export function spread(clients) {
  const counts = {};
  for (const c of clients) {
    const n = nodeOf(c);
    counts[n] = (counts[n] || 0) + 1;
  }
  return counts;
}

/** describeSpread() after finding the pid of every hub node the clients are on. */
export async function spreadReport(dep, clients) {
  for (const node of Object.keys(spread(clients))) {
    await dep.pidOfNode(node).catch(() => null);
  }
  return describeSpread(dep, clients);
}

export function describeSpread(dep, clients) {
  const counts = spread(clients);
  const parts = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([node, n]) => `${n} on pid ${dep.nodes.get(node) ?? '?'} (node ${node})`);
  return `${clients.length} clients over ${Object.keys(counts).length} hubs: ${parts.join(', ')}`;
}

/**
 * Warm-up. Each worker starts its hub when it starts (earlystart.test.mjs
 * checks that without requests); these requests learn which worker runs
 * which hub.
 *
 * This sends rounds of concurrent requests to pid.php (?sleep holds each
 * worker a moment, so concurrent requests land on different workers) until
 * every process that serves PHP has answered with its hub running, and
 * records each worker's hub node id (dep.nodes / dep.pids).
 */
export async function warmUp(dep, { min = 1, ms = 30000, sleep = 150, concurrency } = {}) {
  const seen = new Set();
  const failures = new Map();
  let last = [];
  let fatal = null;
  await waitFor(
    async () => {
      const pids = dep.servingPids();
      last = pids;
      const width = concurrency || Math.max(2, pids.length);
      const answers = await Promise.all(
        Array.from({ length: width }, () =>
          dep.json(`/pid.php?sleep=${sleep}`, { timeout: 10000 }).catch(() => null),
        ),
      );
      for (const a of answers) {
        if (a && a.running) {
          seen.add(a.pid);
          dep.learn(a);
        } else if (a && a.error) {
          // The hub could not start (it retries every 5 s): no use waiting.
          if (failures.get(a.error) >= 1) {
            fatal = new Error(`worker ${a.pid} could not start its hub: ${a.error}`);
            return true;
          }
          failures.set(a.error, (failures.get(a.error) || 0) + 1);
        }
      }
      return pids.length >= min && pids.every((p) => seen.has(p) || !isAlive(p));
    },
    ms,
    { interval: 10, message: 'every worker to serve a request with its hub running' },
  ).catch((err) => {
    throw new Error(`${err.message} (workers ${JSON.stringify(last)}, answered ${JSON.stringify([...seen])})`);
  });
  if (fatal) throw fatal;
  return dep.servingPids().filter((p) => dep.pids.has(p));
}

/** Opens n clients to url in batches; each waits for `connected`. */
export async function connectMany(url, n, { batch = 50, timeout = 15000, subscribe } = {}) {
  const clients = [];
  try {
    for (let i = 0; i < n; i += batch) {
      const part = await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, async () => {
          const c = await connect(url, { timeout });
          if (subscribe) await c.subscribe(subscribe, timeout);
          return c;
        }),
      );
      clients.push(...part);
    }
  } catch (err) {
    for (const c of clients) c.close();
    throw err;
  }
  return clients;
}

/**
 * Waits until every client has a message matching pred (taken from its
 * inbox). Throws with the number of clients that missed it, per hub node.
 */
export async function expectAll(clients, pred, ms, what) {
  const results = await Promise.allSettled(clients.map((c) => c.next(pred, ms)));
  const missed = clients.filter((_, i) => results[i].status === 'rejected');
  if (missed.length) {
    const byNode = spread(missed);
    const sample = results.find((r) => r.status === 'rejected').reason.message;
    throw new Error(`${missed.length} of ${clients.length} clients did not get ${what} within ${ms} ms (missed per node: ${JSON.stringify(byNode)}); e.g. ${sample}`);
  }
  return results.map((r) => r.value);
}

/** A signed token for user (from token.php of the deployment). */
export async function tokenFor(dep, user) {
  const res = await dep.json(`/token.php?user=${encodeURIComponent(user)}&name=${encodeURIComponent(`Name ${user}`)}`);
  if (!res.token) throw new Error(`token.php: ${JSON.stringify(res)}`);
  return res.token;
}

/** Connects as user (token) and subscribes to a presence channel; client.members = the reply's members. */
export async function presenceMember(dep, user, channel, { url = dep.wsUrl, timeout = 15000 } = {}) {
  const token = await tokenFor(dep, user);
  const c = await connect(`${url}?token=${encodeURIComponent(token)}`, { timeout });
  const reply = await c.subscribe(channel, timeout);
  c.user = user;
  c.members = reply.members;
  return c;
}

/**
 * Connects presence members user-0, user-1, … until they sit on at least
 * `nodes` different hubs (and at least `min` members); the kernel decides
 * where each connection lands.
 */
export async function spreadPresence(dep, prefix, channel, { nodes = 2, min = 2, max = 24 } = {}) {
  const members = [];
  for (let i = 0; i < max; i++) {
    members.push(await presenceMember(dep, `${prefix}-${i}`, channel));
    if (members.length >= min && new Set(members.map(nodeOf)).size >= nodes) return members;
  }
  for (const m of members) m.close();
  throw new Error(`${max} presence members all landed on fewer than ${nodes} hubs: ${JSON.stringify(spread(members))}`);
}

export const ids = (users) => (users || []).map((u) => u.id).sort();

/** POST publish.php (form-encoded). */
export async function publish(dep, channel, message, { event, count, gap, hold, timeout = 15000 } = {}) {
  const form = new URLSearchParams({ channel, message: JSON.stringify(message) });
  if (event) form.set('event', event);
  if (count) form.set('count', String(count));
  if (gap) form.set('gap', String(gap));
  if (hold) form.set('hold', String(hold));
  const body = form.toString();
  const res = await dep.get('/publish.php', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
    body,
    timeout,
  });
  if (res.status !== 200 || !res.json || res.json.ok !== true) {
    throw new Error(`publish.php answered ${res.status}: ${res.body.slice(0, 300)}`);
  }
  return res.json;
}

/**
 * Runs tests/e2e/lib/pool/cli-publish.php with the php CLI: no hub in that
 * process, so Realtime\broadcast() POSTs to http://<listen>/publish.
 * Resolves with { code, result (parsed stdout), stdout, stderr }.
 */
export async function cliPublish({ extension, listen, secret }, channel, message) {
  const args = ['-n', '-d', `extension=${extension}`, '-d', `realtime.listen=${listen}`];
  if (secret !== undefined) args.push('-d', `realtime.secret=${secret}`);
  args.push(path.join(POOL_LIB, 'cli-publish.php'), channel, JSON.stringify(message));
  const res = await run(phpBin(), args, { timeout: 20000 });
  let result;
  try {
    result = JSON.parse(res.stdout.trim().split('\n').pop());
  } catch {
    result = undefined;
  }
  return { ...res, result, command: `${phpBin()} ${args.join(' ')}` };
}

/**
 * Reconnects a client whose hub went away: retries (connection refused or
 * reset while a worker exits) until it is connected and subscribed.
 */
export async function reconnect(url, channel, { ms = 15000 } = {}) {
  const deadline = Date.now() + ms;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const c = await connect(url, { timeout: Math.max(1000, Math.min(5000, deadline - Date.now())) });
      if (channel) await c.subscribe(channel);
      return c;
    } catch (err) {
      lastError = err;
      await delay(50);
    }
  }
  throw new Error(`could not reconnect within ${ms} ms: ${lastError && lastError.message}`);
}

/** Sends SIGKILL to one process. */
export function kill9(pid) {
  process.kill(pid, 'SIGKILL');
}

export { delay };
