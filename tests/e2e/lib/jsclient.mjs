// Helpers of the JavaScript client's tests (jsclient*.test.mjs): a TCP proxy
// between client and hub that can cut or silence the connections (a network
// fault the client cannot tell from a real one), a recorder of a client's
// events, tokens, and a publisher that numbers its messages.

import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { REPO_ROOT, waitFor } from './server.mjs';
import { makeToken } from './identity.mjs';

export const CLIENT_PATH = path.join(REPO_ROOT, 'clients', 'js', 'realtime.js');
export const { Realtime, UnauthorizedError } = await import(CLIENT_PATH);

/**
 * A TCP proxy on a free loopback port to `port`. cut() destroys every
 * connection (the client sees 1006); blackhole(true) keeps them open but
 * forwards nothing (a dead network path only pings notice); refuse(true)
 * closes new ones at once.
 */
export async function tcpProxy(port, host = '127.0.0.1') {
  const pairs = new Set();
  let silent = false;
  let refusing = false;
  const server = net.createServer((down) => {
    if (refusing) {
      down.destroy();
      return;
    }
    const up = net.connect({ port, host });
    const pair = { down, up };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('data', (c) => silent || up.write(c));
    up.on('data', (c) => silent || down.write(c));
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    get connections() {
      return pairs.size;
    },
    cut() {
      const n = pairs.size;
      for (const { down, up } of [...pairs]) {
        down.destroy();
        up.destroy();
      }
      pairs.clear();
      return n;
    },
    blackhole(on) {
      silent = on;
    },
    /** refuse(true): new connections are closed at once (the server is unreachable). */
    refuse(on) {
      refusing = on;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A signed token for `uid`, allowed on presence-* and private-* channels. */
export function token(secret, uid, { name = uid, ttl = 600 } = {}) {
  return makeToken(secret, { uid, info: { name }, channels: ['presence-*', 'private-*'], exp: Math.floor(Date.now() / 1000) + ttl });
}

/**
 * A Realtime client (npm ws as its WebSocket, quick retries) whose every
 * event is recorded: rec.events [{ name, ...detail }], rec.states.
 */
export function recordedClient(url, opts = {}) {
  const client = new Realtime({ url, WebSocket, minDelay: 50, maxDelay: 500, ...opts });
  const rec = { client, events: [], states: [] };
  for (const name of ['connecting', 'connected', 'disconnected', 'closed']) {
    client.on(name, (info) => {
      rec.states.push(name);
      rec.events.push({ name, ...info });
    });
  }
  client.on('error', (e) => rec.events.push({ name: 'error', ...e }));
  client.on('message', (data, msg) => rec.events.push({ name: 'direct', data, msg }));
  return rec;
}

/** Subscribes and records: sub.got (data of each message), sub.log (every event). */
export function recordedSubscription(client, channel, opts = {}) {
  const got = [];
  const log = [];
  const sub = client.subscribe(channel, {
    ...opts,
    onMessage: (data, msg) => {
      got.push(data);
      log.push({ name: 'message', data, offset: msg.offset });
    },
  });
  for (const ev of ['subscribed', 'unrecovered', 'join', 'leave', 'whisper', 'error', 'state']) {
    sub.on(ev, (info) => log.push({ name: ev, info }));
  }
  return Object.assign(sub, { got, log });
}

export function connected(rec, ms = 10000) {
  return waitFor(() => rec.client.state === 'connected', ms, { message: 'the client to be connected' });
}

export function subscribed(sub, ms = 10000) {
  return waitFor(() => sub.state === 'subscribed', ms, { message: `subscription ${sub.channel} to be subscribed` });
}

/**
 * Publishes numbered messages {n} to `channel` at `rate` per second through
 * `publishOne(channel, data)` until stop(); resolves stop() with the count.
 * A publish that fails (the server is being restarted) is retried, so the
 * numbers stay gapless.
 */
export function numberedPublisher(publishOne, channel, rate = 50) {
  let n = 0;
  let running = true;
  const errors = [];
  const done = (async () => {
    const start = Date.now();
    while (running) {
      try {
        await publishOne(channel, { n: n + 1 });
        n++;
      } catch (err) {
        errors.push(err.message);
      }
      const next = start + (n * 1000) / rate;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return n;
  })();
  return {
    get count() {
      return n;
    },
    errors,
    async stop() {
      running = false;
      return done;
    },
  };
}

/** Asserts that `got` is exactly {n:1} … {n:count}: each once and in order. */
export function checkSequence(got, count) {
  const ns = got.map((d) => d && d.n);
  const problems = [];
  for (let i = 0; i < Math.max(ns.length, count); i++) {
    if (ns[i] !== i + 1) {
      problems.push(`at ${i}: ${ns[i]} instead of ${i + 1} (around: ${JSON.stringify(ns.slice(Math.max(0, i - 3), i + 4))})`);
      break;
    }
  }
  if (ns.length !== count) problems.push(`${ns.length} messages for ${count} published`);
  return problems;
}

/** Realtime\history() through jsclient-history.php of `get` (a path -> {status, json} function). */
export async function history(get, channel, { limit = 10000, since } = {}) {
  let q = `/jsclient-history.php?channel=${encodeURIComponent(channel)}&limit=${limit}`;
  if (since) q += `&offset=${since.offset}&epoch=${since.epoch}`;
  const res = await get(q);
  if (res.status !== 200 || !res.json || !res.json.ok) throw new Error(`history(${channel}): HTTP ${res.status} ${res.body}`);
  return res.json.messages;
}

/**
 * Compares what a subscription handed the app (sub.log messages) with the
 * channel's history after `start` (the position it started from): the same
 * messages, each once, in order, offsets consecutive. Returns the problems.
 */
export function compareWithHistory(sub, messages, start) {
  const got = sub.log.filter((e) => e.name === 'message');
  const problems = [];
  const want = messages.filter((m) => m.offset > start.offset);
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const g = got[i];
    const w = want[i];
    if (!g || !w || g.offset !== w.offset || JSON.stringify(g.data) !== JSON.stringify(w.data)) {
      problems.push(`message ${i}: got ${JSON.stringify(g)}, history has ${JSON.stringify(w)}`);
      break;
    }
  }
  if (got.length !== want.length) problems.push(`${got.length} messages handed over, ${want.length} in the history`);
  return problems;
}
