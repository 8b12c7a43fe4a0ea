// Mercure 0.x on the hub (issue 15 item 4, issue 17 item 2): Debian's
// symfony/mercure Publisher publishes to POST /.well-known/mercure;
// EventSource subscribers in headless Chromium receive, a private update
// reaching only the subscriber whose JWT allows it; wrong-key and expired
// JWTs are refused on both sides; topics are channels (a Mercure publish
// reaches a native WebSocket client, Realtime\broadcast() reaches a Mercure
// subscriber); template selectors; Last-Event-ID recovery, earliest, and a
// malformed or unknown id; a huge topic list is refused; a stream that stops
// reading is closed as a slow consumer; mercure_publish()
// in the request under php -S and under php-fpm behind nginx; on the redis
// broker, selectors see updates of channels their hub has no subscriber on.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './lib/browser.mjs';
import { METRICS_KEY, PHP_BIN, connect, httpRequest, startServer, waitFor } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';
import { warmUp } from './lib/pool/clients.mjs';
import { phpBin, run } from './lib/pool/proc.mjs';
import { startRedis } from './lib/redis/redis.mjs';
import { privateExtension, startApp } from './lib/redis/apps.mjs';

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mercure-app');
const PUB_KEY = 'mercure-publisher-key-5e1f0c2a';
const SUB_KEY = 'mercure-subscriber-key-7d3b9a44';
const BOOKS = 'https://example.com/books';

const b64u = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** An HS256 JWT with claims, signed with key. */
function jwt(key, claims) {
  const head = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(claims)}`;
  return `${head}.${crypto.createHmac('sha256', key).update(head).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const PUB_JWT = jwt(PUB_KEY, { mercure: { publish: ['*'] }, exp: now() + 3600 });

/** Publishes with Debian's symfony/mercure Publisher (mercure-app/publish.php):
 * resolves with the update's id, or throws with the Publisher's error. */
function symfonyPublish(hubPort, update, token = PUB_JWT) {
  return new Promise((resolve, reject) => {
    execFile(PHP_BIN, [path.join(APP, 'publish.php'), `http://127.0.0.1:${hubPort}/.well-known/mercure`,
      token, JSON.stringify(update)], { timeout: 15000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`publish.php: ${err.message} ${stderr}`));
      if (stdout.startsWith('id:')) return resolve(stdout.slice(3));
      reject(new Error(stdout));
    });
  });
}

const MERCURE_INI = {
  allow_anonymous: 1, // anonymous Mercure subscribers and native clients (the FPM deployment has it off)
  mercure_publisher_key: PUB_KEY,
  mercure_subscriber_key: SUB_KEY,
  mercure_function: 1,
  mercure_max_topics: 5,
  history: `${BOOKS}/*:100:600`,
};

const sub = (port, query, opts) => openStream(port, `/.well-known/mercure?${query}`, opts);
const topicQuery = (...topics) => topics.map((t) => `topic=${encodeURIComponent(t)}`).join('&');

