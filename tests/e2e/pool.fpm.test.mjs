// Worker pools on one host (issue 4): php-fpm behind nginx.
//
// Every FPM worker runs its own hub, started when the worker is (before
// any request: earlystart.test.mjs); all hubs listen on realtime.listen (SO_REUSEPORT, plus the
// socket the master bound before forking) and share messages through the
// memory broker's shared ring. nginx proxies /ws to the hubs and the rest to
// FPM, with the config docs/deployment.md shows (lib/pool/conf/).
//
//   pm=static (4 workers) and pm=dynamic: tests (1) (2) (3) (6) (4) of
//     lib/pool/scenarios.mjs
//   workers running as nobody under a root master (production setup)
//   (5) pm.max_requests=1 churn: one pool's workers recycle with every
//     request while clients of the other pool's workers keep every message
//     and those of the recycled workers are handed off
//   two pools of one master on two realtime.listen ports: separate apps
//   docs/deployment.md shows these configs
//
// Workers run as root here (php-fpm -R), except in the "nobody" test, which
// has the production setup: a root master and workers of another user.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, waitFor } from './lib/server.mjs';
import {
  cliPublish,
  connectMany,
  delay,
  describeSpread,
  spreadReport,
  expectAll,
  ids,
  nodeOf,
  presenceMember,
  publish,
  reconnect,
  spreadPresence,
  warmUp,
} from './lib/pool/clients.mjs';
import { fpmDocSnippets, missingFromDoc } from './lib/pool/docs.mjs';
import { poolSuite } from './lib/pool/scenarios.mjs';
import { PM, fpmNginx, nginxServerBlock } from './lib/pool/servers.mjs';

const STATIC = (n, extra = []) => [`pm = static`, `pm.max_children = ${n}`, ...extra].join('\n');

poolSuite('php-fpm pm=static, 4 workers, behind nginx', {
  start: () => fpmNginx({ label: 'fpm-static', pools: [{ name: 'app', pm: PM.static4 }] }),
  minWorkers: 4,
  more: ({ dep, track, test }) => {
    test("a browser's handshake through nginx passes the origin check (Origin = the page's origin)", {}, async () => {
      // With realtime.allowed_origins empty the hub accepts an Origin whose
      // host:port equals the Host header: nginx must pass it on unchanged.
      const d = dep();
      const origin = `http://127.0.0.1:${d.frontPort}`;
      const [c] = track(await connect(d.wsUrl, { origin, timeout: 10000 }));
      assert.ok(c.connectionId);
      await assert.rejects(connect(d.wsUrl, { origin: 'http://evil.example', timeout: 10000 }), /403/);
    });

    test('reload (SIGUSR2): clients get 1012 (reconnect at once); the new workers serve them before any request', {}, async (t) => {
      const d = dep();
      const before = d.servingPids();
      const cs = track(await connectMany(d.wsUrl, 40, { subscribe: 'reload' }));
      process.kill(d.masterPid, 'SIGUSR2');
      const closes = await Promise.all(cs.map((c) => c.waitClose(15000)));
      assert.deepEqual([...new Set(closes.map((c) => c.code))], [1012], JSON.stringify(closes.slice(0, 3)));
      // With a reason, whether the hub closed them itself or after finding no taker.
      assert.deepEqual([...new Set(closes.map((c) => c.reason))], ['server restarting: reconnect now']);
      // They reconnect at once: the master's pre-bound socket, kept across
      // its re-execution, holds them until the new workers' hubs start,
      // which they do without a request.
      const reconnectStart = Date.now();
      const back = track(await Promise.all(cs.map(() => reconnect(d.wsUrl, 'reload'))));
      t.diagnostic(`the ${back.length} clients were back ${Date.now() - reconnectStart} ms after their close: ${describeSpread(d, back)}`);
      await waitFor(() => {
        const now = d.servingPids();
        return now.length === 4 && now.every((p) => !before.includes(p));
      }, 15000, { message: 'the reloaded pool to run 4 new workers' });
      d.nodes.clear();
      d.pids.clear();
      await publish(d, 'reload', { after: 'reload' });
      await expectAll(back, (m) => m.type === 'message' && m.data && m.data.after === 'reload', 15000, 'the broadcast after the reload');
    });
  },
});

