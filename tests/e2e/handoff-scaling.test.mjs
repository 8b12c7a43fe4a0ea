// Handoff (issue 13) when php-fpm shrinks a pool on its own: a dynamic
// pool above pm.max_spare_servers culls idle workers (SIGQUIT, one a
// second), an ondemand pool stops workers idle for pm.process_idle_timeout.
// The clients of those workers' hubs move to the hubs that stay: zero
// closes, zero missed, zero duplicated, the same connection id.
//
// Three pools of one app behind nginx: "app" (static, one worker) answers
// the front; "dyn" (dynamic, max_spare 2) and "od" (ondemand, idle timeout
// 2 s) are scaled up by long concurrent requests, clients connect while
// their workers run hubs, then the requests end and FPM scales them down.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { connectMany, delay, nodeOf, publish, warmUp } from './lib/pool/clients.mjs';
import { fpmNginx, nginxServerBlock } from './lib/pool/servers.mjs';
import { STATIC, checkCounters, seqProblem } from './lib/handoff.mjs';

const DYNAMIC = ['pm = dynamic', 'pm.max_children = 5', 'pm.start_servers = 2', 'pm.min_spare_servers = 1', 'pm.max_spare_servers = 2'].join('\n');
const ONDEMAND = ['pm = ondemand', 'pm.max_children = 3', 'pm.process_idle_timeout = 2s'].join('\n');

describe('handoff: php-fpm dynamic pool culling and ondemand idle timeout', () => {
  let dep;
  let dyn;
  let od;
  const clients = [];
  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-handoff-scaling',
      pools: [
        { name: 'app', pm: STATIC(1) },
        { name: 'dyn', pm: DYNAMIC },
        { name: 'od', pm: ONDEMAND },
      ],
      nginxExtra: (pools) =>
        pools
          .slice(1)
          .map((p) => nginxServerBlock({ httpListen: `127.0.0.1:${p.extraPort}`, hubAddr: `127.0.0.1:${p.hubPort}`, fpmAddr: `127.0.0.1:${p.fpmPort}` }))
          .join('\n'),
    });
    dyn = dep.forPool('dyn', dep.pools[1].extraPort);
    od = dep.forPool('od', dep.pools[2].extraPort);
    await warmUp(dep, { min: 1 });
  });
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  // Culling and timeouts end workers close together: this is where the
  // simultaneous-stop loss of handoff-together.test.mjs first showed.
  it('clients of culled and timed-out workers move: zero closes, zero missed, zero duplicated', async (t) => {
    const steady = new Set(dep.nodes.keys());
    // Scale up: concurrent long requests make FPM fork workers (dynamic:
    // one more each second while none is idle; ondemand: one per request).
    const held = [
      ...Array.from({ length: 5 }, () => dyn.json('/pid.php?sleep=3500', { timeout: 30000 })),
      ...Array.from({ length: 3 }, () => od.json('/pid.php?sleep=2500', { timeout: 30000 })),
    ];
    // Clients arrive while those hubs run.
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      clients.push(...(await connectMany(dep.wsUrl, 10, { subscribe: 'sc' })));
      await delay(100);
    }
    const answers = await Promise.all(held);
    const dynPids = new Set(answers.slice(0, 5).map((a) => a.pid));
    const odPids = new Set(answers.slice(5).map((a) => a.pid));
    const nodeSet = (pids) => new Set(answers.filter((a) => pids.has(a.pid)).map((a) => String(a.node)));
    const dynNodes = nodeSet(dynPids);
    const odNodes = nodeSet(odPids);
    t.diagnostic(`${clients.length} clients; dyn workers ${[...dynPids].join(', ')}, od workers ${[...odPids].join(', ')}`);

    // Numbered broadcasts while FPM scales both pools down.
    let i = 0;
    await waitFor(async () => {
      await publish(dep, 'sc', { seq: i++ });
      return dep.workers('dyn').length <= 2 && dep.workers('od').length === 0 && i >= 5;
    }, 20000, { interval: 100, message: 'dyn to cull to 2 workers and od to stop its workers' });
    const K = i;
    await publish(dep, 'sc', { seq: K });
    const culled = [...dynPids].filter((p) => !dep.workers('dyn').includes(p));
    t.diagnostic(`${K} broadcasts; culled dyn workers ${culled.join(', ')}; od workers left ${dep.workers('od').length}`);
    assert.ok(culled.length >= 1, `no dyn worker with a hub was culled (live: ${dep.workers('dyn').join(', ')})`);

    const culledNodes = new Set(answers.filter((a) => culled.includes(a.pid)).map((a) => String(a.node)));
    const onCulled = clients.filter((c) => culledNodes.has(nodeOf(c)));
    const onOd = clients.filter((c) => odNodes.has(nodeOf(c)));
    t.diagnostic(`${onCulled.length} clients on culled dyn hubs, ${onOd.length} on od hubs, ${clients.filter((c) => steady.has(nodeOf(c))).length} on the app hub`);
    assert.ok(onCulled.length > 0 && onOd.length > 0, `no client on a culled or an ondemand hub (dyn nodes ${[...dynNodes]}, od nodes ${[...odNodes]})`);

    await waitFor(() => clients.every((c) => !c.isOpen || c.received.some((m) => m.type === 'message' && m.data.seq === K)), 15000, { message: `every client to get seq ${K}` });
    const problems = [];
    for (const c of clients) {
      if (!c.isOpen) problems.push(`${c.connectionId}: closed`);
      const p = seqProblem(c.received.filter((m) => m.type === 'message' && m.channel === 'sc').map((m) => m.data.seq), K);
      if (p) problems.push(`${c.connectionId}: ${p}`);
    }
    assert.equal(problems.length, 0, problems.join('\n'));
    // Every client was subscribed before the first broadcast: all of them.
    for (const c of clients) assert.equal(c.received.filter((m) => m.type === 'message').length, K + 1);

    for (const c of [...onCulled.slice(0, 2), ...onOd.slice(0, 2)]) {
      const res = await dep.get(`/send.php?id=${encodeURIComponent(c.connectionId)}&message=${encodeURIComponent(JSON.stringify({ to: c.connectionId }))}`);
      assert.equal(res.status, 200, res.body);
      await c.next((m) => m.data && m.data.to === c.connectionId, 10000);
    }
    await checkCounters(assert, dep, [[dep, dep.workers('app')], [dyn, dep.workers('dyn').filter((p) => dynPids.has(p))]], t);
  });
});