async function metric(port, series) {
  const res = await httpRequest(port, '/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` } });
  const line = res.body.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('Mercure on a hub served by php -S', { timeout: 120000 }, () => {
  let server;
  let br;
  before(async () => {
    server = await startServer({
      docroot: APP,
      ini: { ...MERCURE_INI, allowed_origins: ({ httpPort }) => `http://127.0.0.1:${httpPort}` },
    });
    br = await launchChromium();
  });
  after(async () => {
    await br?.close();
    await server?.stop();
  });

  const openPage = async (topics, authorization) => {
    const q = new URLSearchParams({ hub: `http://127.0.0.1:${server.wsPort}` });
    for (const t of topics) q.append('topic', t);
    if (authorization) q.set('authorization', authorization);
    const page = await br.context.newPage();
    await page.goto(`${server.httpUrl}/page.html?${q}`, { timeout: 10000 });
    await waitFor(() => page.evaluate(() => window.opened), 10000, { message: 'the EventSource to open' });
    return page;
  };
  const pageData = (page) => page.evaluate(() => window.events.map((e) => e.data));

  it('EventSource subscribers get the Publisher\'s updates; a private one only with a matching mercure.subscribe', async () => {
    const topic = `${BOOKS}/1`;
    const anonymous = await openPage([topic]);
    const allowed = await openPage([topic], jwt(SUB_KEY, { mercure: { subscribe: [`${BOOKS}/{id}`] } }));
    const other = await openPage([topic], jwt(SUB_KEY, { mercure: { subscribe: ['https://example.com/authors/{id}'] } }));
    const ids = [];
    ids.push(await symfonyPublish(server.wsPort, { topics: [topic], data: 'public one' }));
    ids.push(await symfonyPublish(server.wsPort, { topics: [topic], data: 'secret', private: true }));
    ids.push(await symfonyPublish(server.wsPort, { topics: [topic], data: '{"n":3}' }));
    for (const id of ids) assert.match(id, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await waitFor(async () => (await pageData(allowed)).length === 3, 10000, { message: 'three updates on the authorized page' });
    await waitFor(async () => (await pageData(anonymous)).length === 2 && (await pageData(other)).length === 2, 10000,
      { message: 'two public updates on the other pages' });
    assert.deepEqual(await pageData(allowed), ['public one', 'secret', '{"n":3}']);
    assert.deepEqual(await pageData(anonymous), ['public one', '{"n":3}']);
    assert.deepEqual(await pageData(other), ['public one', '{"n":3}']);
    // Each event's id is the id the Publisher got back.
    assert.deepEqual(await allowed.evaluate(() => window.events.map((e) => e.id)), ids);
    for (const p of [anonymous, allowed, other]) await p.close();
  });

  it('a publish the mercureAuthorization cookie authorizes counts only from an allowed Origin (cross-site request forgery)', async () => {
    const topic = `${BOOKS}/csrf`;
    const s = await sub(server.wsPort, topicQuery(topic));
    try {
      const post = (origin) => httpRequest(server.wsPort, '/.well-known/mercure', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `mercureAuthorization=${PUB_JWT}`,
          ...(origin ? { origin } : {}),
        },
        body: `topic=${encodeURIComponent(topic)}&data=${encodeURIComponent(origin || 'none')}`,
      });
      const evil = await post('https://evil.example');
      assert.equal(evil.status, 403);
      assert.match(evil.body, /Origin/);
      assert.equal((await post(null)).status, 403, 'no Origin: not a browser on an allowed page either');
      const page = await post(`http://127.0.0.1:${server.httpPort}`);
      assert.equal(page.status, 200, page.body);
      // Only the allowed page's publish arrived.
      assert.equal((await s.next()).data, `http://127.0.0.1:${server.httpPort}`);
      // A Bearer token is no cookie: no Origin needed (symfony/mercure, curl).
      assert.match(await symfonyPublish(server.wsPort, { topics: [topic], data: 'bearer' }), /^urn:uuid:/);
      assert.equal((await s.next()).data, 'bearer');
    } finally {
      s.close();
    }
  });

  it('refuses wrong-key, expired and unauthorized JWTs, counted by reason', async () => {
    const topic = `${BOOKS}/refused`;
    const expiredBefore = await metric(server.wsPort, 'realtime_mercure_refusals_total{reason="expired"}');
    await assert.rejects(symfonyPublish(server.wsPort, { topics: [topic], data: 'x' },
      jwt('another-key-entirely-1234', { mercure: { publish: ['*'] } })), /401/);
    await assert.rejects(symfonyPublish(server.wsPort, { topics: [topic], data: 'x' },
      jwt(PUB_KEY, { mercure: { publish: ['*'] }, exp: now() - 60 })), /401/);
    await assert.rejects(symfonyPublish(server.wsPort, { topics: [topic], data: 'x' },
      jwt(PUB_KEY, { mercure: { publish: ['https://example.com/authors/{id}'] } })), /403/);
    await assert.rejects(symfonyPublish(server.wsPort, { topics: [topic], data: 'x' },
      jwt(PUB_KEY, { mercure: { subscribe: ['*'] } })), /403/);
    const wrong = await httpRequest(server.wsPort, `/.well-known/mercure?${topicQuery(topic)}`, {
      headers: { authorization: `Bearer ${jwt('another-key-entirely-1234', { mercure: { subscribe: ['*'] } })}` },
    });
    assert.equal(wrong.status, 401);
    const expired = await httpRequest(server.wsPort, `/.well-known/mercure?${topicQuery(topic)}`, {
      headers: { cookie: `mercureAuthorization=${jwt(SUB_KEY, { mercure: { subscribe: ['*'] }, exp: now() - 60 })}` },
    });
    assert.equal(expired.status, 401);
    assert.match(expired.body, /expired/);
    assert.equal(await metric(server.wsPort, 'realtime_mercure_refusals_total{reason="expired"}'), expiredBefore + 2);
    assert.ok(await metric(server.wsPort, 'realtime_mercure_refusals_total{reason="forbidden"}') >= 2);
  });

  it('a Mercure publish reaches a native WebSocket client of the same channel; a private one does not', async () => {
    const topic = `${BOOKS}/ws`;
    const client = await connect(server.wsUrl);
    try {
      await client.subscribe(topic);
      await symfonyPublish(server.wsPort, { topics: [topic], data: '{"title":"Dune"}', type: 'book' });
      await symfonyPublish(server.wsPort, { topics: [topic], data: 'not for websockets', private: true });
      await symfonyPublish(server.wsPort, { topics: [topic], data: 'plain text' });
      const first = await client.next((m) => m.type === 'message' && m.channel === topic);
      assert.deepEqual(first.data, { title: 'Dune' });
      assert.equal(first.event, 'book');
      const second = await client.next((m) => m.type === 'message' && m.channel === topic);
      assert.equal(second.data, 'plain text'); // text that is not JSON arrives as a JSON string
    } finally {
      client.close();
    }
  });

  it('Realtime\\broadcast() reaches a Mercure subscriber, with a position as its id', async () => {
    const topic = `${BOOKS}/broadcast`;
    const s = await sub(server.wsPort, topicQuery(topic));
    try {
      const res = await server.http(`/broadcast.php?topic=${encodeURIComponent(topic)}&n=7`);
      assert.equal(res.status, 200, res.body);
      const e = await s.next();
      assert.deepEqual(JSON.parse(e.data), { n: 7 });
      assert.equal(e.event, 'message');
      assert.match(e.id, new RegExp(`^[0-9a-f]{8}-${res.json.position.offset}-${res.json.position.epoch}$`));
    } finally {
      s.close();
    }
  });

  it('a template selector gets updates of every topic it matches, and only those', async () => {
    const s = await sub(server.wsPort, topicQuery('https://example.com/authors/{id}'));
    const star = await sub(server.wsPort, topicQuery('*'));
    try {
      await symfonyPublish(server.wsPort, { topics: [`${BOOKS}/9`], data: 'a book' });
      await symfonyPublish(server.wsPort, { topics: ['https://example.com/authors/7'], data: 'an author' });
      await symfonyPublish(server.wsPort, { topics: ['https://example.com/authors/7/books'], data: 'not matched' });
      await symfonyPublish(server.wsPort, { topics: ['https://example.com/authors/8'], data: 'another author' });
      await s.next((e) => e.data === 'another author');
      assert.deepEqual(s.events.map((e) => e.data), ['an author', 'another author']);
      await star.next((e) => e.data === 'another author');
      assert.deepEqual(star.events.map((e) => e.data), ['a book', 'an author', 'not matched', 'another author']);
    } finally {
      s.close();
      star.close();
    }
  });

  it('recovers from Last-Event-ID and lastEventID=earliest; says so when the id is unknown or malformed', async () => {
    const topic = `${BOOKS}/recovery`;
    const ids = [];
    for (const data of ['r1', 'r2', 'r3']) ids.push(await symfonyPublish(server.wsPort, { topics: [topic], data }));
    const resumed = await sub(server.wsPort, topicQuery(topic), { headers: { 'last-event-id': ids[0] } });
    const earliest = await sub(server.wsPort, `${topicQuery(topic)}&lastEventID=earliest`);
    const unknown = await sub(server.wsPort, `${topicQuery(topic)}&lastEventID=urn:uuid:gone`);
    const malformed = await sub(server.wsPort, topicQuery(topic), { headers: { 'last-event-id': 'x'.repeat(300) } });
    try {
      await resumed.next((e) => e.data === 'r3');
      assert.deepEqual(resumed.events.map((e) => [e.data, e.id]), [['r2', ids[1]], ['r3', ids[2]]]);
      await earliest.next((e) => e.data === 'r3');
      assert.deepEqual(earliest.events.map((e) => e.data), ['r1', 'r2', 'r3']);
      for (const s of [unknown, malformed]) {
        const e = await s.next((x) => x.event === 'recovery');
        assert.equal(JSON.parse(e.data).recovered, false);
      }
      // Each stream goes on live, once.
      await symfonyPublish(server.wsPort, { topics: [topic], data: 'r4' });
      for (const s of [resumed, earliest, unknown, malformed]) {
        await s.next((e) => e.data === 'r4');
        assert.equal(s.events.filter((e) => e.data === 'r4').length, 1);
      }
    } finally {
      for (const s of [resumed, earliest, unknown, malformed]) s.close();
    }
  });

  it('refuses more topics than realtime.mercure_max_topics, subscribing and publishing', async () => {
    const six = Array.from({ length: 6 }, (_, i) => `${BOOKS}/many-${i}`);
    const many = Array.from({ length: 400 }, (_, i) => `t${i}`);
    const before = await metric(server.wsPort, 'realtime_mercure_refusals_total{reason="mercure_max_topics"}');
    assert.equal((await httpRequest(server.wsPort, `/.well-known/mercure?${topicQuery(...six)}`)).status, 400);
    assert.equal((await httpRequest(server.wsPort, `/.well-known/mercure?${topicQuery(...many)}`)).status, 400);
    await assert.rejects(symfonyPublish(server.wsPort, { topics: six, data: 'x' }), /400/);
    assert.equal(await metric(server.wsPort, 'realtime_mercure_refusals_total{reason="mercure_max_topics"}'), before + 3);
    // Five is within the bound.
    const s = await sub(server.wsPort, topicQuery(...six.slice(0, 5)));
    try {
      await symfonyPublish(server.wsPort, { topics: six.slice(0, 5), data: 'five topics' });
      await s.next((e) => e.data === 'five topics');
      await symfonyPublish(server.wsPort, { topics: [six[0]], data: 'after' });
      await s.next((e) => e.data === 'after');
      // An update of five topics the stream follows arrives once.
      assert.equal(s.events.filter((e) => e.data === 'five topics').length, 1);
    } finally {
      s.close();
    }
  });

  it('mercure_publish() in the request returns the id the subscribers get', async () => {
    const topic = `${BOOKS}/fn`;
    const s = await sub(server.wsPort, topicQuery(topic));
    try {
      const res = await server.http(`/fn.php?topic=${encodeURIComponent(topic)}&data=${encodeURIComponent('from php')}&type=note`);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.defined, true);
      const e = await s.next();
      assert.equal(e.data, 'from php');
      assert.equal(e.event, 'note');
      assert.equal(e.id, res.json.id);
      assert.ok(await metric(server.wsPort, 'realtime_messages_published_total{source="mercure_function"}') >= 1);
    } finally {
      s.close();
    }
  });
});

