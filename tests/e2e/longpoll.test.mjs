// Long-polling (issue 15): GET /ws/poll opens a session that outlives its
// requests. On php -S: batches continue from the last one with no gap and
// no duplicate, the session keeps its connection id (Realtime\send()) and
// its presence between polls and ends after realtime.longpoll_session_ttl;
// its queue is bounded (longpoll_max_queue, drops counted); another user
// cannot poll it; a newer poll replaces a held one. The JavaScript client on
// long-polling: longpoll-jsclient.test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, startServer, waitFor } from './lib/server.mjs';
import { call, makeToken } from './lib/identity.mjs';
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
});

describe('long-polling: a newer poll replaces a held one', () => {
  let server;
  before(async () => {
    server = await startServer({ ini: { allow_anonymous: 1, longpoll_timeout: 10 } });
  });
  after(async () => {
    await server?.stop();
  });

  it('answers the older poll with no events, so none is handed out twice', async () => {
    const s = await session(server.wsPort, 'channels=twice');
    s.live = false;
    await s.loop;
    const url = `/ws/poll?connection_id=${encodeURIComponent(s.id)}&ack=${s.seq}`;
    const started = Date.now();
    const older = httpRequest(server.wsPort, url, { timeout: 15000 });
    await new Promise((r) => setTimeout(r, 300));
    const newer = httpRequest(server.wsPort, url, { timeout: 15000 });
    const a = await older;
    assert.equal(a.status, 200);
    assert.ok(Date.now() - started < 8000, 'the older poll was answered when the newer came');
    assert.deepEqual(parseBatch(a.body).map((e) => e.event), ['poll']);
    await server.publish('twice', 'once');
    const b = await newer;
    const events = parseBatch(b.body);
    assert.deepEqual(events.filter((e) => e.data.type === 'message').map((e) => e.data.data), ['once']);
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
    // The 30 reach the session's queue asynchronously: poll once all are in
    // (20 of them dropped), or the poll answers with the first alone.
    await waitFor(async () => (await server.status()).longpoll_dropped >= 20, 10000, { message: 'the queue to take all 30' });
    await s.poll();
    const seqs = s.messages().map((e) => e.data.data.seq);
    assert.deepEqual(seqs, Array.from({ length: 10 }, (_, i) => 20 + i));
    const st = await server.status();
    assert.ok(st.longpoll_dropped >= 20, JSON.stringify(st));
    assert.match(server.log, /long-polling session: dropped its oldest event/);
  });
});
