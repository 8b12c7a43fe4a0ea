// Hubs up when workers are (issue 13, point 1) and reloads (point 3).
//
// php-fpm behind nginx, Apache prefork with mod_php and php -S with
// workers, each started and reloaded WITHOUT any PHP request until the
// checks are done:
//   - every worker runs a hub (a thread named "realtime-hub") from its
//     start; the FPM master, Apache's parent and child processes started
//     from PHP code (proc_open, pcntl_fork) run none;
//   - a client that connects right after the start or the reload is
//     served within a second, and gets a message posted to /publish;
//   - a reload closes the old workers' clients with 1012 (native) and
//     4200 (Pusher), and pusher-js is back within a second;
//   - Apache's SIGHUP restart runs MSHUTDOWN in the children's signal
//     handler: they still close their clients and exit at once.
// Timings go to the test output as diagnostics (docs/deployment.md quotes
// them).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, httpRequest, publishSignature, waitFor } from './lib/server.mjs';
import { childrenOf, isAlive } from './lib/pool/proc.mjs';
import { SECRET, apache, cliServer, fpmNginx } from './lib/pool/servers.mjs';
import { PusherJS } from './pusher-helpers.mjs';
import { publish } from './lib/pool/clients.mjs';
import { seqProblem } from './lib/handoff.mjs';

const PUSHER_KEY = 'app-key-1';
const INI = ['realtime.allow_anonymous = 1', 'realtime.app_id = 4242', `realtime.app_key = ${PUSHER_KEY}`, 'realtime.app_secret = app-secret-1'].join('\n');

/** How many threads of pid are hub threads (pthread name "realtime-hub"). */
function hubThreads(pid) {
  let tasks;
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  return tasks.filter((t) => {
    try {
      return fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim() === 'realtime-hub';
    } catch {
      return false;
    }
  }).length;
}

