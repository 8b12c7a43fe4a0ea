#!/usr/bin/env node
// How much Pub/Sub traffic reaches a hub, with the redis broker's routing
// ("subscribe only to what local clients need") versus the alternative where
// every node receives every message through one pattern subscription.
//
//   node tests/e2e/lib/redis/measure-routing.mjs [--channels 100] [--messages 4000] [--size 200]
//
// It starts its own redis-server and two php -S servers (hub A and hub B)
// with realtime.broker=redis. Each server reaches Redis through a counting
// TCP proxy, so every byte Redis sends to that server's process (its hub's
// two connections) is counted. Redis 7.0's CLIENT LIST has no per-client
// byte counters (tot-net-out came in a later release); the proxies stand in.
//
//   - hub A has WebSocket clients on `--channels` channels;
//   - hub B has clients too, but on none of those channels;
//   - a PHP CLI process (no hub; it publishes straight to Redis) sends
//     `--messages` messages of `--size` bytes: half to A's channels, half to
//     as many channels nobody is subscribed to;
//   - a plain Redis connection with PSUBSCRIBE <prefix>* plays a node of the
//     "one pattern" design and counts what it receives.
//
// Prints a Markdown table (and the raw numbers as JSON with --json).

import { execFile } from 'node:child_process';
import { closeAll, waitFor } from '../server.mjs';
import { privateExtension, startApp } from './apps.mjs';
import { namespaceOf } from './cluster.mjs';
import { RespClient, startRedis, tcpProxy } from './redis.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const CHANNELS = opt('channels', 100);
const MESSAGES = opt('messages', 4000);
const SIZE = opt('size', 200);
const JSON_OUT = args.includes('--json');
const PREFIX = 'realtime:';

