// Handoff (issue 13): a worker that FPM recycles (pm.max_requests) hands its
// hub's WebSocket connections to a hub of another worker of the same app,
// and the clients notice nothing: no close, the same connection id (a
// Realtime\send() by id still reaches them), every numbered broadcast once
// and in order while workers come and go.
//
// Two pools of one app behind nginx: "app" keeps its workers; "churn"
// recycles its workers every pm.max_requests requests, and every numbered
// broadcast is one request to it, so its workers (and their hubs) are
// replaced all along. Clients connect throughout; the kernel puts some on
// the hubs of churn workers, which then move to another hub when their
// worker ends. Two scenarios: pm.max_requests = 2 (a recycle every other
// broadcast), and pm.max_requests = 20 under load (300 clients, 200
// broadcasts sent back to back).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from './lib/server.mjs';
import { connectMany, delay, nodeOf, publish, spreadReport, warmUp } from './lib/pool/clients.mjs';
import { appAndChurn, checkCounters } from './lib/handoff.mjs';
import { TIMING_UNDER_ASAN } from './lib/sanitizer.mjs';

const scenarios = [
  { title: 'pm.max_requests = 2', label: 'fpm-handoff', maxRequests: 2, K: 24, hold: 150, early: 40, batch: 3 },
  { title: 'pm.max_requests = 20 under load', label: 'fpm-handoff-20', maxRequests: 20, K: 200, hold: 5, early: 300, batch: 5 },
];

for (const sc of scenarios) {
  describe(`handoff: php-fpm ${sc.title} behind nginx`, () => {
    let dep;
    let churn;
    const clients = [];
    before(async () => {
      ({ dep, churn } = await appAndChurn({ label: sc.label, app: 2, churn: 2, maxRequests: sc.maxRequests }));
      await warmUp(dep, { min: 2 });
    });
    after(async () => {
      for (const c of clients) c.close();
      if (dep) await dep.stop();
    });

    // Optional under ASan only (scripts/asan.sh): see lib/sanitizer.mjs TIMING_UNDER_ASAN.
    it('clients of recycled workers stay connected with their id: zero closes, zero missed, zero duplicated', TIMING_UNDER_ASAN, async (t) => {
      const { K } = sc;
      const steadyNodes = new Set(dep.nodes.keys());
      const early = await connectMany(dep.wsUrl, sc.early, { subscribe: 'ho' });
      clients.push(...early);

      // Clients keep arriving while the churn pool recycles; those the kernel
      // gives to a churn worker's hub are the ones that must move.
      const roamers = [];
      let churning = true;
      const roaming = (async () => {
        while (churning) {
          const batch = await Promise.allSettled(
            Array.from({ length: sc.batch }, async () => {
              const c = await connect(dep.wsUrl, { timeout: 5000 });
              clients.push(c);
              await c.subscribe('ho');
              return c;
            }),
          );
          for (const r of batch) if (r.status === 'fulfilled') roamers.push(r.value);
          await delay(40);
        }
      })();

      const pids = [];
      const started = Date.now();
      try {
        for (let i = 0; i < K; i++) {
          const res = await publish(churn, 'ho', { seq: i }, { hold: sc.hold });
          pids.push(res.pid);
        }
      } finally {
        churning = false;
        await roaming;
      }
      const recycled = new Set(pids).size;
      t.diagnostic(`${K} broadcasts in ${Date.now() - started} ms from ${recycled} churn workers`);
      assert.ok(recycled >= K / sc.maxRequests - 1, `the churn workers were not recycled: ${recycled} pids for ${K} requests`);
      const onChurn = roamers.filter((c) => !steadyNodes.has(nodeOf(c)));
      t.diagnostic(`${onChurn.length} of ${roamers.length} later clients connected to a churn worker's hub`);
      // (spreadReport looks up every hub's pid: only worth it on failure)
      if (onChurn.length === 0) assert.fail(`no client landed on a churn worker's hub: ${await spreadReport(dep, roamers)}`);

      // A last broadcast through the steady pool marks the end of the stream.
      await publish(dep, 'ho', { seq: K });
      const all = [...early, ...roamers];
      await Promise.all(all.map((c) => c.next((m) => m.type === 'message' && m.data && m.data.seq === K, 15000)));

      let closes = 0;
      for (const c of all) {
        if (!c.isOpen) closes++;
        const seqs = c.received.filter((m) => m.type === 'message' && m.channel === 'ho').map((m) => m.data.seq);
        // From its first broadcast on: each number once, none skipped.
        const first = seqs.length ? seqs[0] : K;
        const want = Array.from({ length: K + 1 - first }, (_, i) => first + i);
        assert.deepEqual(seqs, want, `client ${c.connectionId} (${steadyNodes.has(nodeOf(c)) ? 'steady' : 'churn'} hub) got ${JSON.stringify(seqs)}`);
      }
      assert.equal(closes, 0, 'a client was closed');
      for (const c of early) assert.equal(c.received.filter((m) => m.type === 'message').length, K + 1);

      // Moved clients keep their id: Realtime\send() by id reaches them.
      for (const c of onChurn.slice(0, 5)) {
        const res = await dep.get(`/send.php?id=${encodeURIComponent(c.connectionId)}&message=${encodeURIComponent(JSON.stringify({ to: c.connectionId }))}`);
        assert.equal(res.status, 200, res.body);
        await c.next((m) => m.data && m.data.to === c.connectionId, 10000);
      }
      // Every connection a recycled worker gave away was taken, none closed.
      await checkCounters(assert, dep, [[dep, dep.workers('app')]], t);
    });
  });
}
