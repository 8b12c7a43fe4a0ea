// Long-polling (issue 15): GET /ws/poll opens a session that outlives its
// requests. On php -S: batches continue from the last one with no gap and
// no duplicate, the session keeps its connection id (Realtime\send()) and
// its presence between polls and ends after realtime.longpoll_session_ttl;
// its queue is bounded (longpoll_max_queue, drops counted); another user
// cannot poll it. The JavaScript client forced onto long-polling gets all of
// 1,000 messages at 50 a second, once and in order; and through nginx in
// front of 4 php-fpm workers, whose hubs each poll may reach, too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Realtime } from '../../clients/js/realtime.js';
import { closeAll, connect, startServer, waitFor } from './lib/server.mjs';
import { call, makeToken } from './lib/identity.mjs';
import { numberedPublisher } from './lib/jsclient.mjs';
import { publish, warmUp } from './lib/pool/clients.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';
import { httpRequest } from './lib/server.mjs';

const SECRET = 'longpoll-test-secret-77a1';
const token = (uid, channels = []) =>
  makeToken(SECRET, { uid, exp: Math.floor(Date.now() / 1000) + 3600, info: { name: uid }, channels });

/** Events of a batch: [{ event, data (parsed) }]. */
function parseBatch(text) {
  const out = [];
  for (const ev of text.split('\n\n')) {
    const lines = ev.split('\n');
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    if (!data) continue;
    const event = (lines.find((l) => l.startsWith('event: ')) || 'event: message').slice(7);
    out.push({ event, data: JSON.parse(data) });
  }
  return out;
}

/** A long-polling client written from the protocol, not the JS client. */
async function session(port, query, auth = '') {
  const s = { events: [], id: null, seq: 0, polls: 0, live: true, status: 0 };
  const first = await httpRequest(port, `/ws/poll?${query}`, { timeout: 10000 });
  s.status = first.status;
  if (first.status !== 200) return s;
  const take = (text) => {
    for (const e of parseBatch(text)) {
      if (e.event === 'poll') {
        s.id = e.data.connection_id;
        s.seq = e.data.seq;
      } else s.events.push(e);
    }
  };
  take(first.body);
  s.poll = async (extra = '') => {
    const r = await httpRequest(port, `/ws/poll?connection_id=${encodeURIComponent(s.id)}&ack=${s.seq}${extra || auth}`, { timeout: 15000 });
    s.polls++;
    if (r.status === 200) take(r.body);
    return r;
  };
  // Polls until stopped (s.live = false) or refused; a server gone ends it.
  s.run = () =>
    (async () => {
      while (s.live) {
        const r = await s.poll().catch(() => ({ status: 0 }));
        if (r.status !== 200) break;
      }
    })();
  s.loop = s.run();
  s.messages = () => s.events.filter((e) => e.data.type === 'message');
  return s;
}

