// Issue 13 (5): an even spread. 1,000 clients over the 4 workers of a pool
// whose workers run as another user than the master, so they all serve the
// one socket the master bound before forking (SO_REUSEPORT groups sockets by
// creator uid; docs/deployment.md "How clients are spread"): every hub ends
// within 20% of the mean, as Realtime\status()['hubs'] reports it.
//
//   php-fpm + nginx, pool user = nobody under a root master
//   php-fpm + nginx, workers as root (their own SO_REUSEPORT sockets too)
//   Apache prefork, children as www-data

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { connectMany, spreadReport, warmUp } from './lib/pool/clients.mjs';
import { apache, fpmNginx } from './lib/pool/servers.mjs';

const CLIENTS = 1000;
const HUBS = 4;

/** status()['hubs'] of whichever worker answers. */
async function hubs(dep) {
  const res = await dep.json('/status.php');
  return res.status.hubs;
}

/** Warm-up until the pool's slot table lists all HUBS hubs. */
async function allHubsUp(dep) {
  let last = [];
  await waitFor(
    async () => {
      await warmUp(dep, { min: HUBS, concurrency: HUBS });
      last = await hubs(dep);
      return last.length === HUBS;
    },
    30000,
    { interval: 50, message: `status()['hubs'] to list ${HUBS} hubs` },
  ).catch((err) => {
    throw new Error(`${err.message}: ${JSON.stringify(last)}`);
  });
}

async function spreadTest(t, dep, clients) {
  await allHubsUp(dep);
  clients.push(...(await connectMany(dep.wsUrl, CLIENTS, { batch: 100, timeout: 20000 })));
  // Each hub says its load in its slot at least once a second.
  let list = [];
  await waitFor(
    async () => {
      list = await hubs(dep);
      return list.length === HUBS && list.reduce((n, h) => n + h.connections, 0) === CLIENTS;
    },
    10000,
    { interval: 100, message: `the hubs' slots to count ${CLIENTS} connections` },
  ).catch((err) => {
    throw new Error(`${err.message}: ${JSON.stringify(list)}`);
  });
  const mean = CLIENTS / HUBS;
  const counts = list.map((h) => h.connections);
  t.diagnostic(`status()['hubs']: ${JSON.stringify(list)}; clients: ${await spreadReport(dep, clients)}`);
  for (const h of list) {
    assert.ok(Math.abs(h.connections - mean) <= mean * 0.2,
      `hub ${h.node} (pid ${h.pid}) has ${h.connections} connections, more than 20% from the mean ${mean}: ${JSON.stringify(counts)}`);
  }
  // The hubs' own view agrees with where the clients landed.
  assert.equal(new Set(clients.map((c) => String(c.connectionId).split('.')[0])).size, HUBS);
}

describe('even spread: php-fpm workers running as nobody under a root master', () => {
  let dep;
  const clients = [];
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  it(`${CLIENTS} clients over ${HUBS} workers: every hub within 20% of the mean`, async (t) => {
    dep = await fpmNginx({
      label: 'fpm-spread',
      pools: [{ name: 'app', pm: `pm = static\npm.max_children = ${HUBS}\npm.max_requests = 0`, user: 'nobody', group: 'nogroup' }],
    });
    try {
      await spreadTest(t, dep, clients);
    } catch (err) {
      err.message += `\n${dep.logs()}`;
      throw err;
    }
  });
});

describe('even spread never starves: the least loaded hub stalled (SIGSTOP)', () => {
  let dep;
  let stopped;
  const clients = [];
  after(async () => {
    if (stopped) process.kill(stopped, 'SIGCONT');
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  // The others see it as the least loaded hub and pause; clients left
  // waiting on the shared socket are taken anyway within a bounded time.
  it('200 clients still connect while the least loaded hub cannot accept', async (t) => {
    dep = await fpmNginx({
      label: 'fpm-spread-stall',
      pools: [{ name: 'app', pm: `pm = static\npm.max_children = ${HUBS}\npm.max_requests = 0`, user: 'nobody', group: 'nogroup' }],
    });
    try {
      await allHubsUp(dep);
      clients.push(...(await connectMany(dep.wsUrl, 100, { timeout: 20000 })));
      let list = [];
      await waitFor(async () => {
        list = await hubs(dep);
        return list.reduce((n, h) => n + h.connections, 0) === 100;
      }, 10000, { interval: 100, message: "the hubs' slots to count 100 connections" });
      const least = list.reduce((a, b) => (b.connections < a.connections ? b : a));
      stopped = least.pid;
      process.kill(stopped, 'SIGSTOP');
      const started = Date.now();
      const more = await connectMany(dep.wsUrl, 200, { timeout: 20000 });
      clients.push(...more);
      t.diagnostic(`200 clients connected in ${Date.now() - started} ms with pid ${stopped} stopped (it had ${least.connections}): ${await spreadReport(dep, more)}`);
      assert.equal(more.filter((c) => String(c.connectionId).split('.')[0] === String(least.node)).length, 0);
    } catch (err) {
      err.message += `\n${dep.logs()}`;
      throw err;
    }
  });
});

describe('even spread: php-fpm workers of the same user as the master (root)', () => {
  let dep;
  const clients = [];
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  // Each hub adds its own SO_REUSEPORT socket, hashed by the kernel, next to
  // the master's shared one, which the balancing still spreads.
  it(`${CLIENTS} clients over ${HUBS} workers: every hub within 20% of the mean`, async (t) => {
    dep = await fpmNginx({ label: 'fpm-spread-root', pools: [{ name: 'app', pm: `pm = static\npm.max_children = ${HUBS}\npm.max_requests = 0` }] });
    try {
      await spreadTest(t, dep, clients);
    } catch (err) {
      err.message += `\n${dep.logs()}`;
      throw err;
    }
  });
});

describe('even spread: Apache prefork children (www-data) under a root parent', () => {
  let dep;
  const clients = [];
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  it(`${CLIENTS} clients over ${HUBS} children: every hub within 20% of the mean`, async (t) => {
    dep = await apache({ label: 'apache-spread', start: HUBS, minSpare: 1, maxSpare: HUBS, maxWorkers: HUBS });
    try {
      await spreadTest(t, dep, clients);
    } catch (err) {
      err.message += `\n${dep.logs()}`;
      throw err;
    }
  });
});
