// The chat demo in demo/: log in (a PHP session), get a token from
// token.php, connect with it, meet on presence channel "presence-chat",
// see who is typing (client events) and messages (send.php). One browser
// (one cookie) may be logged in with several names, one per tab.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, closeAll, connect, startServer } from './lib/server.mjs';
import { sessionDir } from './lib/identity.mjs';

const ORIGIN = 'http://localhost:8000';
const CHANNEL = 'presence-chat';

describe('chat demo', () => {
  let server;
  const sessions = sessionDir();
  const clients = [];

  const post = (reqPath, fields, cookie) => {
    const body = new URLSearchParams(fields).toString();
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) };
    if (cookie) headers.Cookie = cookie;
    return server.http(reqPath, { method: 'POST', headers, body });
  };
  /** Logs in (into the session of `cookie`, if given); resolves with the new cookie. */
  const login = async (name, cookie) => {
    const res = await post('/login.php', { name }, cookie);
    assert.equal(res.status, 303, res.body);
    const fresh = [].concat(res.headers['set-cookie'] || []).map((c) => c.split(';')[0]).find((c) => c.startsWith('PHPSESSID='));
    assert.ok(fresh, 'session cookie');
    assert.notEqual(fresh, cookie, 'a new session id at login');
    return fresh;
  };
  const tokenFor = async (cookie, name) => {
    const res = await server.http(`/token.php?name=${encodeURIComponent(name)}`, { headers: { Cookie: cookie } });
    assert.equal(res.status, 200, res.body);
    return res.json;
  };
  /** What the page of `name` does: token, connect from the page's origin, subscribe. */
  const join = async (cookie, name) => {
    const { token } = await tokenFor(cookie, name);
    const c = await connect(`${server.wsUrl}?token=${encodeURIComponent(token)}`, { origin: ORIGIN });
    clients.push(c);
    const reply = await c.subscribe(CHANNEL);
    return { c, reply };
  };

  before(async () => {
    server = await startServer({
      docroot: path.join(REPO_ROOT, 'demo'),
      warmup: '/login.php',
      // As scripts/demo.sh sets them (its secret is random per run).
      ini: {
        allowed_origins: `${ORIGIN} http://127.0.0.1:8000`,
        secret: 'demo-test-secret',
        client_events: 1,
        allow_anonymous: 0,
        'session.save_path': sessions,
      },
    });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
    fs.rmSync(sessions, { recursive: true, force: true });
  });

  it('without a login, the page redirects to login.php and the JSON endpoints answer 401', async () => {
    const page = await server.http('/?as=Ann');
    assert.equal(page.status, 302);
    assert.equal(page.headers.location, 'login.php');
    assert.equal((await server.http('/token.php?name=Ann')).status, 401);
    const send = await post('/send.php', { name: 'Ann', text: 'hi' });
    assert.equal(send.status, 401);
    assert.equal(send.json.ok, false);
    // Nor may anyone connect without a token.
    await assert.rejects(connect(server.wsUrl, { origin: ORIGIN }), /HTTP 401/);
  });

  it('login.php shows a form, refuses bad names with 400 and escapes what it echoes', async () => {
    const form = await server.http('/login.php');
    assert.equal(form.status, 200);
    assert.match(form.body, /<form method="post" action="login.php">/);
    for (const name of ['', '   ', 'n'.repeat(33)]) {
      const res = await post('/login.php', { name });
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.match(res.body, /Your name must be 1 to 32 characters/);
    }
    const evil = await post('/login.php', { name: `<script>alert(1)</script>${'x'.repeat(30)}` });
    assert.equal(evil.status, 400);
    assert.ok(!evil.body.includes('<script>alert(1)'), 'the name is escaped');
    assert.ok(evil.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('login.php opens the page as the new name; the page escapes it', async () => {
    const name = '<b>Bo</b> "B"';
    const res0 = await post('/login.php', { name });
    assert.equal(res0.headers.location, `./?as=${encodeURIComponent(name)}`);
    const cookie = await login(name);
    const res = await server.http(`/?as=${encodeURIComponent(name)}`, { headers: { Cookie: cookie } });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /text\/html/);
    const config = /const RT = (\{.*\});/.exec(res.body);
    assert.ok(config, 'RT config in page');
    assert.ok(!config[1].includes('<') && !config[1].includes('"B\\"'), 'JSON_HEX_* escaping in the script');
    assert.deepEqual(JSON.parse(config[1]), { port: server.wsPort, path: '/ws', channel: CHANNEL, me: '<b>Bo</b> "B"' });
    assert.ok(res.body.includes('Signed in as <strong>&lt;b&gt;Bo&lt;/b&gt; &quot;B&quot;</strong>'));
    assert.ok(res.body.includes('<input type="hidden" name="name" value="&lt;b&gt;Bo&lt;/b&gt; &quot;B&quot;">'));
    assert.ok(!res.body.includes('class="notice"'), 'no warning banner');
  });

  it('token.php signs a token for a name of the session, for presence-chat only', async () => {
    const cookie = await login('  Tess   T  ');
    const body = await tokenFor(cookie, 'Tess T');
    assert.equal(body.user, 'Tess T');
    const payload = JSON.parse(Buffer.from(body.token.split('.')[0], 'base64url').toString('utf8'));
    assert.equal(payload.uid, 'Tess T');
    assert.deepEqual(payload.info, { name: 'Tess T' });
    assert.deepEqual(payload.channels, [CHANNEL]);
    const ttl = payload.exp - Math.floor(Date.now() / 1000);
    assert.ok(ttl > 590 && ttl <= 600, `ttl ${ttl}`);
    const { c } = await join(cookie, 'Tess T');
    assert.equal(c.hello.user_id, 'Tess T');
    assert.equal((await c.request({ action: 'subscribe', channel: 'private-elsewhere' })).code, 'forbidden');
    c.close();
    // Not for a name this browser did not log in with.
    assert.equal((await server.http('/token.php?name=Ann', { headers: { Cookie: cookie } })).status, 401);
    assert.equal((await server.http('/token.php', { headers: { Cookie: cookie } })).status, 401);
  });

  it('two users see each other online, see typing, and see a message', async () => {
    const ann = await login('Ann');
    const ben = await login('Ben');

    const { c: a, reply: aReply } = await join(ann, 'Ann');
    assert.ok(aReply.members.some((m) => m.id === 'Ann' && m.info.name === 'Ann'));
    const { c: b, reply: bReply } = await join(ben, 'Ben');
    assert.deepEqual(
      bReply.members.filter((m) => ['Ann', 'Ben'].includes(m.id)).sort((x, y) => x.id.localeCompare(y.id)),
      [{ id: 'Ann', info: { name: 'Ann' } }, { id: 'Ben', info: { name: 'Ben' } }],
    );
    assert.deepEqual((await a.next((m) => m.type === 'member_added')).member, { id: 'Ben', info: { name: 'Ben' } });

    // Ann types: the page whispers "typing"; Ben's page shows "Ann is typing…".
    a.send({ action: 'whisper', channel: CHANNEL, event: 'typing', data: {} });
    const typing = await b.next((m) => m.type === 'whisper');
    assert.equal(typing.event, 'typing');
    assert.equal(typing.from.user_id, 'Ann');

    // Ann sends; she cannot send as Ben, whom her browser is not logged in as.
    assert.equal((await post('/send.php', { text: 'hi', name: 'Ben' }, ann)).status, 401);
    const t0 = Math.floor(Date.now() / 1000);
    const res = await post('/send.php', { text: '  hello <b>world</b> ☃  ', name: 'Ann' }, ann);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { ok: true });
    for (const c of [a, b]) {
      const m = await c.next((x) => x.type === 'message');
      assert.equal(m.channel, CHANNEL);
      assert.equal(m.event, 'message');
      assert.equal(m.data.name, 'Ann');
      assert.equal(m.data.text, 'hello <b>world</b> ☃');
      assert.ok(Math.abs(m.data.at - t0) <= 5, `at ${m.data.at}`);
    }

    // Ben leaves: Ann's page drops him from the list.
    b.ws.close();
    assert.deepEqual((await a.next((m) => m.type === 'member_removed')).member, { id: 'Ben' });
  });

  it('send.php rejects bad input with 400 and GET with 405', async () => {
    const cookie = await login('Val');
    for (const fields of [{ name: 'Val', text: '' }, { name: 'Val', text: '   ' }, { name: 'Val', text: 't'.repeat(501) }, { name: 'Val' }]) {
      const res = await post('/send.php', fields, cookie);
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.equal(res.json.ok, false);
      assert.equal(typeof res.json.error, 'string');
    }
    // Limits count characters, not bytes.
    assert.equal((await post('/send.php', { name: 'Val', text: '☃'.repeat(500) }, cookie)).status, 200);
    assert.equal((await server.http('/send.php', { headers: { Cookie: cookie } })).status, 405);
  });

  it('one browser, two tabs, two names; logout.php logs one out and closes its pages with 4009', async () => {
    const first = await login('Lou');
    const cookie = await login('Max', first); // the second tab, same browser
    // Each tab's page is for its name (?as=); without one, log in.
    assert.match((await server.http('/?as=Lou', { headers: { Cookie: cookie } })).body, /"me":"Lou"/);
    assert.match((await server.http('/?as=Max', { headers: { Cookie: cookie } })).body, /"me":"Max"/);
    assert.equal((await server.http('/', { headers: { Cookie: cookie } })).status, 302);
    assert.equal((await server.http('/?as=Nobody', { headers: { Cookie: cookie } })).status, 302);
    // The login page offers both names.
    const page = (await server.http('/login.php', { headers: { Cookie: cookie } })).body;
    assert.ok(page.includes('<a href="./?as=Lou">Lou</a>') && page.includes('<a href="./?as=Max">Max</a>'));
    const { c: lou } = await join(cookie, 'Lou');
    const { c: max } = await join(cookie, 'Max');
    assert.equal(lou.hello.user_id, 'Lou');
    assert.equal(max.hello.user_id, 'Max');

    const out = await post('/logout.php', { name: 'Max' }, cookie);
    assert.equal(out.status, 303);
    assert.equal(out.headers.location, 'login.php');
    assert.equal((await max.waitClose()).code, 4009);
    assert.equal((await server.http('/token.php?name=Max', { headers: { Cookie: cookie } })).status, 401);
    // Lou's tab goes on.
    await lou.flush();
    assert.equal((await server.http('/token.php?name=Lou', { headers: { Cookie: cookie } })).status, 200);
    assert.equal((await post('/logout.php', { name: 'Lou' }, cookie)).status, 303);
    assert.equal((await lou.waitClose()).code, 4009);
    assert.equal((await server.http('/?as=Lou', { headers: { Cookie: cookie } })).status, 302);
    assert.equal((await server.http('/logout.php')).status, 405);
  });
});