function run(cmd, argv) {
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { maxBuffer: 16 << 20, timeout: 120000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const kb = (n) => (n / 1024).toFixed(1);

async function main() {
  const extension = await privateExtension();
  const redis = await startRedis();
  const proxyA = await tcpProxy(redis.port);
  const proxyB = await tcpProxy(redis.port);
  const A = await startApp({ address: proxyA.address }, { extension, name: 'A' });
  const B = await startApp({ address: proxyB.address }, { extension, name: 'B' });
  const clients = [];
  let pattern;
  try {
    // The hubs' names in Redis: the prefix (and the database, if the
    // extension puts it there).
    const ns = await namespaceOf(redis, PREFIX);
    // The "one pattern" node, listening from the start.
    pattern = await RespClient.connect(redis.port);
    const patternCount = { state: 0, other: 0 };
    await pattern.psubscribe(`${PREFIX}*`, (kind, pat, channel) => {
      if (channel === `${ns}state`) patternCount.state++;
      else patternCount.other++;
    });
    await new Promise((r) => setTimeout(r, 300));
    const setup0 = { B: proxyB.stats.down, state: patternCount.state };

    // A: clients on CHANNELS channels (at most 100 per connection).
    const subscribed = Array.from({ length: CHANNELS }, (_, i) => `room-${i}`);
    const idle = Array.from({ length: CHANNELS }, (_, i) => `nobody-${i}`);
    for (let i = 0; i < subscribed.length; i += 100) {
      const c = await A.connectAnon();
      clients.push(c);
      for (const ch of subscribed.slice(i, i + 100)) await c.subscribe(ch);
    }
    // B: a client, on a channel none of the messages go to.
    const bClient = await B.connectAnon();
    clients.push(bClient);
    await bClient.subscribe('something-else');

    const last = `${ns}c:room-${CHANNELS - 1}`;
    await waitFor(async () => (await redis.numsub(last))[last] === 1, 10000);
    // Let the state messages of the subscriptions above settle.
    await new Promise((r) => setTimeout(r, 500));
    const before = { A: proxyA.stats.down, B: proxyB.stats.down, pattern: pattern.bytesIn, patternMessages: patternCount.other };
    const setup = { bytesToB: proxyB.stats.down - setup0.B, stateMessages: patternCount.state - setup0.state };
    const statusBefore = { A: await A.call('status'), B: await B.call('status') };

    // The publisher: a CLI process, no hub, straight to Redis.
    const php = `
      $sub = ${JSON.stringify(subscribed)}; $idle = ${JSON.stringify(idle)};
      $payload = str_repeat('x', ${SIZE});
      for ($i = 0; $i < ${MESSAGES}; $i++) {
        $list = $i % 2 ? $idle : $sub;
        Realtime\\broadcast($list[intdiv($i, 2) % count($list)], $payload);
      }
      echo "ok";`;
    const t0 = Date.now();
    const out = await run(process.env.PHP_BIN || 'php', [
      '-n',
      '-d', `extension=${extension}`,
      '-d', 'realtime.broker=redis',
      '-d', `realtime.redis_address=${redis.address}`,
      '-r', php,
    ]);
    const publishMs = Date.now() - t0;
    if (out.trim() !== 'ok') throw new Error(`publisher: ${out}`);

    const toA = Math.ceil(MESSAGES / 2);
    const delivered = () => clients.reduce((n, c) => n + c.received.filter((m) => m.type === 'message').length, 0);
    await waitFor(() => delivered() >= toA && patternCount.other - before.patternMessages >= MESSAGES, 30000, {
      message: `deliveries (${delivered()}/${toA}) and pattern messages (${patternCount.other - before.patternMessages}/${MESSAGES})`,
    });
    await new Promise((r) => setTimeout(r, 300));
    const statusAfter = { A: await A.call('status'), B: await B.call('status') };

    const result = {
      redis: (await redis.command('INFO', 'server')).match(/redis_version:(\S+)/)[1],
      channels: CHANNELS,
      messages: MESSAGES,
      payloadBytes: SIZE,
      publishMs,
      hubA: {
        bytesFromRedis: proxyA.stats.down - before.A,
        messagesHandled: statusAfter.A.messages_published - statusBefore.A.messages_published,
        deliveredToClients: delivered() - bClient.received.filter((m) => m.type === 'message').length,
      },
      hubB: {
        bytesFromRedis: proxyB.stats.down - before.B,
        messagesHandled: statusAfter.B.messages_published - statusBefore.B.messages_published,
      },
      patternNode: {
        bytesFromRedis: pattern.bytesIn - before.pattern,
        messages: patternCount.other - before.patternMessages,
      },
      // While A's clients subscribed: the state messages (app-wide view)
      // every hub receives, whatever it subscribes to.
      subscribePhase: setup,
      subscriptions: Object.fromEntries((await redis.clients()).filter((c) => Number(c.sub) + Number(c.psub) > 0).map((c) => [c.addr, { sub: Number(c.sub), psub: Number(c.psub) }])),
    };

    if (JSON_OUT) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`Redis ${result.redis}; ${CHANNELS} channels with subscribers on hub A only; ${MESSAGES} messages of ${SIZE} bytes, ` +
        `half to those channels, half to ${CHANNELS} channels nobody is subscribed to (published in ${publishMs} ms).\n`);
      console.log('| Receiver | Messages from Redis | Bytes from Redis |');
      console.log('| --- | ---: | ---: |');
      console.log(`| hub A (clients on the ${CHANNELS} channels) | ${result.hubA.messagesHandled} | ${kb(result.hubA.bytesFromRedis)} KiB |`);
      console.log(`| hub B (no clients on them) | ${result.hubB.messagesHandled} | ${kb(result.hubB.bytesFromRedis)} KiB |`);
      console.log(`| a node with PSUBSCRIBE ${PREFIX}* | ${result.patternNode.messages} | ${kb(result.patternNode.bytesFromRedis)} KiB |`);
      console.log(`\nWebSocket deliveries on hub A: ${result.hubA.deliveredToClients}.`);
      console.log(`While A's clients subscribed to the ${CHANNELS} channels, ${setup.stateMessages} state messages ` +
        `(the app-wide view, which every hub receives) brought hub B ${kb(setup.bytesToB)} KiB.`);
    }
    return result;
  } finally {
    closeAll(clients);
    pattern?.close();
    await A.stop();
    await B.stop();
    await proxyA.close();
    await proxyB.close();
    await redis.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
