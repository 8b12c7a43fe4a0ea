// Checks shared by the redis broker tests: ordering barriers across servers
// (so "nothing else arrived" can be asserted without sleeping), waiting for
// routes to be subscribed in Redis, and reading the hubs' logs.

import { waitFor } from '../server.mjs';

let barrierSeq = 0;

/**
 * Waits until every server in `observers` has applied all the state that
 * `origin`'s hub published before this call: a fresh client on origin
 * subscribes to a fresh channel, and each observer's app-wide view must show
 * it. A hub publishes its state over one Redis connection, in order, and
 * every hub applies it in that order, so whatever origin reported earlier
 * (joins, leaves, members) has been applied by then too.
 */
export async function stateBarrier(origin, observers, ms = 5000) {
  const channel = `barrier-${process.pid}-${++barrierSeq}`;
  const c = await origin.connectAnon();
  try {
    await c.subscribe(channel);
    for (const s of observers) {
      await waitFor(async () => (await s.call('subscribers', { channel })) >= 1, ms, {
        message: `${s.name} to see ${origin.name}'s barrier subscription`,
      });
    }
  } finally {
    c.close();
  }
}

/** Waits until `n` connections (hubs) are subscribed to the Redis route of `channel`. */
export async function waitRoute(redis, route, n, ms = 5000) {
  let last;
  await waitFor(
    async () => {
      last = (await redis.numsub(route))[route];
      return last === n;
    },
    ms,
    { message: `${n} subscriber(s) of ${route} in Redis (last: ${last})` },
  );
}

/** The realtime log lines of a server's output (php -S mixes them with its access log). */
export function hubLog(server) {
  return server.log
    .split('\n')
    .filter((l) => l.includes('realtime['))
    .join('\n');
}

/** Waits until the hub's log matches `re`; returns the match. */
export function waitLog(server, re, ms, message) {
  return waitFor(() => re.exec(hubLog(server)), ms, {
    interval: 50,
    message: message || `${server.name}'s log to match ${re}\n--- ${server.name} log ---\n${hubLog(server).slice(-1500)}`,
  });
}

/** How many received messages of `client` match pred. */
export function countOf(client, pred) {
  return client.received.filter(pred).length;
}

export const isMessage = (channel, pred = () => true) => (m) => m.type === 'message' && m.channel === channel && pred(m);
export const isDirect = (pred = () => true) => (m) => m.type === 'message' && m.channel === undefined && pred(m);

/**
 * The namespace the hubs of an app with `prefix` use in Redis: what comes
 * before "state" in the name of their state channel (the prefix, and the
 * database number if the extension puts it there). Waits until some hub of
 * that prefix has subscribed.
 */
export async function namespaceOf(redis, prefix = 'realtime:', ms = 5000) {
  let found = [];
  await waitFor(
    async () => {
      found = (await redis.command('PUBSUB', 'CHANNELS', `${prefix}*state`)).filter((c) => c.startsWith(prefix));
      return found.length === 1;
    },
    ms,
    { message: `one state channel for prefix ${prefix} (found ${JSON.stringify(found)})` },
  );
  return found[0].slice(0, -'state'.length);
}
