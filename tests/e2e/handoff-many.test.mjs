// Handoff at scale (issue 13): one php-fpm worker holds 1,500 clients and a
// descriptor limit (rlimit_files) with room for them and little more. When
// its request ends (pm.max_requests = 1), every client moves to the other
// workers' hubs: none is closed, and each gets the next broadcast. A
// handoff once took a second descriptor per connection while its records
// waited to be sent, and ran out of them at such a limit: those clients
// were closed (seen at 10,000 clients in bench/handoff.sh).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { expectAll, publish } from './lib/pool/clients.mjs';
import { handoffLog, oneHubHoldsAll } from './lib/handoff.mjs';

const N = 1500;

describe('handoff: 1,500 clients of one php-fpm worker at its descriptor limit', () => {
  let setup;
  before(async () => {
    // The worker's other descriptors (FPM's, the hub's, the pool's) are
    // far fewer than 150; a second one per moving client does not fit.
    setup = await oneHubHoldsAll({ label: 'handoff-many', n: N, churnExtra: [`rlimit_files = ${N + 150}`] });
  });
  after(async () => {
    if (setup) await setup.stop();
  });

  it('every client moves, none is closed, each gets the next broadcast', async (t) => {
    const { dep, app, holding, release, movers, churnNode } = setup;
    release();
    const pid = (await holding).pid;
    await waitFor(() => {
      const log = handoffLog(dep);
      return log.lines.some((l) => l.includes(`realtime[${pid}]`) && l.includes('handoff: moved'));
    }, 15000, { message: 'the churn hub to hand off' });
    const line = handoffLog(dep).lines.find((l) => l.includes(`realtime[${pid}]`) && l.includes('handoff: moved'));
    t.diagnostic(line);
    assert.match(line, new RegExp(`moved ${N} connection\\(s\\)`), line);
    assert.doesNotMatch(line, /closed/, line);
    await waitFor(() => handoffLog(dep).took === N, 10000, { message: `the takers to log ${N} taken over` });
    assert.equal(movers.filter((c) => !c.isOpen).length, 0, 'clients closed');
    await publish(app, 'b', { after: 'many' });
    await expectAll(movers, (m) => m.type === 'message' && m.data && m.data.after === 'many', 15000, 'the broadcast after the handoff');
    assert.ok(movers.every((c) => c.connectionId.startsWith(`${churnNode}.`)), 'the same connection ids');
  });
});
