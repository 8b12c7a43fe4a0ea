// The JavaScript client against php-fpm (4 workers) behind nginx, through
// the faults of a real deployment: the worker running its hub SIGKILLed
// (1006: reconnect with backoff) and an FPM reload (1012: reconnect at once,
// no backoff). Each time it resubscribes and gets what is published next,
// and its presence members are right again. With history, a publisher at
// 50 messages a second runs through both faults: the app gets every message
// exactly once and in order (compared with Realtime\history()).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { kill9, publish, tokenFor, warmUp } from './lib/pool/clients.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';
import {
  compareWithHistory,
  connected,
  history,
  numberedPublisher,
  recordedClient,
  recordedSubscription,
  subscribed,
} from './lib/jsclient.mjs';

const nodeOfId = (id) => String(id).split('.')[0];

describe('JavaScript client (php-fpm + nginx)', () => {
  let dep;
  const clients = [];
  before(async () => {
    dep = await fpmNginx({ label: 'fpm-jsclient', pools: [{ name: 'app', pm: PM.static4 }], iniExtra: 'realtime.allow_anonymous = 1\nrealtime.history = "chat-*:10000:600"' });
    await warmUp(dep, { min: 4, concurrency: 4 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await dep?.stop();
  });

  // Publishes until the subscription has it (a worker may still be starting).
  const deliver = (sub, tag) =>
    waitFor(async () => sub.got.some((d) => d && d.tag === tag) || (await publish(dep, sub.channel, { tag }), false), 10000, {
      interval: 200,
      message: `${sub.channel} to get ${tag}`,
    });

  it('reconnects after its worker is SIGKILLed, resubscribes, keeps its members', async (t) => {
    const rec = recordedClient(dep.wsUrl, { token: await tokenFor(dep, 'ann') });
    clients.push(rec.client);
    const watcher = recordedClient(dep.wsUrl, { token: await tokenFor(dep, 'watch') });
    clients.push(watcher.client);
    const sub = recordedSubscription(rec.client, 'presence-fpm');
    const news = recordedSubscription(rec.client, 'news');
    await subscribed(sub);
    await subscribed(news);
    const w = recordedSubscription(watcher.client, 'presence-fpm');
    await subscribed(w);
    await waitFor(() => sub.members.has('watch'), 5000);
    await deliver(news, 'before');

    const pid = await dep.pidOfNode(nodeOfId(rec.client.connectionId));
    t.diagnostic(`killing worker ${pid} (node ${nodeOfId(rec.client.connectionId)})`);
    kill9(pid);
    await waitFor(() => rec.events.some((e) => e.name === 'disconnected'), 10000);
    assert.equal(rec.events.find((e) => e.name === 'disconnected').code, 1006);
    await connected(rec, 15000);
    await subscribed(sub, 15000);
    await subscribed(news, 15000);
    await deliver(news, 'after-kill');
    await waitFor(() => sub.members.has('watch') && sub.members.has('ann'), 5000);
    // The watcher may have been on the killed worker too: either way it is back.
    await subscribed(w, 15000);
    await waitFor(() => w.members.has('ann'), 10000);
  });

  it('on an FPM reload (1012) reconnects at once and resubscribes', async (t) => {
    const rec = recordedClient(dep.wsUrl, { token: await tokenFor(dep, 'bob'), minDelay: 2000, maxDelay: 4000 });
    clients.push(rec.client);
    const sub = recordedSubscription(rec.client, 'reload');
    await subscribed(sub);
    await deliver(sub, 'before');
    const firstId = rec.client.connectionId;

    process.kill(dep.masterPid, 'SIGUSR2');
    await waitFor(() => rec.events.some((e) => e.name === 'disconnected'), 15000);
    const drop = rec.events.find((e) => e.name === 'disconnected');
    t.diagnostic(`closed with ${drop.code} (${drop.reason}), retry after ${drop.delay} ms`);
    assert.equal(drop.code, 1012);
    assert.equal(drop.delay, 0, 'a 1012 is retried at once, not after the backoff');
    await connected(rec, 15000);
    await subscribed(sub, 15000);
    assert.notEqual(rec.client.connectionId, firstId);
    await deliver(sub, 'after-reload');
  });

  it('with history: every message once and in order through a SIGKILL and a reload, at 50 msg/s', async (t) => {
    const rec = recordedClient(dep.wsUrl);
    clients.push(rec.client);
    const sub = recordedSubscription(rec.client, 'chat-fpm');
    await subscribed(sub);
    const start = { ...sub.position };
    const pub = numberedPublisher((ch, data) => publish(dep, ch, data), 'chat-fpm', 50);
    const connects = () => rec.states.filter((s) => s === 'connected').length;
    const flowing = (n) => waitFor(() => pub.count >= n && sub.got.length >= pub.count - 10, 15000, { message: `${n} messages to flow` });
    let published;
    try {
      await flowing(50);
      let before = connects();
      const pid = await dep.pidOfNode(nodeOfId(rec.client.connectionId));
      kill9(pid);
      await waitFor(() => connects() > before && sub.state === 'subscribed', 15000, { message: 'back after the SIGKILL' });
      await flowing(pub.count + 50);
      before = connects();
      process.kill(dep.masterPid, 'SIGUSR2');
      await waitFor(() => connects() > before && sub.state === 'subscribed', 15000, { message: 'back after the reload' });
      await flowing(pub.count + 50);
    } finally {
      published = await pub.stop();
    }
    const top = (await history(dep.get, 'chat-fpm', { limit: 1 })).at(-1);
    await waitFor(() => sub.position.offset === top.offset, 10000, { message: `the client to reach offset ${top.offset}` });
    const messages = await history(dep.get, 'chat-fpm', { since: start });
    t.diagnostic(`${published} published (${pub.errors.length} publish requests failed and were retried), ${sub.got.length} handed over`);
    assert.deepEqual(compareWithHistory(sub, messages, start), []);
    const subs = sub.log.filter((e) => e.name === 'subscribed').map((e) => e.info);
    assert.ok(subs.length >= 3, JSON.stringify(subs));
    assert.ok(subs.slice(1).every((s) => s.recovered === true), JSON.stringify(subs));
    assert.equal(sub.log.filter((e) => e.name === 'unrecovered').length, 0);
  });
});
