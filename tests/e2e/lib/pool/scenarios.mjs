// The tests every kind of worker pool runs (issue 4), as one describe():
//
//   (1) 200 clients spread over the workers' hubs all get a broadcast()
//       made in one request; the pool-wide subscriber count agrees
//   (2) getChannelUsers() in a request lists presence members of every hub,
//       whichever worker answers; member_added crosses hubs
//   (3) a CLI script's broadcast() (POST /publish) reaches all 200
//   (6) bad input: /publish not signed with the secret is 401, the CLI with a
//       wrong secret or no server throws Realtime\Exception
//   (4) kill -9 one worker: the other hubs keep delivering, its clients see
//       the socket close and reconnect to another hub
//   (4b) and its presence member is removed (member_removed on another hub
//       within seconds, gone from getChannelUsers() everywhere)
//
// (4) and (4b) come after the others: they kill a worker. Extra tests of a
// server type (more()) run last, on the pool as the kill left it. Spread
// numbers and timings go to the test output as diagnostics.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { httpRequest, publishSignature, waitFor } from '../server.mjs';
import {
  cliPublish,
  connectMany,
  expectAll,
  ids,
  kill9,
  nodeOf,
  presenceMember,
  publish,
  reconnect,
  spread,
  spreadPresence,
  spreadReport,
  warmUp,
} from './clients.mjs';
import { cmdline, isAlive, procStat } from './proc.mjs';

/**
 * options:
 *   start()          resolves with a deployment (servers.mjs)
 *   clients          size of the fleet of test (1) (200)
 *   minWorkers       serving processes expected after warm-up
 *   concurrency      concurrent requests when fanning out (warm-up, asking
 *                    every worker); pm=dynamic and prefork spawn workers
 *                    when all are busy and later stop idle ones (and their
 *                    hubs), so their suites keep this low
 *   more({ dep, track, test, ... })  defines extra tests inside the describe
 */
