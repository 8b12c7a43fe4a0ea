// Handoff (issue 13) with clients of the Pusher protocol: pusher-js and
// Laravel Echo on a private and a presence channel stay connected while
// php-fpm recycles workers at pm.max_requests = 1 under load. Each client
// keeps its socket_id and sees no state change, every numbered event
// arrives once and in order, no presence member leaves or joins twice,
// and a webhook receiver gets no member or channel webhook for the moves.
//
// Two pools of one app behind nginx: "app" keeps its workers (and answers
// the auth calls); "churn" has pm.max_requests = 1: each request starts a
// hub in a fresh worker, which ends with the request. Clients connect to
// the hub port all along; those the kernel gives to a churn worker's hub
// move when it ends.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { delay, publish, warmUp } from './lib/pool/clients.mjs';
import { appAndChurn, checkCounters, seqProblem } from './lib/handoff.mjs';
import { TIMING_UNDER_ASAN } from './lib/sanitizer.mjs';
import { APP, Echo, PusherJS, connected, poolPusherOptions, subscribed, webhookReceiver } from './pusher-helpers.mjs';

const PRIVATE = 'private-ho';
const PRESENCE = 'presence-ho-room';
const nodeOfSocket = (id) => String(id).split('.')[0];

describe('handoff: pusher-js and Laravel Echo across php-fpm pm.max_requests = 1', () => {
  let dep;
  let churn;
  let hooks;
  const clients = [];

  before(async () => {
    hooks = await webhookReceiver();
    ({ dep, churn } = await appAndChurn({
      label: 'fpm-handoff-pusher',
      app: 2,
      churn: 2,
      iniExtra: [
        'realtime.allow_anonymous = 1',
        `realtime.app_id = ${APP.id}`,
        `realtime.app_key = ${APP.key}`,
        `realtime.app_secret = ${APP.secret}`,
        `realtime.webhook_url = ${hooks.url}`,
        // Leaves are sent at once: a move that looked like a leave shows.
        'realtime.webhook_delay = 0',
      ].join('\n'),
    }));
    await warmUp(dep, { min: 2 });
  });
  after(async () => {
    for (const c of clients) {
      try {
        c.p.disconnect();
      } catch {
        /* closed */
      }
    }
    if (dep) await dep.stop();
    await hooks?.close();
  });

  const options = (user) => poolPusherOptions(dep, user);

  /** A pusher-js or Echo client subscribed to both channels, recording everything. */
  async function client(kind, user) {
    const rec = { kind, user, states: [], priv: [], pres: [], added: [], removed: [] };
    if (kind === 'echo') {
      const o = options(user);
      rec.echo = new Echo({
        broadcaster: 'pusher',
        Pusher: PusherJS,
        key: APP.key,
        ...o,
        authEndpoint: o.channelAuthorization.endpoint,
        auth: { headers: {}, params: o.channelAuthorization.params },
      });
      rec.p = rec.echo.connector.pusher;
    } else {
      rec.p = new PusherJS(APP.key, options(user));
    }
    clients.push(rec);
    await connected(rec.p, 15000);
    rec.socketId = rec.p.connection.socket_id;
    rec.p.connection.bind('state_change', (s) => rec.states.push(`${s.previous}->${s.current}`));
    if (kind === 'echo') {
      rec.echo.private('ho').listen('.seq', (d) => rec.priv.push(d.seq));
      rec.echo
        .join('ho-room')
        .joining((info) => rec.added.push(info.name))
        .leaving((info) => rec.removed.push(info.name))
        .listen('.seq', (d) => rec.pres.push(d.seq));
    } else {
      const priv = rec.p.subscribe(PRIVATE);
      priv.bind('seq', (d) => rec.priv.push(d.seq));
      const pres = rec.p.subscribe(PRESENCE);
      pres.bind('seq', (d) => rec.pres.push(d.seq));
      pres.bind('pusher:member_added', (m) => rec.added.push(m.info.name));
      pres.bind('pusher:member_removed', (m) => rec.removed.push(m.info.name));
    }
    await subscribed(rec.p.channel(PRIVATE), 15000);
    await subscribed(rec.p.channel(PRESENCE), 15000);
    return rec;
  }

  // This churn (every round recycles the churn pool's workers, so new hubs
  // keep asking for everyone's whole state) found two faults, both fixed:
  // a stopping hub answered such a request after letting go of a client and
  // before its taker announced it (moved members left and joined again: a
  // hub handing off now sends no whole report), and a taker still in its
  // sync window told a moved-in client of members it already knew as its
  // view learned them from the others' reports (a syncing hub now tells
  // what those reports add only to its own clients, hub/hub.c).
  // Optional under ASan only (scripts/asan.sh): see lib/sanitizer.mjs TIMING_UNDER_ASAN.
  it('clients on recycled hubs keep their socket_id, every event once and in order, no presence or webhook churn', TIMING_UNDER_ASAN, async (t) => {
    const steadyNodes = new Set(dep.nodes.keys());
    const watcher = await client('pusher', 'watcher');
    const early = [watcher, await client('echo', 'early-echo')];
    // The setup's webhooks (occupied channels, the early members) first.
    await waitFor(() => hooks.events().filter((e) => e.name === 'member_added').length >= 2 &&
      hooks.events().filter((e) => e.name === 'channel_occupied').length >= 2, 10000, { message: 'the setup webhooks' });

    let churning = true;
    let n = 0;
    const roaming = (async () => {
      while (churning) {
        await Promise.allSettled([client('pusher', `p-${n++}`), client('pusher', `p-${n++}`), client('echo', `e-${n++}`)]);
        await delay(30);
      }
    })();
    const moved = () => clients.filter((c) => !steadyNodes.has(nodeOfSocket(c.socketId)));
    let i = 0;
    const pids = new Set();
    try {
      // Until enough clients of both kinds sat on churn hubs (each round ends
      // the churn workers it used), at least 16 rounds.
      for (; i < 16 || (i < 60 && (moved().filter((c) => c.kind === 'echo').length < 2 || moved().filter((c) => c.kind === 'pusher').length < 3)); i++) {
        const [a, b] = await Promise.all([
          publish(churn, PRIVATE, { seq: i }, { event: 'seq', hold: 300 }),
          publish(churn, PRESENCE, { seq: i }, { event: 'seq', hold: 300 }),
        ]);
        pids.add(a.pid).add(b.pid);
      }
    } finally {
      churning = false;
      await roaming;
    }
    const K = i;
    await publish(dep, PRIVATE, { seq: K }, { event: 'seq' });
    await publish(dep, PRESENCE, { seq: K }, { event: 'seq' });
    const live = clients.filter((c) => c.socketId);
    t.diagnostic(`${K} rounds, ${pids.size} churn workers; ${live.length} clients, ${moved().length} on churn hubs (${moved().filter((c) => c.kind === 'echo').length} Echo)`);
    assert.ok(pids.size >= K, `the churn workers were not recycled: ${pids.size} pids for ${K} rounds`);
    assert.ok(moved().filter((c) => c.kind === 'echo').length >= 1 && moved().filter((c) => c.kind === 'pusher').length >= 1, 'no client of each kind landed on a churn hub');

    await waitFor(() => live.every((c) => c.priv.at(-1) === K && c.pres.at(-1) === K), 15000, {
      message: `every client to get event ${K} on both channels`,
    }).catch((err) => {
      const lagging = live.filter((c) => !(c.priv.at(-1) === K && c.pres.at(-1) === K));
      throw new Error(`${err.message}: ${lagging.length} did not, e.g. ${lagging.slice(0, 3).map((c) => `${c.kind} ${c.socketId} state ${c.p.connection.state} priv ${JSON.stringify(c.priv)}`).join('; ')}`);
    });
    const problems = [];
    // "Name u (socket id, steady or churn hub)" of a presence member.
    const whom = (name) => {
      const m = live.find((c) => `Name ${c.user}` === name);
      return m ? `${name} (${m.socketId}, ${steadyNodes.has(nodeOfSocket(m.socketId)) ? 'steady' : 'churn'} hub)` : name;
    };
    for (const c of live) {
      const where = `${c.kind} ${c.user} (${c.socketId}, ${steadyNodes.has(nodeOfSocket(c.socketId)) ? 'steady' : 'churn'} hub)`;
      if (c.states.length) problems.push(`${where}: state changes ${c.states.join(', ')}`);
      if (c.p.connection.socket_id !== c.socketId) problems.push(`${where}: socket_id now ${c.p.connection.socket_id}`);
      for (const [name, seqs] of [['private', c.priv], ['presence', c.pres]]) {
        const p = seqProblem(seqs, K);
        if (p) problems.push(`${where} ${name}: ${p}`);
      }
      if (c.removed.length) problems.push(`${where}: member_removed ${c.removed.map(whom).join(', ')}`);
      const twice = c.added.filter((u, i) => c.added.indexOf(u) !== i);
      if (twice.length) problems.push(`${where}: member_added twice: ${twice.join(', ')}`);
    }
    if (problems.length) {
      // What the hubs said meanwhile: which hub gave whom to whom, and when.
      const log = fs.readFileSync(path.join(dep.dir, 'realtime.log'), 'utf8').split('\n')
        .filter((l) => /handoff|died|forgetting|warning|error/.test(l)).slice(-60);
      problems.push('realtime.log:', ...log);
    }
    assert.equal(problems.length, 0, problems.join('\n'));
    // The early members saw each later one join once, and the room is whole.
    const users = new Set(live.map((c) => c.user));
    await waitFor(() => watcher.p.channel(PRESENCE).members.count === users.size, 10000, { message: `the watcher to see ${users.size} members` });

    // Webhooks: a sentinel member leaves; once its webhook came, nothing
    // else may have left or been vacated, and nobody joined twice.
    const sentinel = await client('pusher', 'sentinel');
    sentinel.p.disconnect();
    await waitFor(() => hooks.events().some((e) => e.name === 'member_removed' && e.user_id === 'sentinel'), 10000, { message: 'the sentinel\'s member_removed webhook' });
    const events = hooks.events().filter((e) => e.user_id !== 'sentinel');
    assert.deepEqual(events.filter((e) => e.name === 'member_removed' || e.name === 'channel_vacated').map((e) => `${e.name} ${e.channel} ${e.user_id ?? ''}`), []);
    const joins = events.filter((e) => e.name === 'member_added').map((e) => e.user_id);
    assert.equal(joins.length, new Set(joins).size, `a member joined twice: ${joins.join(', ')}`);
    assert.deepEqual(events.filter((e) => e.name === 'channel_occupied').map((e) => e.channel).sort(), [PRESENCE, PRIVATE].sort());

    await checkCounters(assert, dep, [[dep, dep.workers('app')]], t);
  });
});
