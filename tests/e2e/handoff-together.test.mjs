// Handoff (issue 13) when two hubs stop at the same moment: two php-fpm
// workers at pm.max_requests = 1 end together (two concurrent requests
// that finish together), each with clients; a third worker stays. Every
// client must end up on the surviving hub: zero closes, zero missed, zero
// duplicated. (Dynamic culling, an ondemand timeout and pm.max_requests
// under load all end workers close together; this is the plain case.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, waitFor } from './lib/server.mjs';
import { delay, nodeOf, publish, warmUp } from './lib/pool/clients.mjs';
import { appAndChurn, checkCounters, handoffLog, seqProblem } from './lib/handoff.mjs';

describe('handoff: two hubs stopping together', () => {
  let dep;
  let churn;
  const clients = [];
  before(async () => {
    ({ dep, churn } = await appAndChurn({
      label: 'fpm-handoff-together',
      app: 1,
      churn: 2,
    }));
    await warmUp(dep, { min: 1 });
  });
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  // It once failed: a hub that stopped while a sibling had just connected
  // to its handoff socket closed that socket with the link still queued,
  // so the connections the sibling had sent over it were lost (1001). A
  // stopping hub now takes such links in first (hub/handoff.c).
  it('clients of both move to the hub that stays', async (t) => {
    const steady = new Set(dep.nodes.keys());
    for (let round = 0; round < 3; round++) {
      // Two churn workers run hubs for as long as these requests last.
      const held = [churn.json('/pid.php?sleep=1500'), churn.json('/pid.php?sleep=1500')];
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline) {
        const c = await connect(`ws://127.0.0.1:${dep.hubPort}/ws`);
        clients.push(c);
        await c.subscribe('tg');
        await delay(5);
      }
      const answers = await Promise.all(held);
      assert.notEqual(answers[0].pid, answers[1].pid, 'both requests went to one worker');
      await waitFor(() => answers.every((a) => handoffLog(dep).lines.some((l) => l.includes(`realtime[${a.pid}]`) && l.includes('handoff: moved'))), 10000, { message: 'both churn hubs to hand off' });
    }
    const churnClients = clients.filter((c) => !steady.has(nodeOf(c)));
    t.diagnostic(`${clients.length} clients, ${churnClients.length} on churn hubs`);
    assert.ok(churnClients.length > 0);
    const K = 5;
    for (let i = 0; i <= K; i++) await publish(dep, 'tg', { seq: i });
    await waitFor(() => clients.every((c) => !c.isOpen || c.received.some((m) => m.type === 'message' && m.data.seq === K)), 10000, { message: `every open client to get seq ${K}` });
    const problems = [];
    for (const c of clients) {
      if (!c.isOpen) problems.push(`${c.connectionId}: closed`);
      const p = seqProblem(c.received.filter((m) => m.type === 'message').map((m) => m.data.seq), K);
      if (p || c.received.filter((m) => m.type === 'message').length !== K + 1) problems.push(`${c.connectionId}: ${p || 'not from 0'}`);
    }
    assert.equal(problems.length, 0, `${problems.join('\n')}\n${handoffLog(dep).lines.join('\n')}`);
    await checkCounters(assert, dep, [[dep, dep.workers('app')]], t);
  });
});