describe('Mercure slow reader', { timeout: 60000 }, () => {
  let server;
  before(async () => {
    server = await startServer({ docroot: APP, ini: { ...MERCURE_INI, max_outbound: 65536 } });
  });
  after(async () => {
    await server?.stop();
  });

  it('closes a Mercure stream that stops reading as a slow consumer, counted', async () => {
    const topic = `${BOOKS}/flood`;
    const sock = net.connect(server.wsPort, '127.0.0.1');
    await new Promise((res) => sock.once('connect', res));
    let head = '';
    sock.write(`GET /.well-known/mercure?${topicQuery(topic)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await new Promise((res) => sock.on('data', function onData(d) {
      head += d.toString();
      if (head.includes('\r\n\r\n')) { sock.off('data', onData); sock.pause(); res(); }
    }));
    assert.match(head, /^HTTP\/1\.1 200/);
    let closed = false;
    sock.on('close', () => { closed = true; });
    const sessions = 'realtime_sessions{protocol="mercure",transport="sse"}';
    const slow = 'realtime_slow_consumer_closes_total';
    assert.equal(await metric(server.wsPort, sessions), 1);
    const before = await metric(server.wsPort, slow);
    // 60 KB updates until the kernel's buffers and the 64 KiB queue are full.
    await waitFor(async () => {
      await server.http(`/broadcast.php?topic=${encodeURIComponent(topic)}&pad=60000&count=20`);
      return (await metric(server.wsPort, slow)) > before;
    }, 30000, { interval: 50, message: 'the slow stream to be closed' });
    await waitFor(async () => (await metric(server.wsPort, sessions)) === 0, 10000,
      { message: 'the Mercure session to end' });
    sock.resume();
    await waitFor(() => closed, 10000, { message: 'the socket to close' });
    sock.destroy();
  });
});

describe('Mercure with php-fpm behind nginx', { timeout: 120000 }, () => {
  let dep;
  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-mercure',
      docroot: APP,
      pools: [{ name: 'app', pm: PM.static4 }],
      // No realtime.allow_anonymous: Mercure subscribers need a JWT.
      iniExtra: [
        `realtime.mercure_publisher_key = "${PUB_KEY}"`,
        `realtime.mercure_subscriber_key = "${SUB_KEY}"`,
        'realtime.mercure_function = 1',
        `realtime.history = "${BOOKS}/*:100:600"`,
      ].join('\n'),
    });
    await warmUp(dep, { min: 4, concurrency: 4 });
  });
  after(async () => {
    await dep?.stop();
  });

  it('mercure_publish() in an FPM worker and the Publisher reach subscribers on every hub of the pool', async () => {
    const topic = `${BOOKS}/fpm`;
    // realtime.allow_anonymous is off: a subscriber needs a JWT (any valid one).
    const anonymous = await httpRequest(dep.hubPort, `/.well-known/mercure?${topicQuery(topic)}`);
    assert.equal(anonymous.status, 401);
    const auth = `authorization=${jwt(SUB_KEY, { mercure: { subscribe: [] } })}`;
    const streams = [];
    for (let i = 0; i < 8; i++) streams.push(await sub(dep.hubPort, `${topicQuery(topic)}&${auth}`));
    try {
      const res = await httpRequest(dep.frontPort, `/fn.php?topic=${encodeURIComponent(topic)}&data=via-fpm`);
      assert.equal(res.status, 200, res.body);
      const fromSymfony = await symfonyPublish(dep.hubPort, { topics: [topic], data: 'via-symfony' });
      for (const s of streams) {
        await s.next((e) => e.data === 'via-symfony', 10000);
        assert.deepEqual(s.events.map((e) => [e.data, e.id]), [['via-fpm', res.json.id], ['via-symfony', fromSymfony]]);
      }
    } finally {
      for (const s of streams) s.close();
    }
  });
  it('mercure_publish() in a CLI process without a hub (POST /publish): a private update stays private', async () => {
    const topic = `${BOOKS}/cli`;
    const plain = await sub(dep.hubPort, `${topicQuery(topic)}&authorization=${jwt(SUB_KEY, { mercure: { subscribe: [] } })}`);
    const allowed = await sub(dep.hubPort, `${topicQuery(topic)}&authorization=${jwt(SUB_KEY, { mercure: { subscribe: [topic] } })}`);
    try {
      // Another realtime.history keeps the CLI off the shared segment: it posts to /publish.
      const cli = await run(phpBin(), ['-c', path.join(dep.dir, 'php.ini'), '-d', 'realtime.history=', '-r',
        `echo json_encode([mercure_publish(${JSON.stringify(topic)}, "secret", true, "cli-1", "note"), `
        + `mercure_publish(${JSON.stringify(topic)}, "public"), Realtime\\status()["publish_path"]]);`],
      { env: { PHP_INI_SCAN_DIR: '' } });
      const [secretId, publicId, via] = JSON.parse(cli.stdout.trim() || 'null') ?? [];
      assert.equal(via, 'http', cli.stderr);
      assert.equal(secretId, 'cli-1');
      await allowed.next((e) => e.data === 'public', 10000);
      await plain.next((e) => e.data === 'public', 10000);
      assert.deepEqual(allowed.events.map((e) => [e.data, e.id, e.event]),
        [['secret', 'cli-1', 'note'], ['public', publicId, 'message']]);
      assert.deepEqual(plain.events.map((e) => e.data), ['public']);
    } finally {
      plain.close();
      allowed.close();
    }
  });
});

describe('Mercure on the redis broker, two servers', { timeout: 120000 }, () => {
  let redis;
  let A;
  let B;
  before(async () => {
    const extension = await privateExtension();
    redis = await startRedis();
    const ini = {
      'realtime.allow_anonymous': 1,
      'realtime.mercure_publisher_key': PUB_KEY,
      'realtime.mercure_subscriber_key': SUB_KEY,
    };
    A = await startApp(redis, { extension, ini, name: 'A' });
    B = await startApp(redis, { extension, ini, name: 'B' });
  });
  after(async () => {
    await A?.stop();
    await B?.stop();
    await redis?.stop();
  });

  it('selectors on one server get updates published on the other, every subscriber once', async () => {
    const template = await sub(A.wsPort, topicQuery('https://example.com/authors/{id}'));
    const star = await sub(A.wsPort, topicQuery('*'));
    const exact = await sub(A.wsPort, topicQuery(`${BOOKS}/r`));
    const ws = await connect(A.wsUrl);
    const streams = [template, star, exact];
    try {
      await ws.subscribe(`${BOOKS}/r`);
      // Redis takes A's SUBSCRIBE and PSUBSCRIBE in its own time: probes
      // until both arrive (their events are left out of the counts below).
      await waitFor(async () => {
        await symfonyPublish(B.wsPort, { topics: ['https://example.com/authors/0'], data: 'probe' });
        await symfonyPublish(B.wsPort, { topics: [`${BOOKS}/r`], data: 'probe' });
        return template.events.some((e) => e.data === 'probe') && exact.events.some((e) => e.data === 'probe');
      }, 15000, { interval: 100, message: 'the probes to reach server A' });
      await symfonyPublish(B.wsPort, { topics: ['https://example.com/authors/5'], data: 'author 5' });
      await symfonyPublish(B.wsPort, { topics: [`${BOOKS}/r`], data: 'book r' });
      await symfonyPublish(B.wsPort, { topics: ['https://example.com/other'], data: 'other' });
      await symfonyPublish(B.wsPort, { topics: ['https://example.com/authors/6'], data: 'private', private: true });
      await symfonyPublish(B.wsPort, { topics: ['https://example.com/authors/7'], data: 'last' });
      await template.next((e) => e.data === 'last', 10000);
      await star.next((e) => e.data === 'last', 10000);
      await symfonyPublish(B.wsPort, { topics: [`${BOOKS}/r`], data: 'book last' });
      await exact.next((e) => e.data === 'book last', 10000);
      await waitFor(() => ws.deliveries(`${BOOKS}/r`).some((m) => m.data === 'book last'), 10000,
        { message: 'the WebSocket client to get the last book' });
      const live = (s) => s.events.map((e) => e.data).filter((d) => d !== 'probe');
      assert.deepEqual(live(template), ['author 5', 'last']);
      assert.deepEqual(live(star), ['author 5', 'book r', 'other', 'last', 'book last']);
      assert.deepEqual(live(exact), ['book r', 'book last']);
      const got = ws.deliveries(`${BOOKS}/r`).map((m) => m.data).filter((d) => d !== 'probe');
      assert.deepEqual(got, ['book r', 'book last']);
    } finally {
      for (const s of streams) s.close();
      ws.close();
    }
  });
});

// Issue 17: the configuration docs/symfony.md gives, read from the file and
// run as written: its php.ini settings for the hub, its .env for the app
// (MERCURE_URL with this hub's port), its Hub + StaticTokenProvider code, a
// subscriber's cookie JWT signed with the subscriber key it sets, and
// mercure_publish(), which its settings turn on.
describe('the Symfony configuration of docs/symfony.md', { timeout: 60000 }, () => {
  const doc = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/symfony.md'), 'utf8');
  const block = (lang) => {
    const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc.slice(doc.indexOf('## Mercure')));
    assert.ok(m, `docs/symfony.md has a ${lang} block under "## Mercure"`);
    return m[1];
  };
  const unquote = (v) => v.trim().replace(/^"(.*)"$/, '$1');
  const docIni = {};
  for (const line of block('ini').split('\n')) {
    const m = /^(realtime\.[a-z_]+)\s*=\s*("[^"]*"|[^;\s]+)/.exec(line);
    if (m) docIni[m[1]] = unquote(m[2]);
  }
  const docEnv = {};
  for (const line of block('dotenv').split('\n')) {
    const m = /^([A-Z_]+)=("[^"]*"|\S+)/.exec(line);
    if (m) docEnv[m[1]] = unquote(m[2]);
  }
  let server;
  before(async () => {
    server = await startServer({ docroot: APP, ini: docIni });
  });
  after(async () => {
    await server?.stop();
  });

  function hubPublish(topic, data, isPrivate) {
    const url = new URL(docEnv.MERCURE_URL);
    url.port = String(server.wsPort); // "the hub's port"
    return new Promise((resolve, reject) => {
      execFile(PHP_BIN, [path.join(APP, 'symfony-hub.php'), topic, data, ...(isPrivate ? ['private'] : [])], {
        timeout: 15000,
        env: { ...process.env, MERCURE_URL: url.toString(), MERCURE_JWT_SECRET: docEnv.MERCURE_JWT_SECRET },
      }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`symfony-hub.php: ${err.message} ${stderr}`));
        if (stdout.startsWith('id:')) return resolve(stdout.slice(3));
        reject(new Error(stdout));
      });
    });
  }

  it('has what the page says: both keys, anonymous subscribers, history, mercure_function', () => {
    for (const k of ['realtime.mercure_publisher_key', 'realtime.mercure_subscriber_key', 'realtime.allow_anonymous',
      'realtime.history', 'realtime.mercure_function']) assert.ok(k in docIni, `${k} in the ini block`);
    for (const k of ['MERCURE_URL', 'MERCURE_PUBLIC_URL', 'MERCURE_JWT_SECRET']) assert.ok(k in docEnv, `${k} in the .env block`);
    assert.equal(docEnv.MERCURE_JWT_SECRET, docIni['realtime.mercure_publisher_key'], 'MERCURE_JWT_SECRET = realtime.mercure_publisher_key');
  });

  it('the app publishes with Hub at MERCURE_URL; a private update reaches the cookie-authorized subscriber only', async () => {
    const topic = 'https://example.com/books/1';
    const cookie = `mercureAuthorization=${jwt(docIni['realtime.mercure_subscriber_key'], { mercure: { subscribe: [topic] } })}`;
    const anonymous = await sub(server.wsPort, topicQuery(topic));
    const allowed = await sub(server.wsPort, topicQuery(topic), { headers: { cookie } });
    try {
      assert.equal(anonymous.status, 200);
      assert.equal(allowed.status, 200);
      const pub = await hubPublish(topic, '{"status":"OutOfStock"}');
      const secret = await hubPublish(topic, '{"status":"Reserved"}', true);
      const fn = await server.http(`/fn.php?topic=${encodeURIComponent(topic)}&data=${encodeURIComponent('in process')}`);
      assert.equal(fn.status, 200, fn.body);
      const take = async (s, n) => {
        const got = [];
        for (let i = 0; i < n; i++) got.push(await s.next());
        return got.map((e) => [e.id, e.data]);
      };
      assert.deepEqual(await take(allowed, 3),
        [[pub, '{"status":"OutOfStock"}'], [secret, '{"status":"Reserved"}'], [fn.json.id, 'in process']]);
      assert.deepEqual(await take(anonymous, 2), [[pub, '{"status":"OutOfStock"}'], [fn.json.id, 'in process']]);
      // The history the page turns on resumes after the first update.
      const resumed = await sub(server.wsPort, topicQuery(topic), { headers: { 'last-event-id': pub } });
      try {
        assert.equal((await resumed.next()).id, fn.json.id, 'the public update after it (the private one is not replayed to an anonymous subscriber)');
      } finally {
        resumed.close();
      }
    } finally {
      anonymous.close();
      allowed.close();
    }
  });
});