// pm=dynamic forks workers when fewer than min_spare are idle and stops
// the oldest idle one each second while more than max_spare are idle:
// its hub goes and its clients get 1012. Fanning out at most 2 requests
// at a time keeps this pool between 3 and 5 workers, so no hub is stopped
// under the tests.
poolSuite('php-fpm pm=dynamic behind nginx', {
  start: () => fpmNginx({ label: 'fpm-dynamic', pools: [{ name: 'app', pm: PM.dynamic }] }),
  minWorkers: 3,
  concurrency: 2,
});

describe('php-fpm workers running as nobody under a root master', () => {
  let dep;
  const clients = [];
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  // The master binds realtime.listen as root before forking; the workers
  // (user = nobody) cannot add SO_REUSEPORT sockets of their own to it
  // (Linux groups them by owner), so their hubs serve the inherited one.
  it('start their hubs, spread clients and deliver a broadcast', async (t) => {
    dep = await fpmNginx({ label: 'fpm-nobody', pools: [{ name: 'app', pm: STATIC(3), user: 'nobody', group: 'nogroup' }] });
    await warmUp(dep, { min: 3 });
    clients.push(...(await connectMany(dep.wsUrl, 60, { subscribe: 'news' })));
    t.diagnostic(`spread: ${await spreadReport(dep, clients)}`);
    assert.ok(new Set(clients.map(nodeOf)).size > 1, await spreadReport(dep, clients));
    await publish(dep, 'news', { from: 'nobody' });
    await expectAll(clients, (m) => m.type === 'message' && m.data && m.data.from === 'nobody', 15000, 'the broadcast');
  });
});