export function poolSuite(title, { start, clients = 200, minWorkers = 2, concurrency, more } = {}) {
  describe(title, () => {
    const ctx = { dep: null, fleet: null, extra: [] };

    before(async () => {
      try {
        ctx.dep = await start();
        ctx.warmed = await warmUp(ctx.dep, { min: minWorkers, concurrency });
      } catch (err) {
        if (ctx.dep) err.message += `\n${ctx.dep.logs()}`;
        throw err;
      }
    });

    const test = it;

    after(async () => {
      for (const c of [...(ctx.fleet || []), ...ctx.extra]) c.close();
      if (ctx.dep) await ctx.dep.stop();
    });

    const dep = () => ctx.dep;
    const track = (...cs) => {
      ctx.extra.push(...cs.flat());
      return cs.flat();
    };

    /** The fleet of tests (1), (3), (6): `clients` clients subscribed to "news". */
    async function fleet() {
      if (!ctx.fleet) ctx.fleet = await connectMany(dep().wsUrl, clients, { subscribe: 'news' });
      return ctx.fleet;
    }

    /** Asks every warmed-up worker (concurrent rounds) until each answered pred. */
    async function askEveryWorker(reqPath, pred, ms, what) {
      const ok = new Set();
      let last;
      await waitFor(
        async () => {
          const pids = dep().servingPids().filter((p) => dep().pids.has(p));
          const width = concurrency || Math.max(2, pids.length);
          const answers = await Promise.all(Array.from({ length: width }, () => dep().json(reqPath).catch((e) => ({ error: e.message }))));
          for (const a of answers) {
            last = a;
            if (a && a.pid && pred(a)) ok.add(a.pid);
          }
          return pids.length > 0 && pids.every((p) => ok.has(p) || !isAlive(p));
        },
        ms,
        { interval: 10, message: `${what} from every worker` },
      ).catch((err) => {
        throw new Error(`${err.message} (answered: ${JSON.stringify([...ok])}; workers: ${JSON.stringify(dep().servingPids())}; last answer: ${JSON.stringify(last)})`);
      });
      return ok;
    }

    test(`(1) ${clients} clients spread over the hubs all get one broadcast() made in a request`, {}, async (t) => {
      t.diagnostic(`warmed-up workers: ${ctx.warmed.map((p) => `${p} (node ${dep().pids.get(p)})`).join(', ')}`);
      const started = Date.now();
      const all = await fleet();
      t.diagnostic(`connected and subscribed ${all.length} clients in ${Date.now() - started} ms`);
      const summary = await spreadReport(dep(), all);
      t.diagnostic(`spread: ${summary}`);
      assert.ok(Object.keys(spread(all)).length > 1, `every client landed on one hub: ${summary}`);
      for (const node of Object.keys(spread(all))) {
        const pid = await dep().pidOfNode(node);
        assert.ok(dep().servingPids().includes(pid), `clients on hub node ${node} of pid ${pid}, which is not a worker`);
      }

      // The counts a request sees are pool-wide (state messages between hubs).
      await waitFor(
        async () => {
          const c = await dep().json('/counts.php?channel=news');
          return c.subscribers === all.length && c.connections >= all.length && c.channels.news === all.length;
        },
        15000,
        { message: `counts.php to report ${all.length} subscribers of news` },
      );

      const sent = Date.now();
      const res = await publish(dep(), 'news', { from: 'request', n: 1 });
      await expectAll(all, (m) => m.type === 'message' && m.channel === 'news' && m.data && m.data.from === 'request', 15000, 'the broadcast');
      t.diagnostic(`broadcast() in pid ${res.pid} reached all ${all.length} clients in ${Date.now() - sent} ms`);
    });

    test('(2) getChannelUsers() in a request lists presence members connected to different hubs', {}, async (t) => {
      const channel = 'presence-lobby';
      const members = track(await spreadPresence(dep(), 'p2', channel, { nodes: 2, min: 4 }));
      const want = members.map((m) => m.user).sort();
      t.diagnostic(`presence members: ${members.map((m) => `${m.user}@pid ${dep().nodes.get(nodeOf(m))}`).join(', ')}`);

      // The first member hears of every later one, whichever hub holds it.
      const first = members[0];
      for (const m of members.slice(1)) {
        await first.next((msg) => msg.type === 'member_added' && msg.channel === channel && msg.member && msg.member.id === m.user, 10000);
      }

      const ok = await askEveryWorker(
        `/users.php?channel=${channel}&sleep=100`,
        (a) => JSON.stringify(ids(a.users)) === JSON.stringify(want),
        20000,
        `getChannelUsers() listing ${want.join(', ')}`,
      );
      t.diagnostic(`workers answering with all ${want.length} members: ${[...ok].join(', ')}`);
      const sample = await dep().json(`/users.php?channel=${channel}`);
      const named = sample.users.find((u) => u.id === members[1].user);
      assert.deepEqual(named.info, { name: `Name ${members[1].user}` }, `user info: ${JSON.stringify(sample)}`);

      // Leaving is pool-wide too.
      for (const m of members) m.close();
      await askEveryWorker(`/users.php?channel=${channel}&sleep=100`, (a) => Array.isArray(a.users) && a.users.length === 0, 20000, 'an empty member list');
    });

    test(`(3) a CLI script's broadcast() reaches all ${clients} clients`, {}, async (t) => {
      const all = await fleet();
      const sent = Date.now();
      const res = await cliPublish({ extension: dep().extension, listen: dep().hubAddr, secret: dep().secret }, 'news', { from: 'cli' });
      assert.equal(res.code, 0, `${res.command}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
      assert.deepEqual(res.result, { ok: true });
      await expectAll(all, (m) => m.type === 'message' && m.channel === 'news' && m.data && m.data.from === 'cli', 15000, 'the CLI broadcast');
      t.diagnostic(`CLI broadcast reached all ${all.length} clients in ${Date.now() - sent} ms (process start included)`);
    });

    test('(7) broadcasts from a request that keeps running reach every hub while it runs; the later ones leave the wake-up to the hub (realtime.batch_window)', {}, async (t) => {
      const all = await fleet();
      let ended = false;
      // Two broadcasts 300 ms apart, then the request holds its worker 4 s.
      // The second finds the worker's hub watching (it published 300 ms
      // ago), so it only appends to the ring; the hub's next look, not the
      // end of the request, must carry it to the other hubs.
      const req = publish(dep(), 'news', { from: 'held' }, { count: 2, gap: 300, hold: 4000, timeout: 20000 }).then((r) => {
        ended = true;
        return r;
      });
      const sent = Date.now();
      for (const seq of [0, 1]) {
        await expectAll(all, (m) => m.type === 'message' && m.data && m.data.seq === seq && m.data.data && m.data.data.from === 'held', 15000, `broadcast ${seq} of the held request`);
        assert.equal(ended, false, `broadcast ${seq} reached the clients only after the request ended`);
      }
      t.diagnostic(`both broadcasts reached all ${all.length} clients ${Date.now() - sent} ms after the request started, before it ended`);
      const res = await req;
      t.diagnostic(`pid ${res.pid}: ${res.woke} broadcast(s) woke the hubs, ${res.batched} batched`);
      assert.equal(res.woke + res.batched, 2, JSON.stringify(res));
      assert.ok(res.batched >= 1, `the second broadcast woke the hubs itself: ${JSON.stringify(res)}`);
    });

    test('(6) bad input: /publish not signed with the right secret is 401; the CLI throws Realtime\\Exception', {}, async (t) => {
      const all = await fleet();
      const badBody = JSON.stringify({ type: 'publish', channels: ['news'], data: { from: 'bad' } });
      const post = (auth, body = badBody) =>
        httpRequest(dep().hubPort, '/publish', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...(auth || {}) },
          body,
        });
      // Every hub answers the same: try a few connections (they land on different hubs).
      for (let i = 0; i < 4; i++) {
        const wrong = await post(publishSignature(`${dep().secret}-wrong`, badBody));
        assert.equal(wrong.status, 401, `wrong secret: ${wrong.status} ${wrong.body}`);
        const none = await post(undefined);
        assert.equal(none.status, 401, `no secret: ${none.status} ${none.body}`);
        // The secret itself is not a credential on the wire.
        const bearer = await post({ Authorization: `Bearer ${dep().secret}` });
        assert.equal(bearer.status, 401, `the secret as a bearer token: ${bearer.status} ${bearer.body}`);
      }

      const bad = await cliPublish({ extension: dep().extension, listen: dep().hubAddr, secret: 'not-the-secret' }, 'news', { from: 'bad' });
      assert.equal(bad.code, 3, `${bad.command}\nstdout: ${bad.stdout}\nstderr: ${bad.stderr}`);
      assert.equal(bad.result.class, 'Realtime\\Exception', JSON.stringify(bad.result));
      assert.match(bad.result.error, /401|secret|unauthori/i);
      t.diagnostic(`wrong secret: ${bad.result.error}`);

      const dead = await cliPublish({ extension: dep().extension, listen: '127.0.0.1:1', secret: dep().secret }, 'news', { from: 'bad' });
      assert.equal(dead.code, 3, `${dead.command}\nstdout: ${dead.stdout}\nstderr: ${dead.stderr}`);
      assert.equal(dead.result.class, 'Realtime\\Exception');
      assert.match(dead.result.error, /no realtime server is listening/);

      // The right secret works, and none of the refused messages went out.
      const goodBody = JSON.stringify({ type: 'publish', channels: ['news'], data: { from: 'authorized' } });
      const good = await post(publishSignature(dep().secret, goodBody), goodBody);
      assert.equal(good.status, 202, `right secret: ${good.status} ${good.body}`);
      await expectAll(all, (m) => m.type === 'message' && m.data && m.data.from === 'authorized', 15000, 'the authorized POST /publish');
      // Had a refused message gone out, it would have arrived before this one.
      const leaked = all.filter((c) => c.received.some((m) => m.data && m.data.from === 'bad'));
      assert.equal(leaked.length, 0, `clients that got a refused message: ${leaked.length}`);
    });

    test('(4) kill -9 of one worker: the other hubs keep delivering; its clients see the close and reconnect to another hub', {}, async (t) => {
      const d = dep();
      const channel = 'k4';
      const presence = 'presence-k4';
      const crowd = track(await connectMany(d.wsUrl, 60, { subscribe: channel }));
      // Presence members until one (the victim) sits on a worker's hub other
      // than the first member's (the observer). php -S's parent also runs a
      // hub, but it is not a worker: killing it is not this test.
      const members = [];
      let victim;
      for (let i = 0; i < 24 && !victim; i++) {
        const m = track(await presenceMember(d, `k4-${i}`, presence))[0];
        members.push(m);
        if (i > 0 && nodeOf(m) !== nodeOf(members[0]) && d.isWorker(await d.pidOfNode(nodeOf(m)))) victim = m;
      }
      assert.ok(victim, `24 presence members, none on another worker's hub: ${await spreadReport(d, members)}`);
      const observer = members[0];
      const victimNode = nodeOf(victim);
      const victimPid = await d.pidOfNode(victimNode);
      assert.ok(victimPid && isAlive(victimPid), `no live worker known for hub node ${victimNode}`);
      await observer.next((m) => m.type === 'member_added' && m.member && m.member.id === victim.user, 10000);

      const doomed = crowd.filter((c) => nodeOf(c) === victimNode);
      const spared = crowd.filter((c) => nodeOf(c) !== victimNode);
      t.diagnostic(`crowd: ${await spreadReport(d, crowd)}`);
      t.diagnostic(`killing pid ${victimPid} (node ${victimNode}): ${doomed.length} crowd clients + presence member ${victim.user}; observer ${observer.user} on pid ${d.nodes.get(nodeOf(observer))}`);

      const killedAt = Date.now();
      kill9(victimPid);
      // Test (4b) checks what the observer hears; start listening now.
      ctx.kill = {
        victim,
        victimPid,
        observer,
        presence,
        killedAt,
        removed: observer
          .next((m) => m.type === 'member_removed' && m.channel === presence && m.member && m.member.id === victim.user, 10000)
          .then((m) => ({ m, at: Date.now() }), (err) => ({ err })),
      };

      // Its clients see their socket close.
      const closes = await Promise.all([...doomed, victim].map((c) => c.waitClose(10000)));
      t.diagnostic(`its ${closes.length} clients closed within ${Date.now() - killedAt} ms (codes ${JSON.stringify([...new Set(closes.map((c) => c.code))])})`);

      // The other hubs keep delivering.
      await publish(d, channel, { phase: 'after-kill' });
      await expectAll(spared, (m) => m.type === 'message' && m.data && m.data.phase === 'after-kill', 15000, 'the broadcast after the kill');
      assert.ok(spared.every((c) => c.isOpen), 'a client of another hub was disconnected');

      // Its clients reconnect (to another hub) and get the next broadcast.
      const back = track(await Promise.all(doomed.map(() => reconnect(d.wsUrl, channel))));
      const onDead = back.filter((c) => nodeOf(c) === victimNode);
      assert.equal(onDead.length, 0, 'a client reconnected to the dead hub');
      if (back.length) t.diagnostic(`reconnected: ${await spreadReport(d, back)}`);
      await publish(d, channel, { phase: 'after-reconnect' });
      await expectAll([...spared, ...back], (m) => m.type === 'message' && m.data && m.data.phase === 'after-reconnect', 15000, 'the broadcast after reconnecting');
      t.diagnostic(`serving processes now: ${JSON.stringify(d.servingPids())}`);
    });

    test('(4b) kill -9 of one worker: its presence member is removed (member_removed on another hub within seconds)', {}, async (t) => {
      assert.ok(ctx.kill, 'test (4) did not get as far as the kill');
      const { victim, victimPid, observer, presence, killedAt } = ctx.kill;
      const removed = await ctx.kill.removed;
      if (removed.err) {
        // A killed process nobody has waited for (php -S never waits for its
        // workers) is a zombie, and kill(pid, 0) succeeds on a zombie: say
        // what state the process is in.
        const st = procStat(victimPid);
        const state = st ? `state ${st.state} (parent ${st.ppid}: ${cmdline(st.ppid).slice(0, 60)})` : 'gone from /proc';
        throw new Error(`no member_removed for ${victim.user} within 10 s of the kill; killed pid ${victimPid} is ${state}: ${removed.err.message}`);
      }
      const after = removed.at - killedAt;
      t.diagnostic(`member_removed for ${victim.user} reached ${observer.user} (another hub) ${after} ms after the kill`);
      assert.ok(after < 6000, `member_removed took ${after} ms`);
      await askEveryWorker(
        `/users.php?channel=${presence}&sleep=50`,
        (a) => Array.isArray(a.users) && !ids(a.users).includes(victim.user),
        15000,
        `getChannelUsers() without ${victim.user}`,
      );
    });

    if (more) more({ ctx, dep, track, fleet, askEveryWorker, test });
  });
}
