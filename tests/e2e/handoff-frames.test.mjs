// Handoff (issue 13) of connections caught mid-stream: a client that has
// sent half of a masked WebSocket frame when its worker ends (the rest
// after), and one that stopped reading while messages flowed (its hub holds
// a full outbound queue). Both move to another worker's hub intact: the
// half frame completes there, the queue is written there, every message
// once and in order, no close.
//
// php-fpm behind nginx: pool "app" keeps its workers, pool "churn" has one
// worker at pm.max_requests = 1, held busy by one long request while the
// clients are placed on its hub; it ends with that request.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { OP, encodeFrame, rawWebSocket, waitFor } from './lib/server.mjs';
import { publish, warmUp } from './lib/pool/clients.mjs';
import { appAndChurn, checkCounters, handoffLog } from './lib/handoff.mjs';

/** Recv-Q + Send-Q of the TCP sockets between ports a and b (both ends): what the kernel holds. */
function kernelQueued(a, b) {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${a} and dport = :${b} ) or ( sport = :${b} and dport = :${a} )`], { encoding: 'utf8' });
  let n = 0;
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [recvQ, sendQ] = line.trim().split(/\s+/);
    n += Number(recvQ) + Number(sendQ);
  }
  return n;
}

const texts = (raw) => raw.all.filter((f) => f.opcode === OP.TEXT && f.json).map((f) => f.json);
const seqsOn = (raw, channel) => texts(raw).filter((m) => m.type === 'message' && m.channel === channel).map((m) => m.data.seq);

describe('handoff: a half-sent frame and a full outbound queue move intact', () => {
  let dep;
  let churn;
  const raws = [];
  before(async () => {
    ({ dep, churn } = await appAndChurn({
      label: 'fpm-handoff-frames',
      app: 2,
      churn: 1,
      // Room for the queue of the client that stops reading (not a slow consumer).
      iniExtra: ['realtime.allow_anonymous = 1', 'realtime.max_outbound = 33554432'].join('\n'),
    }));
    await warmUp(dep, { min: 2 });
  });
  after(async () => {
    for (const r of raws) r.sock.destroy();
    if (dep) await dep.stop();
  });

  /** A raw client (hand-made frames) on the hub port, past `connected`. */
  async function rawClient() {
    const raw = await rawWebSocket(dep.hubPort, { timeout: 10000 });
    raws.push(raw);
    const hello = await raw.nextJson((m) => m.type === 'connected', 10000);
    raw.id = hello.connection_id;
    raw.node = String(raw.id).split('.')[0];
    return raw;
  }

  async function subscribe(raw, channel, id) {
    raw.sendJson({ action: 'subscribe', channel, id });
    const reply = await raw.nextJson((m) => m.id === id, 10000);
    assert.equal(reply.type, 'subscribed', JSON.stringify(reply));
  }

  it('the rest of a half frame is read by the new hub; the unread queue arrives whole, once, in order', async (t) => {
    const steady = new Set(dep.nodes.keys());
    // The churn worker runs a hub for as long as this request lasts.
    const holding = churn.json('/pid.php?sleep=5000', { timeout: 20000 });
    const onChurn = [];
    await waitFor(async () => {
      const r = await rawClient();
      if (!steady.has(r.node)) onChurn.push(r);
      else r.sock.destroy();
      return onChurn.length >= 2;
    }, 3000, { interval: 1, message: 'two raw clients on the churn worker\'s hub' });
    const [half, full] = onChurn;
    await subscribe(half, 'ho', 's1');
    await subscribe(full, 'ho', 's2');

    // Half of a masked frame: the header, the mask and part of the payload.
    const frame = encodeFrame({ opcode: OP.TEXT, payload: JSON.stringify({ action: 'subscribe', channel: 'ho-late', id: 'late' }) });
    const cut = 9;
    half.send(frame.subarray(0, cut));

    // `full` stops reading; about 7.5 MB of numbered messages (under the
    // 8 MB ring) fill the socket buffers and then its hub's queue.
    full.sock.pause();
    const N = 250;
    const pad = 'x'.repeat(30000);
    await publish(dep, 'ho', pad, { count: N });
    // Once the kernel's buffers stop growing, the rest waits in the hub's
    // queue for this connection: that is what must move.
    let last = -1;
    await waitFor(() => {
      const q = kernelQueued(dep.hubPort, full.sock.localPort);
      const still = q === last;
      last = q;
      return still;
    }, 10000, { interval: 200, message: 'the socket buffers to fill' });
    t.diagnostic(`${N * pad.length} bytes sent to a client that does not read; the kernel holds ${last}`);
    assert.ok(last < N * pad.length - 1000000, `the kernel holds ${last} bytes: nothing left in the hub's queue`);
    const pid = (await holding).pid;
    // The churn worker ends with its request: its hub hands off.
    await waitFor(() => handoffLog(dep).lines.some((l) => l.includes(`realtime[${pid}]`) && l.includes('handoff: moved')), 10000, { message: `worker ${pid} to hand off` });

    half.send(frame.subarray(cut));
    const late = await half.nextJson((m) => m.id === 'late', 10000);
    assert.equal(late.type, 'subscribed', JSON.stringify(late));
    full.sock.resume();

    await publish(dep, 'ho-late', { seq: 0 });
    await publish(dep, 'ho', pad, { count: 3 }); // seq 0..2 again: the end of the stream
    for (const [name, raw] of [['half', half], ['full', full]]) {
      await waitFor(() => seqsOn(raw, 'ho').length >= N + 3 || raw.ended, 20000, { message: `${name} to get ${N + 3} messages (has ${seqsOn(raw, 'ho').length})` });
      const want = [...Array.from({ length: N }, (_, i) => i), 0, 1, 2];
      assert.deepEqual(seqsOn(raw, 'ho'), want, `${name} (${raw.id})`);
      assert.equal(raw.ended, false, `${name} was closed`);
      assert.deepEqual(raw.all.filter((f) => f.opcode === OP.CLOSE), [], `${name} got a close frame`);
    }
    await waitFor(() => seqsOn(half, 'ho-late').length === 1, 10000, { message: 'the late channel\'s message' });

    // Same ids: Realtime\send() by id reaches both on their new hub.
    for (const raw of [half, full]) {
      const res = await dep.get(`/send.php?id=${encodeURIComponent(raw.id)}&message=${encodeURIComponent(JSON.stringify({ to: raw.id }))}`);
      assert.equal(res.status, 200, res.body);
      await raw.nextJson((m) => m.data && m.data.to === raw.id, 10000);
    }
    await checkCounters(assert, dep, [[dep, dep.workers('app')]], t);
  });
});
