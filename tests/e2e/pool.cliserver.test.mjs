// Worker pools on one host (issue 4): php -S with PHP_CLI_SERVER_WORKERS=4.
//
// php -S forks 4 workers and keeps serving requests in the parent as well,
// so 5 processes run PHP, and each runs a hub from its first request on.
// They share realtime.listen (SO_REUSEPORT, plus the socket the parent
// bound before forking) and the memory broker's shared ring. Clients
// connect straight to the hub port.
//
//   tests (1) (2) (3) (6) (4) (4b) of lib/pool/scenarios.mjs

import assert from 'node:assert/strict';
import { poolSuite } from './lib/pool/scenarios.mjs';
import { cliServer } from './lib/pool/servers.mjs';

poolSuite('php -S with PHP_CLI_SERVER_WORKERS=4', {
  start: () => cliServer({ workers: 4 }),
  minWorkers: 5,
  more: ({ dep, ctx, test }) => {
    test('the parent and its 4 workers all serve PHP and run hubs', {}, async (t) => {
      // As warmed up before test (1) (test (4) has killed a worker since).
      const d = dep();
      t.diagnostic(`parent ${d.parentPid}; processes with hubs after the warm-up: ${ctx.warmed.map((p) => `${p} (node ${d.pids.get(p)})`).join(', ')}`);
      assert.ok(ctx.warmed.includes(d.parentPid), 'the parent ran no hub');
      assert.equal(ctx.warmed.length, 5, `processes with hubs: ${ctx.warmed}`);
      assert.equal(new Set(ctx.warmed.map((p) => d.pids.get(p))).size, 5, 'two processes reported the same hub');
    });
  },
});