describe('long-polling on php -S', () => {
  let server;
  const sessions = [];
  const clients = [];
  before(async () => {
    server = await startServer({
      ini: { secret: SECRET, allow_anonymous: 1, longpoll_timeout: 2, longpoll_session_ttl: 5, history: 'lp-*:10000:600' },
    });
  });
  after(async () => {
    for (const s of sessions) s.live = false;
    closeAll(clients);
    await server?.stop();
  });

  it('continues each batch from the last: no gap, no duplicate', async () => {
    const s = await session(server.wsPort, 'channels=lp-1,news');
    sessions.push(s);
    assert.equal(s.status, 200);
    assert.equal(s.events[0].data.type, 'connected');
    assert.ok(s.events.some((e) => e.data.type === 'subscribed' && e.data.channel === 'lp-1'));
    s.live = false;
    await s.loop;
    s.live = true;
    // Published while nobody polls: waiting in the session.
    await server.publish('lp-1', 'x', { count: 200, seq: true });
    s.loop = s.run();
    await waitFor(() => s.messages().length >= 200, 15000, { message: '200 messages' });
    await server.publish('news', 'after');
    await waitFor(() => s.messages().some((e) => e.data.channel === 'news'), 10000);
    assert.deepEqual(s.messages().filter((e) => e.data.channel === 'lp-1').map((e) => e.data.data.seq),
      Array.from({ length: 200 }, (_, i) => i));
    assert.ok(s.polls >= 2);
    // Realtime\send() by its connection id reaches it between polls.
    await call(server, 'send', s.id, 'direct', 'dm');
    await waitFor(() => s.messages().some((e) => e.data.event === 'dm'), 10000);
    const st = await server.status();
    assert.equal(st.longpoll_sessions, 1);
    s.live = false;
    await s.loop;
    // Nobody polls it any more: it ends after realtime.longpoll_session_ttl.
    await waitFor(async () => (await server.status()).longpoll_sessions === 0, 15000, { message: 'the session to end' });
    const gone = await s.poll();
    assert.equal(gone.status, 404);
  });

  it('keeps its presence between polls and leaves after the ttl', async () => {
    const bob = await connect(`${server.wsUrl}?token=${encodeURIComponent(token('bob', ['presence-*']))}`);
    clients.push(bob);
    bob.send({ action: 'subscribe', channel: 'presence-lp' });
    await bob.next((m) => m.type === 'subscribed');
    const annToken = `&token=${encodeURIComponent(token('ann', ['presence-*']))}`;
    const s = await session(server.wsPort, `channels=presence-lp${annToken}`, annToken);
    sessions.push(s);
    assert.equal((await bob.next((m) => m.type === 'member_added')).member.id, 'ann');
    // Several polls come and go (longpoll_timeout 2 s): ann stays.
    await waitFor(() => s.polls >= 3, 15000, { message: 'three polls' });
    assert.equal(bob.received.filter((m) => m.type === 'member_removed').length, 0);
    // Another user may not poll ann's session.
    const eve = await httpRequest(server.wsPort, `/ws/poll?connection_id=${encodeURIComponent(s.id)}&ack=0&token=${encodeURIComponent(token('eve'))}`);
    assert.equal(eve.status, 404);
    s.live = false;
    await s.loop;
    assert.equal((await bob.next((m) => m.type === 'member_removed', 15000)).member.id, 'ann');
  });

  it('the JavaScript client forced onto long-polling: 1,000 messages at 50/s, once and in order', async () => {
    const rt = new Realtime({ url: server.wsUrl, transports: ['longpoll'], minDelay: 50, maxDelay: 300 });
    const got = [];
    const sub = rt.subscribe('lp-js', { onMessage: (d) => got.push(d.n) });
    try {
      await waitFor(() => rt.state === 'connected' && sub.state === 'subscribed', 10000, { message: 'subscribed' });
      assert.equal(rt.transport, 'longpoll');
      const pub = numberedPublisher((ch, data) => server.publish(ch, data), 'lp-js', 50);
      await waitFor(() => pub.count >= 1000, 60000, { interval: 100, message: '1,000 published' });
      const sent = await pub.stop();
      await waitFor(() => got.length >= sent, 15000, { interval: 100, message: `all ${sent} messages` });
      assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i + 1));
    } finally {
      rt.close();
    }
  });
});

describe('long-polling queue bound', () => {
  let server;
  before(async () => {
    server = await startServer({ ini: { allow_anonymous: 1, longpoll_timeout: 1, longpoll_max_queue: 10 } });
  });
  after(async () => {
    await server?.stop();
  });

  it('keeps the newest realtime.longpoll_max_queue events, drops are counted and logged', async () => {
    const s = await session(server.wsPort, 'channels=flood');
    s.live = false;
    await s.loop;
    await server.publish('flood', 'x', { count: 30, seq: true });
    await s.poll();
    const seqs = s.messages().map((e) => e.data.data.seq);
    assert.deepEqual(seqs, Array.from({ length: 10 }, (_, i) => 20 + i));
    const st = await server.status();
    assert.ok(st.longpoll_dropped >= 20, JSON.stringify(st));
    assert.match(server.log, /long-polling session: dropped its oldest event/);
  });
});

describe('long-polling through nginx + 4 php-fpm workers', () => {
  let dep;
  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-longpoll',
      pools: [{ name: 'app', pm: PM.static4 }],
      iniExtra: 'realtime.allow_anonymous = 1\nrealtime.longpoll_timeout = 2\nrealtime.history = "lpf-*:10000:600"',
    });
    await warmUp(dep, { min: 4, concurrency: 4 });
  });
  after(async () => {
    await dep?.stop();
  });

  it('polls reach any worker\'s hub and the session goes on: nothing lost', async () => {
    const rt = new Realtime({ url: dep.wsUrl, transports: ['longpoll'], minDelay: 50, maxDelay: 300 });
    const got = [];
    const sub = rt.subscribe('lpf-1', { onMessage: (d) => got.push(d.n) });
    try {
      await waitFor(() => rt.state === 'connected' && sub.state === 'subscribed', 15000, { message: 'subscribed' });
      const id = rt.connectionId;
      const pub = numberedPublisher((ch, data) => publish(dep, ch, data), 'lpf-1', 50);
      await waitFor(() => pub.count >= 200, 30000, { interval: 100, message: '200 published' });
      const sent = await pub.stop();
      await waitFor(() => got.length >= sent, 15000, { interval: 100, message: `all ${sent} messages` });
      assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i + 1));
      assert.equal(rt.connectionId, id, 'the same session throughout');
    } finally {
      rt.close();
    }
  });
});