describe('(5) php-fpm pm.max_requests=1: requests recycle workers', () => {
  // Two pools of one app (same realtime.listen): "app" keeps its workers,
  // "churn" has pm.max_requests=1, so each request it serves is its
  // worker's first and last: the hub starts with the worker, takes part
  // in the pool while the request runs (?hold keeps it a moment), and stops
  // when FPM replaces the worker (its clients move to another hub). nginx serves the
  // churn pool on a second server block.
  let dep;
  let churn;
  const clients = [];
  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-churn',
      pools: [
        { name: 'app', pm: STATIC(3) },
        { name: 'churn', pm: STATIC(2, ['pm.max_requests = 1']) },
      ],
      nginxExtra: (pools) =>
        nginxServerBlock({ httpListen: `127.0.0.1:${pools[1].extraPort}`, hubAddr: `127.0.0.1:${pools[1].hubPort}`, fpmAddr: `127.0.0.1:${pools[1].fpmPort}` }),
    });
    churn = dep.forPool('churn', dep.pools[1].extraPort);
    await warmUp(dep, { min: 3 });
  });
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  it('clients of the other workers get all K broadcasts; clients of recycled workers are handed off and stay connected', async (t) => {
    const K = 10;
    const steadyNodes = new Set(dep.nodes.keys());
    // The churn pool's workers run hubs from their start too: keep the
    // clients that landed on the app pool's hubs.
    const steady = [];
    while (steady.length < 100) {
      for (const c of await connectMany(dep.wsUrl, 100 - steady.length, { subscribe: 'churn' })) {
        if (steadyNodes.has(nodeOf(c))) steady.push(c);
        else c.close();
      }
    }
    clients.push(...steady);
    t.diagnostic(`steady clients: ${await spreadReport(dep, steady)}`);

    // While the churn requests run, new clients keep connecting; the kernel
    // puts some on the hub of the churn worker of the moment.
    const onChurnHub = [];
    let attempts = 0;
    let churning = true;
    const roaming = (async () => {
      while (churning) {
        const batch = await Promise.allSettled(
          Array.from({ length: 4 }, async () => {
            attempts++;
            const c = await connect(dep.wsUrl, { timeout: 5000 });
            clients.push(c);
            await c.subscribe('churn');
            return c;
          }),
        );
        for (const r of batch) {
          if (r.status !== 'fulfilled') continue;
          if (steadyNodes.has(nodeOf(r.value))) r.value.close();
          else onChurnHub.push(r.value);
        }
        await delay(30);
      }
    })();

    const pids = [];
    const started = Date.now();
    try {
      for (let i = 0; i < K; i++) {
        const res = await publish(churn, 'churn', { seq: i }, { hold: 300 });
        pids.push(res.pid);
      }
    } finally {
      churning = false;
      await roaming;
    }
    t.diagnostic(`${K} churn requests in ${Date.now() - started} ms, served by pids ${pids.join(', ')}`);
    assert.equal(new Set(pids).size, K, `every churn request should be its worker's only one: ${pids.join(', ')}`);

    // Clients of the steady workers: every broadcast, once, in order.
    await expectAll(steady, (m) => m.type === 'message' && m.data && m.data.seq === K - 1, 15000, `broadcast ${K - 1}`);
    for (const c of steady) {
      const seqs = c.received.filter((m) => m.type === 'message' && m.channel === 'churn').map((m) => m.data.seq);
      assert.deepEqual(seqs, [...Array(K).keys()], `client ${c.connectionId} got ${JSON.stringify(seqs)}`);
      assert.ok(c.isOpen, `steady client ${c.connectionId} was closed: ${JSON.stringify(c.closeInfo)}`);
    }

    // Clients that landed on a churn worker's hub: handed to a hub that
    // stays when it was recycled (docs/deployment.md, "Handoff"), still open.
    t.diagnostic(`${onChurnHub.length} of ${attempts} clients opened during the churn landed on churn hubs (${new Set(onChurnHub.map(nodeOf)).size} different)`);
    assert.ok(onChurnHub.length > 0, `none of ${attempts} clients landed on a churn worker's hub`);
    // The churn workers still alive have not been recycled (their hubs run
    // from their start): stop them as FPM stops idle ones (SIGQUIT); their
    // clients move to the app pool's hubs too.
    for (const p of dep.workers('churn')) process.kill(p, 'SIGQUIT');
    await publish(dep, 'churn', { final: true });
    await expectAll([...steady, ...onChurnHub], (m) => m.type === 'message' && m.data && m.data.final === true, 15000, 'the broadcast after the churn');
    const closed = onChurnHub.filter((c) => !c.isOpen);
    assert.equal(closed.length, 0, `closed: ${JSON.stringify(closed.map((c) => c.closeInfo))}`);
  });

  // The hub a request starts must have the other hubs' state before it
  // answers that request's query (the SYNC round trip is asynchronous).
  it("getChannelUsers() in a worker's first request lists the members of the other workers", async () => {
    // Members on the app pool's hubs only: the churn requests below end
    // the churn workers, and with them members on their hubs.
    const appNodes = new Set(dep.workers('app').map((p) => dep.pids.get(p)).filter(Boolean));
    const members = [];
    for (let i = 0; members.length < 3 || new Set(members.map(nodeOf)).size < 2; i++) {
      assert.ok(i < 40, `40 presence members, ${members.length} on the app pool's hubs`);
      const m = await presenceMember(dep, `c5-${i}`, 'presence-c5');
      if (appNodes.has(nodeOf(m))) members.push(m);
      else m.close();
    }
    clients.push(...members);
    const want = members.map((m) => m.user).sort();
    // The steady workers list them all (several answers in a row).
    let streak = 0;
    await waitFor(async () => {
      const a = await dep.json('/users.php?channel=presence-c5');
      streak = JSON.stringify(ids(a.users)) === JSON.stringify(want) ? streak + 1 : 0;
      return streak >= 3;
    }, 10000, { message: `the app pool to list ${want.join(', ')}` });
    // Every churn request runs in a fresh worker whose hub starts with it.
    for (let i = 0; i < 3; i++) {
      const a = await churn.json('/users.php?channel=presence-c5');
      assert.deepEqual(ids(a.users), want, `getChannelUsers() in the first request of worker ${a.pid}`);
    }
  });
});

