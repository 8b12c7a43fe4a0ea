// Apache's event MPM with a thread-safe (ZTS) mod_php (issue 18), run by
// scripts/test.sh zts after scripts/zts-php.sh built it:
//   RT_ZTS_MOD_PHP      the ZTS libphp.so for apache2 (apxs2 build)
//   REALTIME_EXTENSION  build-zts/modules/realtime.so
//   PHP_BIN             the ZTS php CLI (loads the extension copy, publishes from the CLI)
//
// Like pool.apache.test.mjs on prefork: every child process runs one hub
// for all its threads; the hubs share realtime.listen and the memory
// broker's ring (mapped by the parent before it forks); clients of every
// child receive. Same scenarios (lib/pool/scenarios.mjs), plus many
// requests at once on one child's threads, and restarts: a graceful one
// hands the clients to the new children, a hard one closes them with 1012
// (this needs a PHP without Zend's signal handling: scripts/zts-php.sh).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, waitFor } from '../e2e/lib/server.mjs';
import { connectMany, publish, spreadReport, warmUp } from '../e2e/lib/pool/clients.mjs';
import { childrenOf, isAlive } from '../e2e/lib/pool/proc.mjs';
import { poolSuite } from '../e2e/lib/pool/scenarios.mjs';
import { apache } from '../e2e/lib/pool/servers.mjs';

const modPhp = process.env.RT_ZTS_MOD_PHP;
if (!modPhp) throw new Error('RT_ZTS_MOD_PHP is not set: run this through scripts/test.sh zts');

const CHILDREN = 2;
const THREADS = 8;

poolSuite('apache2 event MPM + ZTS mod_php', {
  start: () => apache({ label: 'apache-event', mpm: 'event', phpModule: modPhp, start: CHILDREN, threads: THREADS }),
  minWorkers: CHILDREN,
  concurrency: 4,
  more: ({ dep, track, test }) => {
    test('each child is one process with one hub for all its threads', {}, async () => {
      const d = dep();
      const pids = d.servingPids();
      assert.equal(pids.length, CHILDREN, `children: ${JSON.stringify(pids)}`);
      for (const pid of pids) {
        const tasks = fs.readdirSync(`/proc/${pid}/task`).length;
        assert.ok(tasks > THREADS, `child ${pid} runs ${tasks} threads (event MPM: ${THREADS} workers + listener + hub)`);
      }
      // Requests held at once occupy many threads of each child: every one
      // of a child reports the same running hub.
      const answers = await Promise.all(Array.from({ length: CHILDREN * THREADS }, () => d.json('/pid.php?sleep=300')));
      const nodes = new Map();
      for (const a of answers) {
        assert.equal(a.running, true, `a request of pid ${a.pid} sees no hub: ${a.error}`);
        if (!nodes.has(a.pid)) nodes.set(a.pid, new Set());
        nodes.get(a.pid).add(a.node);
      }
      for (const [pid, set] of nodes) assert.equal(set.size, 1, `pid ${pid}'s threads saw hubs ${[...set].join(', ')}`);
    });

    test(`${THREADS * 4} broadcast() requests at once, on every thread of the children, all reach every client`, {}, async (t) => {
      const d = dep();
      const clients = track(await connectMany(d.wsUrl, 40, { subscribe: 'burst' }));
      t.diagnostic(`clients: ${await spreadReport(d, clients)}`);
      const n = THREADS * 4;
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => publish(d, 'burst', { k: i }, { hold: 50 })));
      t.diagnostic(`served by pids ${[...new Set(answers.map((a) => a.pid))].join(', ')}`);
      const isBurst = (m) => m.type === 'message' && m.channel === 'burst';
      await Promise.all(clients.map(async (c) => {
        const got = [];
        for (let i = 0; i < n; i++) got.push((await c.next(isBurst, 15000)).data.k);
        assert.deepEqual([...new Set(got)].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i), 'every broadcast once');
        assert.equal(c.inbox.filter(isBurst).length, 0, 'no broadcast twice');
      }));
    });
  },
});

describe('apache2 event MPM + ZTS mod_php: restart', () => {
  let dep;
  const open = [];
  before(async () => {
    dep = await apache({ label: 'apache-event-hup', mpm: 'event', phpModule: modPhp, start: CHILDREN, threads: THREADS });
    await warmUp(dep, { min: CHILDREN, concurrency: 4 });
  });
  after(async () => {
    for (const c of open) c.close();
    if (dep) await dep.stop();
  });

  it('graceful restart (SIGUSR1): the old children hand their clients to the new ones (none closed, same ids)', async (t) => {
    const old = childrenOf(dep.parentPid);
    const clients = await connectMany(dep.wsUrl, 8, { subscribe: 'graceful' });
    open.push(...clients);
    const ids = clients.map((c) => c.connectionId);
    process.kill(dep.parentPid, 'SIGUSR1');
    await waitFor(() => old.every((p) => !isAlive(p)), 15000, { message: 'the old children to exit' });
    await waitFor(() => childrenOf(dep.parentPid).length >= CHILDREN, 10000, { message: 'new children' });
    await publish(dep, 'graceful', { tag: 'after-graceful' });
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'message' && m.data && m.data.tag === 'after-graceful', 10000)));
    assert.deepEqual(clients.map((c) => c.closeInfo), clients.map(() => null));
    assert.deepEqual(clients.map((c) => c.connectionId), ids);
    t.diagnostic(`old children ${old.join(', ')} gone; new ${childrenOf(dep.parentPid).join(', ')}`);
  });

  it("restart (SIGHUP): each child's MSHUTDOWN stops its hub, clients get 1012, the new children serve", async (t) => {
    const old = childrenOf(dep.parentPid);
    const clients = await connectMany(dep.wsUrl, 8);
    open.push(...clients);
    process.kill(dep.parentPid, 'SIGHUP');
    const closes = await Promise.all(clients.map((c) => c.waitClose(10000)));
    t.diagnostic(`close codes: ${JSON.stringify(closes.map((x) => x.code))}`);
    assert.deepEqual([...new Set(closes.map((x) => x.code))], [1012]);
    await waitFor(() => old.every((p) => !isAlive(p)), 10000, { message: 'the old children to exit' });
    assert.doesNotMatch(fs.readFileSync(path.join(dep.dir, 'apache-error.log'), 'utf8'), /still did not exit/, 'httpd had to signal a child again');
    await waitFor(() => childrenOf(dep.parentPid).filter((p) => !old.includes(p)).length >= CHILDREN, 10000, { message: 'new children' });
    const c = await connect(dep.wsUrl, { timeout: 10000 });
    open.push(c);
    await c.subscribe('after-hup');
    await waitFor(async () => {
      await publish(dep, 'after-hup', { tag: 'hup' });
      return c.inbox.some((m) => m.type === 'message' && m.data && m.data.tag === 'hup');
    }, 10000, { interval: 200, message: 'a broadcast after the restart to reach a new client' });
  });
});
