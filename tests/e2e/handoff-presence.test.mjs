// Handoff (issue 13) of presence members (native protocol): members whose
// php-fpm worker ends (pm.max_requests = 1) move to another hub and stay
// members; a watcher on the hub that stays sees no member_removed and no
// second member_added, and the channel's member list stays whole.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { nodeOf, presenceMember, publish, warmUp } from './lib/pool/clients.mjs';
import { appAndChurn, checkCounters, handoffLog } from './lib/handoff.mjs';

const ROOM = 'presence-ho';

describe('handoff: presence members move without leaving', () => {
  let dep;
  let churn;
  const clients = [];
  before(async () => {
    ({ dep, churn } = await appAndChurn({
      label: 'fpm-handoff-presence',
      app: 1,
      churn: 1,
    }));
    await warmUp(dep, { min: 1 });
  });
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  // (The Pusher-protocol version of this, in handoff-pusher.test.mjs, does
  // see a moved member leave and join again; native members do not.)
  it('a watcher sees no member leave or join twice; every member stays in the list', async (t) => {
    const url = `ws://127.0.0.1:${dep.hubPort}/ws`;
    const watcher = await presenceMember(dep, 'watcher', ROOM, { url }); // only the app hub runs yet
    clients.push(watcher);
    const steady = nodeOf(watcher);
    // Members keep joining all along, some of them while their hub hands off.
    let n = 0;
    let joining = true;
    const joiner = (async () => {
      while (joining) {
        const batch = await Promise.allSettled(Array.from({ length: 3 }, () => presenceMember(dep, `u-${n++}`, ROOM, { url })));
        for (const r of batch) if (r.status === 'fulfilled') clients.push(r.value);
      }
    })();
    try {
      for (let round = 0; round < 4; round++) {
        // The churn worker runs a hub for as long as this request lasts.
        const { pid } = await churn.json('/pid.php?sleep=1000');
        await waitFor(() => handoffLog(dep).lines.some((l) => l.includes(`realtime[${pid}]`) && l.includes('handoff: moved')), 10000, { message: `worker ${pid} to hand off` });
      }
    } finally {
      joining = false;
      await joiner;
    }
    n = clients.length - 1;
    const moved = clients.filter((c) => nodeOf(c) !== steady).length;
    t.diagnostic(`${n} members, ${moved} of them moved from churn hubs`);
    assert.ok(moved > 0, 'no member landed on a churn hub');
    // A broadcast through the stream marks the end: everything before it has arrived.
    await publish(dep, ROOM, { end: true });
    await watcher.next((m) => m.type === 'message' && m.data && m.data.end, 10000);
    const events = watcher.received.filter((m) => m.type === 'member_added' || m.type === 'member_removed');
    const removed = events.filter((m) => m.type === 'member_removed').map((m) => m.member.id);
    const added = events.filter((m) => m.type === 'member_added').map((m) => m.member.id);
    const twice = added.filter((id, i) => added.indexOf(id) !== i);
    const where = (id) => {
      const c = clients.find((x) => x.user === id);
      return c ? `${id} (${c.connectionId}, ${nodeOf(c) === steady ? 'steady' : 'churn'} hub, ${c.isOpen ? 'open' : 'closed'})` : id;
    };
    assert.equal(removed.length + twice.length, 0, `member_removed: ${removed.map(where).join(', ')}; member_added twice: ${twice.map(where).join(', ')}`);
    assert.deepEqual([...new Set(added)].sort(), clients.filter((c) => c !== watcher).map((c) => c.user).sort());
    const users = await dep.json(`/users.php?channel=${ROOM}`);
    assert.equal(users.users.length, n + 1, JSON.stringify(users.users.map((u) => u.id ?? u)));
    await checkCounters(assert, dep, [[dep, dep.workers('app')]], t);
  });
});