describe('two pools of one master on two realtime.listen ports', () => {
  // Pool "a" uses the global realtime.listen (php.ini; the master pre-binds
  // it); pool "b" has php_admin_value[realtime.listen] with a port of its
  // own. Hubs share messages only with hubs of the same listen address.
  let dep;
  let a;
  let b;
  const clients = [];
  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-two',
      pools: [
        { name: 'a', pm: STATIC(2) },
        { name: 'b', pm: STATIC(2), hubPort: 'own' },
      ],
      nginxExtra: (pools) =>
        nginxServerBlock({ httpListen: `127.0.0.1:${pools[1].extraPort}`, hubAddr: `127.0.0.1:${pools[1].hubPort}`, fpmAddr: `127.0.0.1:${pools[1].fpmPort}` }),
    });
    a = dep;
    b = dep.forPool('b', dep.pools[1].extraPort);
    await warmUp(a, { min: 2 });
    await warmUp(b, { min: 2 });
  });
  after(async () => {
    for (const c of clients) c.close();
    if (dep) await dep.stop();
  });

  it("a broadcast in pool A does not reach pool B's clients (nor B's in A)", async (t) => {
    assert.notEqual(a.hubPort, b.hubPort);
    const ca = await connectMany(a.wsUrl, 20, { subscribe: 'news' });
    const cb = await connectMany(b.wsUrl, 20, { subscribe: 'news' });
    clients.push(...ca, ...cb);
    t.diagnostic(`pool a: ${await spreadReport(a, ca)}; pool b: ${await spreadReport(b, cb)}`);
    for (const c of ca) assert.ok(a.nodes.has(nodeOf(c)), `pool a client on hub ${nodeOf(c)}, not one of pool a's`);
    for (const c of cb) assert.ok(b.nodes.has(nodeOf(c)), `pool b client on hub ${nodeOf(c)}, not one of pool b's`);

    await publish(a, 'news', { pool: 'a', n: 1 });
    await expectAll(ca, (m) => m.data && m.data.pool === 'a', 15000, "pool a's broadcast");
    await publish(b, 'news', { pool: 'b', n: 1 });
    await expectAll(cb, (m) => m.data && m.data.pool === 'b', 15000, "pool b's broadcast");
    // A CLI script publishes to the app of the listen address it is given.
    const cli = await cliPublish({ extension: dep.extension, listen: b.hubAddr, secret: dep.secret }, 'news', { pool: 'b', n: 2 });
    assert.equal(cli.code, 0, `${cli.stdout}${cli.stderr}`);
    await expectAll(cb, (m) => m.data && m.data.pool === 'b' && m.data.n === 2, 15000, 'the CLI broadcast to pool b');
    // Markers last: a leaked message would have been delivered before them.
    await publish(a, 'news', { pool: 'a', n: 'end' });
    await expectAll(ca, (m) => m.data && m.data.n === 'end', 15000, "pool a's last broadcast");
    assert.ok(ca.every((c) => !c.received.some((m) => m.data && m.data.pool === 'b')), "a client of pool a got pool b's broadcast");
    assert.ok(cb.every((c) => !c.received.some((m) => m.data && m.data.pool === 'a')), "a client of pool b got pool a's broadcast");

    // Counts are per app.
    const countA = await a.json('/counts.php?channel=news');
    const countB = await b.json('/counts.php?channel=news');
    assert.equal(countA.subscribers, ca.length, JSON.stringify(countA));
    assert.equal(countB.subscribers, cb.length, JSON.stringify(countB));
    for (const c of [...ca, ...cb]) c.close();
  });

  it('presence does not mix: each pool lists and announces only its own members', async () => {
    const channel = 'presence-room';
    const alice = await presenceMember(a, 'alice', channel);
    const bob = await presenceMember(b, 'bob', channel);
    clients.push(alice, bob);
    assert.deepEqual(ids(alice.members), ['alice']);
    assert.deepEqual(ids(bob.members), ['bob']);
    const carol = await presenceMember(a, 'carol', channel);
    clients.push(carol);
    await alice.next((m) => m.type === 'member_added' && m.member.id === 'carol', 10000);
    assert.deepEqual(ids(carol.members), ['alice', 'carol']);

    // Ask each worker of each pool (two requests at a time reach both workers).
    for (const [dp, want] of [[a, ['alice', 'carol']], [b, ['bob']]]) {
      const seen = new Set();
      for (let i = 0; i < 20 && seen.size < 2; i++) {
        const answers = await Promise.all([0, 1].map(() => dp.json(`/users.php?channel=${channel}&sleep=100`)));
        for (const ans of answers) {
          assert.deepEqual(ids(ans.users), want, `${dp.kind} worker ${ans.pid}`);
          seen.add(ans.pid);
        }
      }
    }
    await bob.flush();
    assert.ok(!bob.received.some((m) => m.type === 'member_added'), `bob heard of pool a's members: ${JSON.stringify(bob.received)}`);
  });
});

describe('docs/deployment.md', () => {
  it('shows the php.ini, FPM pool and nginx configs these tests run', () => {
    const missing = missingFromDoc(fpmDocSnippets());
    assert.equal(missing.length, 0, `docs/deployment.md lacks, verbatim:\n${missing.join('\n')}`);
  });
});