/** Where pid sleeps in the kernel ('' if it is gone). */
function wchan(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/wchan`, 'utf8');
  } catch {
    return '';
  }
}

/** Listening TCP sockets on port (each socket once, however many processes hold it). */
function listeners(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1].endsWith(hex) && cols[3] === '0A') n++;
    }
  }
  return n;
}

/** Waits until `count` workers() each run one hub and none of others() runs one. */
async function hubsUp(workers, others, count, ms = 5000) {
  let last = {};
  try {
    await waitFor(
      () => {
        const w = workers();
        last = { workers: w.map((p) => [p, hubThreads(p)]), others: others().map((p) => [p, hubThreads(p)]) };
        return w.length === count && last.workers.every(([, n]) => n === 1) && last.others.every(([, n]) => n === 0);
      },
      ms,
      { interval: 10, message: 'one hub in every worker and none elsewhere' },
    );
  } catch (err) {
    err.message += ` (pid, hub threads: ${JSON.stringify(last)})`;
    throw err;
  }
  return last.workers.map(([p]) => p);
}

/** POST /publish on the hub port, signed with the secret: no PHP request. */
async function hubPublish(dep, channel, data) {
  const body = JSON.stringify({ type: 'publish', channels: [channel], data });
  const res = await httpRequest(dep.hubPort, '/publish', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...publishSignature(SECRET, body) },
    timeout: 5000,
  });
  assert.equal(res.status, 202, `POST /publish: ${res.status} ${res.body}`);
}

/** Connects right away and times it; the client must be served within a second. */
async function servedFast(url, t, what) {
  const t0 = Date.now();
  const c = await connect(url, { timeout: 5000 });
  const took = Date.now() - t0;
  t.diagnostic(`${what}: connected in ${took} ms (node ${String(c.connectionId).split('.')[0]})`);
  assert.ok(took < 1000, `${what}: connected after ${took} ms`);
  return c;
}

async function receives(dep, client, channel, tag) {
  await client.subscribe(channel);
  await hubPublish(dep, channel, { tag });
  await client.next((m) => m.type === 'message' && m.data && m.data.tag === tag, 5000);
}

function pusherClient(dep) {
  return new PusherJS(PUSHER_KEY, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: dep.hubPort,
    wssPort: dep.hubPort,
    forceTLS: false,
    enabledTransports: ['ws'],
  });
}

function pusherConnected(p, ms = 5000) {
  return waitFor(() => p.connection.state === 'connected', ms, { message: `pusher-js connected (state ${p.connection.state})` });
}

/** Polls until none of pids is alive; resolves with the time it took. */
async function gone(pids, ms, what) {
  const t0 = Date.now();
  await waitFor(() => pids.every((p) => !isAlive(p)), ms, { interval: 10, message: what });
  return Date.now() - t0;
}

function realtimeLog(dep) {
  try {
    return fs.readFileSync(path.join(dep.dir, 'realtime.log'), 'utf8');
  } catch {
    return '';
  }
}

function withLogs(dep, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      if (dep()) err.message += `\n${dep().logs()}`;
      throw err;
    }
  };
}

describe('php-fpm behind nginx (pm = static and dynamic, process_control_timeout = 0 as on Debian)', () => {
  let dep;
  const open = [];
  let early;
  const t = { diagnostic: (s) => early.push(s) };

  before(async () => {
    early = [];
    dep = await fpmNginx({
      label: 'early-fpm',
      pools: [
        { name: 'www', pm: ['pm = static', 'pm.max_children = 3', 'pm.max_requests = 0'].join('\n') },
        // Debian's www.conf, smaller: start 2, keep 1 to 3 idle.
        { name: 'dyn', pm: ['pm = dynamic', 'pm.max_children = 5', 'pm.start_servers = 2', 'pm.min_spare_servers = 1', 'pm.max_spare_servers = 3'].join('\n') },
      ],
      iniExtra: INI,
      controlTimeout: '0',
    });
    // Right after the start: before any hub is known to be up.
    open.push(await servedFast(dep.wsUrl, t, 'first client through nginx, right after the start'));
  });

  after(async () => {
    for (const c of open) c.close?.() ?? c.disconnect?.();
    if (dep) await dep.stop();
  });

  it('every worker of both pools runs a hub from its start, the master none, with no PHP request', withLogs(() => dep, async (tt) => {
    for (const line of early) tt.diagnostic(line);
    await hubsUp(() => dep.workers('www'), () => [dep.masterPid], 3);
    await hubsUp(() => dep.workers('dyn'), () => [dep.masterPid], 2);
    await receives(dep, open[0], 'early', 'fpm-start');
  }));

  it('reload (SIGUSR2): clients get 1012 / 4200, pusher-js is back at once, new hubs serve with no PHP request after it', withLogs(() => dep, async (tt) => {
    const old = await hubsUp(() => dep.workers(), () => [dep.masterPid], 5);
    // Workers that served a request have Zend's signal wrapper around the
    // SIGTERM handler: the reload must end those too.
    const served = await Promise.all([1, 2, 3].map(() => dep.json('/pid.php?sleep=200')));
    tt.diagnostic(`before the reload, requests were served by ${[...new Set(served.map((r) => r.pid))].join(', ')}`);
    const natives = await Promise.all([1, 2, 3, 4, 5, 6].map(() => connect(dep.wsUrl, { timeout: 5000 })));
    open.push(...natives);
    const pusher = pusherClient(dep);
    open.push(pusher);
    await pusherConnected(pusher);
    const channel = pusher.subscribe('reload');
    await waitFor(() => channel.subscribed, 5000, { message: 'pusher-js subscribed' });
    const states = [];
    pusher.connection.bind('state_change', (s) => states.push({ ...s, at: Date.now() }));
    const got = [];
    channel.bind('message', (data) => got.push(data));

    const t0 = Date.now();
    process.kill(dep.masterPid, 'SIGUSR2');
    const closes = await Promise.all(natives.map((c) => c.waitClose(10000)));
    const tClosed = Date.now() - t0;
    const tGone = (await gone(old, 10000, 'the old workers to exit')) + tClosed;
    // The master re-executes itself and binds the hub port again.
    const fresh = await hubsUp(() => dep.workers().filter((p) => !old.includes(p)), () => [dep.masterPid], 5, 10000);
    const tUp = Date.now() - t0;
    const c = await servedFast(dep.wsUrl, tt, 'client right after the reload');
    open.push(c);
    await receives(dep, c, 'after', 'fpm-reload');
    await pusherConnected(pusher, 5000);
    // pusher-js subscribes again once connected; until the hub has that
    // subscription a broadcast misses it, so publish until one arrives.
    const arrived = () => got.some((d) => d && d.tag === 'pusher-after-reload');
    await waitFor(async () => arrived() || (await hubPublish(dep, 'reload', { tag: 'pusher-after-reload' }), false), 5000, {
      interval: 100,
      message: 'pusher-js to get a broadcast after the reload',
    });

    const codes = closes.map((x) => x.code);
    const down = states.find((s) => s.previous === 'connected');
    const back = states.find((s) => s.current === 'connected');
    tt.diagnostic(`SIGUSR2: native clients closed ${JSON.stringify(codes)} within ${tClosed} ms; old workers gone in ${tGone} ms; ${fresh.length} new hubs up ${tUp} ms after the signal`);
    tt.diagnostic(`pusher-js: ${states.map((s) => `${s.current}@${s.at - t0}ms`).join(' ')}`);
    assert.deepEqual([...new Set(codes)], [1012], `close codes ${JSON.stringify(closes.slice(0, 3))}`);
    assert.ok(down && back && back.at - down.at < 1000, `pusher-js reconnected after ${back && down ? back.at - down.at : '?'} ms`);
    assert.match(realtimeLog(dep), /closed \d+ client\(s\) with 1012 \(Pusher 4200\)/);
  }));

  it('a child started with proc_open() runs no hub and adds no listener', withLogs(() => dep, async () => {
    const before = listeners(dep.hubPort);
    const res = await dep.json('/fork.php?how=proc_open');
    try {
      assert.ok(isAlive(res.child), 'the child is running');
      assert.equal(hubThreads(res.child), 0);
      assert.equal(listeners(dep.hubPort), before);
    } finally {
      process.kill(res.child, 'SIGKILL');
    }
  }));
});

describe('Apache prefork + mod_php (children as www-data)', () => {
  let dep;
  const open = [];
  let early;
  const t = { diagnostic: (s) => early.push(s) };

  before(async () => {
    early = [];
    dep = await apache({ label: 'early-apache', start: 3, minSpare: 1, maxSpare: 16, iniExtra: INI });
    open.push(await servedFast(dep.wsUrl, t, 'first client right after the start'));
  });

  after(async () => {
    for (const c of open) c.close();
    if (dep) await dep.stop();
  });

  const children = () => childrenOf(dep.parentPid);

  it('every child runs a hub from its start, the parent none, with no PHP request', withLogs(() => dep, async (tt) => {
    for (const line of early) tt.diagnostic(line);
    await hubsUp(children, () => [dep.parentPid], 3);
    await receives(dep, open[0], 'early', 'apache-start');
  }));

  it('graceful restart (SIGUSR1): the new children serve at once, with no PHP request; the old children hand their clients to them', withLogs(() => dep, async (tt) => {
    const old = await hubsUp(children, () => [dep.parentPid], 3);
    const clients = await Promise.all([1, 2, 3].map(() => connect(dep.wsUrl, { timeout: 5000 })));
    open.push(...clients);
    for (const c of clients) await c.subscribe('graceful-moved');
    const ids = clients.map((c) => c.connectionId);
    // One old child stays busy through the restart (a slow request, made
    // before it): it keeps the hub port's socket, and the new children's
    // hubs must start all the same.
    const slow = dep.json('/busy.php?ms=3000');
    await waitFor(() => old.some((p) => wchan(p).includes('nanosleep')), 5000, { message: 'an old child to be in the slow request' });
    // A numbered stream throughout: the old generation stops while the new
    // one stays (a pool stop with survivors), and no client misses or gets
    // twice any of it.
    let next = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        await publish(dep, 'graceful-moved', { seq: next }, { hold: 5 }); // a worker's 5 ms paces the stream
        next++;
      }
    })();
    await waitFor(() => next >= 5, 10000, { message: 'the stream to start' });
    const t0 = Date.now();
    process.kill(dep.parentPid, 'SIGUSR1');
    const fresh = await hubsUp(() => children().filter((p) => !old.includes(p)), () => [dep.parentPid], 3, 10000);
    const tUp = Date.now() - t0;
    const busy = old.filter((p) => isAlive(p));
    const served = await slow;
    assert.deepEqual(busy, [served.pid], 'the busy old child was still there when the new hubs were up');
    await gone(old, 10000, 'the old children to exit');
    streaming = false;
    await stream;
    const last = next - 1;
    const seqs = (c) => c.received.filter((m) => m.type === 'message' && m.data && typeof m.data.seq === 'number').map((m) => m.data.seq);
    await waitFor(() => clients.every((c) => seqs(c).includes(last)), 10000, { message: `every client to get seq ${last}` });
    for (const c of clients) assert.equal(seqProblem(seqs(c), last), '', `client ${c.connectionId}`);
    assert.ok(clients.every((c) => seqs(c)[0] === 0), 'every client got the stream from its start');
    // The generations share the named segment's hub table, so the old
    // children's hubs handed their clients to the new ones: still open,
    // same ids, and they hear what the new generation publishes.
    await hubPublish(dep, 'graceful-moved', { tag: 'after-graceful' });
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'message' && m.data && m.data.tag === 'after-graceful', 5000)));
    assert.deepEqual(clients.map((c) => c.closeInfo), [null, null, null]);
    assert.deepEqual(clients.map((c) => c.connectionId), ids);
    const c = await servedFast(dep.wsUrl, tt, 'client right after the graceful restart');
    open.push(c);
    await receives(dep, c, 'graceful', 'apache-graceful');
    tt.diagnostic(`SIGUSR1: ${fresh.length} new hubs up ${tUp} ms after the signal, while old child ${busy} was still busy; the old children's ${clients.length} clients moved to them and got all ${last + 1} numbered broadcasts once, in order`);
  }));

  it('restart (SIGHUP): MSHUTDOWN in the children\'s signal handler closes clients with 1012 and ends at once', withLogs(() => dep, async (tt) => {
    const old = await hubsUp(children, () => [dep.parentPid], 3);
    const clients = await Promise.all([1, 2, 3, 4].map(() => connect(dep.wsUrl, { timeout: 5000 })));
    open.push(...clients);
    const t0 = Date.now();
    process.kill(dep.parentPid, 'SIGHUP');
    const closes = await Promise.all(clients.map((c) => c.waitClose(10000)));
    // httpd sends SIGTERM again at 3 s and SIGKILL at 9 s to children that
    // hang (a stop that took a lock held by the interrupted code would), and
    // logs it: "child process N still did not exit, sending a SIGTERM".
    await gone(old, 10000, 'the old children to exit');
    tt.diagnostic(`SIGHUP: clients closed ${JSON.stringify(closes.map((x) => x.code))}; old children gone ${Date.now() - t0} ms after the signal`);
    assert.deepEqual([...new Set(closes.map((x) => x.code))], [1012]);
    assert.doesNotMatch(fs.readFileSync(path.join(dep.dir, 'apache-error.log'), 'utf8'), /still did not exit/, 'httpd had to signal a child again');
    await hubsUp(() => children().filter((p) => !old.includes(p)), () => [dep.parentPid], 3, 10000);
    const c = await servedFast(dep.wsUrl, tt, 'client right after the restart');
    open.push(c);
    await receives(dep, c, 'hup', 'apache-hup');
  }));

  it('a child started with proc_open() runs no hub', withLogs(() => dep, async () => {
    const res = await dep.json('/fork.php?how=proc_open');
    try {
      assert.ok(isAlive(res.child), 'the child is running');
      assert.equal(hubThreads(res.child), 0);
    } finally {
      process.kill(res.child, 'SIGKILL');
    }
  }));
});

