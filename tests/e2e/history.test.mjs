// History and recovery (issue 14) on php-fpm + nginx with the memory
// broker: a CLI process publishes {"seq": i} on a history channel at about
// 50 messages a second throughout, and one logical client follows the
// channel over several connections. Each connection is cut (its socket
// killed, its worker SIGKILLed, FPM reloaded); the client comes back with
// the last position it saw ({"since": {offset, epoch}}) and gets every
// message once, in order: the offsets it sees, over all its connections,
// are exactly first..last. A client away for longer than a channel's
// history keeps gets recovered:false and nothing replayed; a fresh
// subscribe gets the channel's current position.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './lib/server.mjs';
import { kill9, nodeOf, publish } from './lib/pool/clients.mjs';
import { phpBin, run } from './lib/pool/proc.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';
import { Follower, assertExactlyOnce, startPublisher } from './lib/history.mjs';

describe('history and recovery: php-fpm (4 workers) + nginx, a publisher at 50 msg/s', { timeout: 120000 }, () => {
  let dep;
  const conns = [];

  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-history',
      pools: [{ name: 'app', pm: PM.static4 }],
      iniExtra: ['realtime.allow_anonymous = 1', 'realtime.history = "chat-*:2000:300 short-*:5:300"'].join('\n'),
    });
  });

  after(async () => {
    for (const c of conns) c.close();
    if (dep) await dep.stop();
  });

  it('a client cut off (socket killed, worker SIGKILLed, FPM reloaded) resumes from its position: every message once, in order', async (t) => {
    const f = new Follower('chat-1', { url: dep.wsUrl, retryMs: 20000 });
    const fresh = await f.open();
    assert.equal(fresh.offset, 0, 'nothing published yet');
    assert.match(fresh.epoch, /^[0-9a-f]{16}$/);
    assert.equal(fresh.recovered, undefined, 'no since, no recovered');
    const pub = startPublisher(['-c', path.join(dep.dir, 'php.ini')], 'chat-1');
    try {
      const away = async (what, cut) => {
        await waitFor(() => f.got.length >= 10 + (f.cuts || 0) * 10, 15000, { message: `live messages before: ${what}` });
        const conn = f.conn;
        conns.push(conn);
        const before = pub.sent;
        await cut(conn);
        // Away while at least 10 more are published.
        await waitFor(() => pub.sent >= before + 10, 20000, { message: `the publisher to go on (${what}); ${pub.err}` });
        const reply = await f.open();
        conns.push(f.conn);
        assert.equal(reply.recovered, true, `${what}: ${JSON.stringify(reply)}`);
        assert.equal(reply.epoch, fresh.epoch, `${what}: same epoch`);
        f.cuts = (f.cuts || 0) + 1;
        t.diagnostic(`${what}: back at offset ${reply.offset}, ${f.got.length} messages so far`);
      };
      await away('socket killed', async (conn) => conn.close());
      await away('worker SIGKILLed', async (conn) => {
        const pid = await dep.pidOfNode(nodeOf(conn));
        kill9(pid);
        await conn.waitClose(10000);
      });
      await away('FPM reloaded', async (conn) => {
        process.kill(dep.masterPid, 'SIGUSR2');
        await conn.waitClose(15000);
      });
      await waitFor(() => f.got.length >= 20 * 4, 20000, { message: 'live messages after the last resume' });
    } finally {
      await pub.stop();
    }
    assert.equal(pub.exit, 0, `publisher: ${JSON.stringify(pub.result)} ${pub.err}`);
    const top = Math.max(...pub.offsets);
    assert.ok(top >= pub.sent, `every message got a position (top ${top}, sent ${pub.sent})`);
    await waitFor(() => f.last >= top, 15000, { message: `the follower to reach offset ${top} (at ${f.last})` });
    assertExactlyOnce(f, 1, top, { strictSeq: false });
    // Every seq the publisher sent arrived.
    const seqs = new Set(f.got.map((m) => m.data.seq));
    for (let s = 0; s < pub.sent; s++) assert.ok(seqs.has(s), `seq ${s} delivered`);
    // And once: a CLI broadcast() during the reload, kept by the history while
    // no hub ran, is not posted to /publish again.
    assert.equal(f.got.length, pub.sent, `as many messages as were sent: ${JSON.stringify(f.got.map((m) => m.data.seq).filter((s, i, a) => a.indexOf(s) !== i))}`);

    // A fresh subscribe learns where the channel stands.
    const g = new Follower('chat-1', { url: dep.wsUrl, retryMs: 20000 });
    const now = await g.open();
    conns.push(g.conn);
    assert.deepEqual({ offset: now.offset, epoch: now.epoch }, { offset: top, epoch: fresh.epoch });
  });

  it('PHP: broadcast() returns the position(s), history() lists messages and resumes from a position', async () => {
    const api = async (params) => {
      const res = await dep.get(`/history.php?${new URLSearchParams(params)}`);
      return res.json;
    };
    const watcher = new Follower('chat-api', { url: dep.wsUrl, retryMs: 20000 });
    const start = await watcher.open();
    conns.push(watcher.conn);
    const one = await api({ op: 'broadcast', channel: 'chat-api', message: JSON.stringify({ n: 1 }), event: 'e' });
    assert.deepEqual(one, { ok: true, result: { offset: 1, epoch: start.epoch } });
    const many = await api({ op: 'broadcast', channels: 'chat-api,news,chat-api2', message: JSON.stringify({ n: 2 }) });
    assert.equal(many.ok, true, JSON.stringify(many));
    assert.deepEqual(Object.keys(many.result), ['chat-api', 'news', 'chat-api2']);
    assert.deepEqual(many.result['chat-api'], { offset: 2, epoch: start.epoch });
    assert.equal(many.result.news, null, 'no history on news');
    assert.equal(many.result['chat-api2'].offset, 1);
    // The client saw the same positions.
    await waitFor(() => watcher.got.length === 2, 10000, { message: 'two messages' });
    assert.deepEqual(watcher.got.map((m) => [m.offset, m.epoch, m.event ?? null]), [[1, start.epoch, 'e'], [2, start.epoch, null]]);
    for (let i = 3; i <= 6; i++) await api({ op: 'broadcast', channel: 'chat-api', message: JSON.stringify({ n: i }) });
    const last2 = await api({ op: 'history', channel: 'chat-api', limit: 2 });
    assert.deepEqual(last2, { ok: true, result: [
      { offset: 5, epoch: start.epoch, event: null, data: { n: 5 } },
      { offset: 6, epoch: start.epoch, event: null, data: { n: 6 } },
    ] });
    const all = await api({ op: 'history', channel: 'chat-api' });
    assert.deepEqual(all.result.map((m) => m.offset), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(all.result[0], { offset: 1, epoch: start.epoch, event: 'e', data: { n: 1 } });
    const after4 = await api({ op: 'history', channel: 'chat-api', since_offset: 4, since_epoch: start.epoch });
    assert.deepEqual(after4.result.map((m) => m.offset), [5, 6]);
    const page = await api({ op: 'history', channel: 'chat-api', limit: 1, since_offset: 1, since_epoch: start.epoch });
    assert.deepEqual(page.result.map((m) => m.offset), [2]);
    const stale = await api({ op: 'history', channel: 'chat-api', since_offset: 1, since_epoch: '0000000000000001' });
    assert.equal(stale.ok, false);
    assert.equal(stale.class, 'Realtime\\Exception');
    assert.match(stale.error, /no longer holds everything after offset 1/);
    // A CLI process with another realtime.history does not write the shared
    // memory (its messages would miss their place in the history): it posts
    // to /publish and the hub numbers the message.
    const cli = await run(phpBin(), ['-c', path.join(dep.dir, 'php.ini'), '-d', 'realtime.history=', '-r',
      'echo json_encode([Realtime\\broadcast("chat-api", ["n" => 7]), Realtime\\status()["publish_path"]]);'], { env: { PHP_INI_SCAN_DIR: '' } });
    assert.equal(cli.stdout.trim(), '[null,"http"]', cli.stderr);
    await waitFor(() => watcher.got.length === 7, 10000, { message: 'the CLI message' });
    assert.deepEqual([watcher.got[6].offset, watcher.got[6].data], [7, { n: 7 }]);
    const none = await api({ op: 'history', channel: 'news' });
    assert.equal(none.class, 'Realtime\\Exception');
    assert.match(none.error, /keeps no history/);
  });

  it('a client away longer than the history gets recovered:false and nothing replayed', async () => {
    const f = new Follower('short-1', { url: dep.wsUrl, retryMs: 20000 });
    const first = await f.open();
    conns.push(f.conn);
    await publish(dep, 'short-1', 'a', { count: 2 });
    await waitFor(() => f.got.length === 2, 10000, { message: 'two live messages' });
    f.conn.close();
    await publish(dep, 'short-1', 'b', { count: 20 }); // the channel keeps 5
    const reply = await f.open();
    conns.push(f.conn);
    assert.equal(reply.recovered, false, JSON.stringify(reply));
    assert.deepEqual({ offset: reply.offset, epoch: reply.epoch }, { offset: first.offset + 22, epoch: first.epoch });
    await f.conn.flush();
    assert.equal(f.got.length, 2, `nothing replayed: ${JSON.stringify(f.got.slice(2, 4))}`);
    // From there on, live as usual, positioned.
    await publish(dep, 'short-1', 'c');
    await waitFor(() => f.got.length === 3, 10000, { message: 'the next live message' });
    assert.equal(f.got[2].offset, first.offset + 23);
    // And a since of another epoch is not recovered either.
    const g = new Follower('short-1', { url: dep.wsUrl, retryMs: 20000 });
    g.pos = { offset: first.offset + 23, epoch: first.epoch === '0000000000000001' ? '0000000000000002' : '0000000000000001' };
    const other = await g.open();
    conns.push(g.conn);
    assert.equal(other.recovered, false);
  });
});
