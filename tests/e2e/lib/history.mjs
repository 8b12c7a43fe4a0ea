// What the history tests (history.test.mjs, redis-history.test.mjs) share:
// the numbered CLI publisher, one logical client of a channel over
// successive connections, and the exactly-once check of what it got.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PHP_BIN, connect } from './server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * lib/history-publisher.php, run by php with phpArgs (its ini and
 * extension), publishing {"seq": i} on channel every intervalMs until
 * stop(). `sent` counts what it published, `offsets` the positions it got
 * (when its broker gives them at once), `result` its closing JSON line.
 */
export function startPublisher(phpArgs, channel, { intervalMs = 20 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-history-pub-'));
  const stopFile = path.join(dir, 'stop');
  const proc = spawn(PHP_BIN, [...phpArgs, path.join(HERE, 'history-publisher.php'), channel, String(intervalMs), stopFile], {
    env: { ...process.env, PHP_INI_SCAN_DIR: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pub = { sent: 0, offsets: [], out: '', err: '', exit: null };
  proc.stdout.on('data', (chunk) => {
    pub.out += chunk;
    const lines = pub.out.split('\n');
    pub.out = lines.pop();
    for (const line of lines) {
      const m = /^(\d+) (\d+)$/.exec(line);
      if (m) {
        pub.sent = Number(m[1]) + 1;
        pub.offsets.push(Number(m[2]));
      } else if (line.startsWith('{')) {
        pub.result = JSON.parse(line);
      }
    }
  });
  proc.stderr.on('data', (chunk) => (pub.err += chunk));
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve((pub.exit = code))));
  pub.stop = async () => {
    fs.writeFileSync(stopFile, '');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15000))]);
    if (pub.exit === null) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    return pub;
  };
  pub.kill = () => proc.kill('SIGKILL');
  return pub;
}

export class Follower {
  /** url: where open() connects by default; retryMs: how long it retries the connect (servers restarting). */
  constructor(channel, { url = null, retryMs = 0 } = {}) {
    this.channel = channel;
    this.url = url;
    this.retryMs = retryMs;
    this.got = [];
    this.pos = null;
    this.replies = [];
    this.conns = [];
  }

  /** Connects to target (a ws URL, or a server with wsUrl) and subscribes, with `since` once it has a position. */
  async open(target = this.url) {
    const url = typeof target === 'string' ? target : target.wsUrl;
    const deadline = Date.now() + this.retryMs;
    let conn;
    for (;;) {
      try {
        conn = await connect(url, { timeout: 5000 });
        break;
      } catch (err) {
        if (Date.now() >= deadline) throw new Error(`no connection to ${url} within ${this.retryMs} ms: ${err.message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.conn = conn;
    this.conns.push(conn);
    conn.ws.on('message', (data) => {
      let m;
      try {
        m = JSON.parse(data.toString('utf8'));
      } catch {
        return;
      }
      if (conn !== this.conn || m.type !== 'message' || m.channel !== this.channel) return;
      this.got.push(m);
      this.pos = { offset: m.offset, epoch: m.epoch };
    });
    const req = { action: 'subscribe', channel: this.channel };
    if (this.pos) req.since = this.pos;
    const reply = await conn.request(req, 10000);
    assert.equal(reply.type, 'subscribed', JSON.stringify(reply));
    this.replies.push(reply);
    if (!this.pos && reply.epoch) this.pos = { offset: reply.offset, epoch: reply.epoch };
    return reply;
  }

  get last() {
    return this.pos ? this.pos.offset : 0;
  }

  closeAll() {
    for (const c of this.conns) c.close();
  }
}

/**
 * Offsets first..last exactly, one epoch, and the publisher's seqs in order
 * (strictly increasing, or non-decreasing with strictSeq false).
 */
export function assertExactlyOnce(f, first, last, { strictSeq = true } = {}) {
  const offsets = f.got.map((m) => m.offset);
  const want = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const gaps = want.filter((o) => !offsets.includes(o));
  const dups = offsets.filter((o, i) => offsets.indexOf(o) !== i);
  assert.deepEqual({ gaps: gaps.slice(0, 10), dups: dups.slice(0, 10), count: offsets.length }, { gaps: [], dups: [], count: want.length });
  assert.deepEqual(offsets, want, 'in order');
  assert.equal(new Set(f.got.map((m) => m.epoch)).size, 1, 'one epoch');
  for (let i = 1; i < f.got.length; i++) {
    const [prev, cur] = [f.got[i - 1].data.seq, f.got[i].data.seq];
    if (prev === undefined || cur === undefined) continue;
    assert.ok(strictSeq ? cur > prev : cur >= prev, `seq order at ${i}`);
  }
}