describe('php -S with PHP_CLI_SERVER_WORKERS=3', () => {
  let dep;
  const open = [];
  let early;
  const t = { diagnostic: (s) => early.push(s) };

  before(async () => {
    early = [];
    dep = await cliServer({ label: 'early-cli', workers: 3, iniExtra: INI });
    open.push(await servedFast(dep.wsUrl, t, 'first client right after the start'));
  });

  after(async () => {
    for (const c of open) c.close();
    if (dep) await dep.stop();
  });

  it('the parent and its 3 workers run a hub each from the start, with no PHP request', withLogs(() => dep, async (tt) => {
    for (const line of early) tt.diagnostic(line);
    await hubsUp(() => [dep.parentPid, ...dep.workerPids()], () => [], 4);
    await receives(dep, open[0], 'early', 'cli-start');
  }));

  it('a pcntl_fork() child runs no hub and adds no listener', withLogs(() => dep, async () => {
    const servers = [dep.parentPid, ...dep.workerPids()];
    const before = listeners(dep.hubPort);
    const report = `rt-early-${process.pid}-${Date.now()}.json`;
    const file = path.join(os.tmpdir(), report);
    // The answer ends when the child does (it holds the request's socket).
    const answer = dep.get(`/fork.php?how=pcntl_fork&report=${report}`);
    let child = null;
    try {
      const got = await waitFor(() => fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')), 5000, { message: 'the child to report its status' });
      child = got.pid;
      assert.ok(!servers.includes(child), 'the report came from a server process');
      assert.equal(got.status.running, false, JSON.stringify(got.status));
      assert.equal(hubThreads(child), 0);
      assert.equal(listeners(dep.hubPort), before);
      assert.deepEqual(servers.map(hubThreads), servers.map(() => 1));
    } finally {
      if (child) process.kill(child, 'SIGKILL');
      await answer.catch(() => null);
      fs.rmSync(file, { force: true });
    }
  }));
});
