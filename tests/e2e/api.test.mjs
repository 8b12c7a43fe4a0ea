// The PHP API beyond broadcast(): messages to users and connections,
// broadcast() to several channels and with $except, disconnectUser(), and
// the queries getChannelUsers(), getChannels(), getConnectionCount(),
// getSubscriberCount(). PHP calls go through app/api.php.
//
// Everything PHP sends reaches the hub in order, so "X did not get it" is
// checked by sending a second message that X does get and looking at what
// arrived before it. Counts and member lists follow joins and leaves a
// moment later (the app-wide view), so queries are polled with a deadline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, startServer, waitFor } from './lib/server.mjs';
import { ODD_USER_IDS, api, call, connectWithToken, issueToken } from './lib/identity.mjs';

const SECRET = 'api-test-secret';

describe('PHP API', () => {
  let server;
  const clients = [];

  const as = async (id, { info, channels = ['private-*', 'presence-*'] } = {}) => {
    const options = { channels };
    if (info !== undefined) options.info = info;
    const c = await connectWithToken(server, await issueToken(server, id, options));
    clients.push(c);
    return c;
  };
  const anonymous = async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    return c;
  };
  /** Waits for the message carrying `marker` and returns what c got before it (all taken). */
  const upTo = async (c, marker) => {
    await c.next((m) => m.type === 'message' && m.data === marker);
    const i = c.received.findIndex((m) => m.type === 'message' && m.data === marker);
    const before = c.received.slice(0, i);
    c.inbox.length = 0;
    return before;
  };
  const messages = (list, pred = () => true) => list.filter((m) => m.type === 'message' && pred(m));
  const sortById = (users) => [...users].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  before(async () => {
    server = await startServer({ ini: { secret: SECRET, allow_anonymous: 1 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('getConnectionCount() counts open connections, anonymous ones included', async () => {
    const base = await call(server, 'getConnectionCount');
    assert.equal(typeof base, 'number');
    const a = await as('count-a');
    await as('count-a');
    await anonymous();
    await waitFor(async () => (await call(server, 'getConnectionCount')) === base + 3, 3000, { message: 'count +3' });
    a.ws.close();
    await a.waitClose();
    await waitFor(async () => (await call(server, 'getConnectionCount')) === base + 2, 3000, { message: 'count +2' });
    assert.equal((await server.health()).connections, base + 2);
  });

  it('getChannels() maps occupied channels to subscriber counts; getSubscriberCount() gives one', async () => {
    const a = await as('chan-a');
    const b = await anonymous();
    await a.subscribe('api-news');
    await b.subscribe('api-news');
    await a.subscribe('private-api');
    await waitFor(async () => {
      const channels = await call(server, 'getChannels');
      return channels['api-news'] === 2 && channels['private-api'] === 1;
    }, 3000, { message: 'getChannels() to show both channels' });
    assert.equal(await call(server, 'getSubscriberCount', 'api-news'), 2);
    assert.equal(await call(server, 'getSubscriberCount', 'private-api'), 1);
    assert.equal(await call(server, 'getSubscriberCount', 'api-nobody-here'), 0);

    await b.unsubscribe('api-news');
    await a.unsubscribe('private-api');
    await waitFor(async () => (await call(server, 'getSubscriberCount', 'api-news')) === 1, 3000);
    await waitFor(async () => !('private-api' in (await call(server, 'getChannels'))), 3000, { message: 'private-api to be gone' });
    assert.equal(await call(server, 'getSubscriberCount', 'private-api'), 0);
  });

  it('getChannelUsers() lists each user once with the info, anonymous subscribers not at all', async () => {
    const ch = 'presence-api-users';
    assert.deepEqual(await call(server, 'getChannelUsers', ch), []);
    const u1a = await as('u1', { info: { name: 'One' } });
    const u1b = await as('u1', { info: { name: 'One' } });
    const u2 = await as('u2');
    for (const c of [u1a, u1b, u2]) await c.subscribe(ch);
    const expected = [
      { id: 'u1', info: { name: 'One' } },
      { id: 'u2', info: null },
    ];
    await waitFor(async () => JSON.stringify(sortById(await call(server, 'getChannelUsers', ch))) === JSON.stringify(expected), 3000, {
      message: 'getChannelUsers() to list u1 and u2',
    });
    assert.equal(await call(server, 'getSubscriberCount', ch), 3);

    // Users are counted on public channels too; anonymous connections are no users.
    const pub = 'api-public-users';
    await u2.subscribe(pub);
    await (await anonymous()).subscribe(pub);
    await waitFor(async () => JSON.stringify(await call(server, 'getChannelUsers', pub)) === JSON.stringify([{ id: 'u2', info: null }]), 3000);
    assert.equal(await call(server, 'getSubscriberCount', pub), 2);

    // One tab leaving keeps the user; the last one removes it.
    await u1a.unsubscribe(ch);
    await u2.unsubscribe(ch);
    await waitFor(async () => JSON.stringify(await call(server, 'getChannelUsers', ch)) === JSON.stringify([{ id: 'u1', info: { name: 'One' } }]), 3000);
    u1b.close();
    await waitFor(async () => (await call(server, 'getChannelUsers', ch)).length === 0, 3000);
  });

  it('broadcastToUser() reaches every tab of the user and nobody else, without a channel', async () => {
    const tab1 = await as('multi-tab');
    const tab2 = await as('multi-tab');
    const other = await as('someone-else');
    await call(server, 'broadcastToUser', 'multi-tab', { n: 1 }, 'note');
    for (const tab of [tab1, tab2]) {
      const m = await tab.next((x) => x.type === 'message');
      assert.deepEqual(m, { type: 'message', event: 'note', data: { n: 1 } });
    }
    // No event: no "event" field; a string arrives as a string.
    await call(server, 'broadcastToUser', 'multi-tab', 'plain');
    assert.deepEqual(await tab1.next((x) => x.type === 'message'), { type: 'message', data: 'plain' });
    await call(server, 'broadcastToUser', 'someone-else', 'marker-1');
    assert.deepEqual(messages(await upTo(other, 'marker-1')), [], 'the other user got nothing before the marker');
    // A user with no connection: nothing happens, no error.
    assert.equal(await call(server, 'broadcastToUser', 'nobody-at-all', 'x'), null);
  });

  it('broadcastToUser() takes an integer id as its decimal string', async () => {
    const c = await as(4242);
    assert.equal(c.hello.user_id, '4242');
    await call(server, 'broadcastToUser', 4242, 'by int');
    await call(server, 'broadcastToUser', '4242', 'by string');
    assert.equal((await c.next((m) => m.type === 'message')).data, 'by int');
    assert.equal((await c.next((m) => m.type === 'message')).data, 'by string');
  });

  it('send() reaches one connection only, by the id its client was given', async () => {
    const tab1 = await as('sender-user');
    const tab2 = await as('sender-user');
    const anon = await anonymous();
    await call(server, 'send', tab1.connectionId, { secret: 'for tab1' }, 'private-note');
    assert.deepEqual(await tab1.next((m) => m.type === 'message'), { type: 'message', event: 'private-note', data: { secret: 'for tab1' } });
    await call(server, 'send', tab2.connectionId, 'marker-2');
    assert.deepEqual(messages(await upTo(tab2, 'marker-2')), [], 'the other tab got nothing');
    // Anonymous connections can be addressed too.
    await call(server, 'send', anon.connectionId, [1, 2, 3]);
    assert.deepEqual(await anon.next((m) => m.type === 'message'), { type: 'message', data: [1, 2, 3] });
    // An unknown connection id is not an error.
    assert.equal(await call(server, 'send', '999999.999999', 'lost'), null);
  });

  it('broadcast() with $except skips that connection only', async () => {
    const ch = 'api-except';
    const me = await as('except-me');
    const myOtherTab = await as('except-me');
    const you = await anonymous();
    for (const c of [me, myOtherTab, you]) await c.subscribe(ch);
    await call(server, 'broadcast', ch, { text: 'hi' }, 'said', me.connectionId);
    for (const c of [myOtherTab, you]) {
      assert.deepEqual(await c.next((m) => m.type === 'message'), { type: 'message', channel: ch, event: 'said', data: { text: 'hi' } });
    }
    await call(server, 'broadcast', ch, 'marker-3');
    assert.deepEqual(messages(await upTo(me, 'marker-3')), [], 'the sender got its own message');
    await upTo(myOtherTab, 'marker-3');
    await upTo(you, 'marker-3');
    // An $except that matches nobody skips nobody.
    await call(server, 'broadcast', ch, 'to all', null, '1.1');
    for (const c of [me, myOtherTab, you]) assert.equal((await c.next((m) => m.type === 'message')).data, 'to all');
  });

  it('broadcast() to several channels delivers once per channel, each message with its channel', async () => {
    const both = await anonymous();
    const onlyA = await anonymous();
    await both.subscribe('api-multi-a');
    await both.subscribe('api-multi-b');
    await onlyA.subscribe('api-multi-a');
    await call(server, 'broadcast', ['api-multi-a', 'api-multi-b', 'api-multi-empty'], { v: 1 }, 'multi');
    await call(server, 'broadcast', ['api-multi-a', 'api-multi-b'], 'marker-4');
    const gotBoth = messages(await upTo(both, 'marker-4'), (m) => m.event === 'multi');
    assert.deepEqual(gotBoth.map((m) => m.channel).sort(), ['api-multi-a', 'api-multi-b']);
    for (const m of gotBoth) assert.deepEqual(m.data, { v: 1 });
    const gotA = messages(await upTo(onlyA, 'marker-4'), (m) => m.event === 'multi');
    assert.deepEqual(gotA, [{ type: 'message', channel: 'api-multi-a', event: 'multi', data: { v: 1 } }]);
    // With $except.
    await call(server, 'broadcast', ['api-multi-a', 'api-multi-b'], 'not for both', null, both.connectionId);
    await call(server, 'broadcast', ['api-multi-a', 'api-multi-b'], 'marker-5');
    assert.deepEqual(messages(await upTo(both, 'marker-5'), (m) => m.data === 'not for both'), []);
  });

  it('disconnectUser() closes every tab of the user with 4009; the user may come back', async () => {
    const token = await issueToken(server, 'kicked');
    const tab1 = await connectWithToken(server, token);
    const tab2 = await connectWithToken(server, token);
    const bystander = await as('bystander');
    clients.push(tab1, tab2);
    await tab1.subscribe('api-kick');
    assert.equal(await call(server, 'disconnectUser', 'kicked'), null);
    for (const tab of [tab1, tab2]) {
      const info = await tab.waitClose();
      assert.equal(info.code, 4009);
      assert.equal(info.reason, 'disconnected by the app');
    }
    assert.ok(bystander.isOpen);
    await bystander.flush();
    // The app would stop issuing tokens; this one is still valid.
    const back = await connectWithToken(server, token);
    clients.push(back);
    await back.subscribe('api-kick');
    // Nobody connected as that user: no error.
    assert.equal(await call(server, 'disconnectUser', 'not-connected'), null);
    assert.equal(await call(server, 'disconnectUser', 12345), null);
  });

  it('odd user ids round-trip through broadcastToUser(), getChannelUsers() and disconnectUser()', async () => {
    const ch = 'presence-api-odd';
    const conns = [];
    for (const id of ODD_USER_IDS) {
      const c = await as(id, { info: { id } });
      await c.subscribe(ch);
      conns.push(c);
    }
    await waitFor(async () => (await call(server, 'getChannelUsers', ch)).length === ODD_USER_IDS.length, 3000);
    const users = await call(server, 'getChannelUsers', ch);
    assert.deepEqual(sortById(users), sortById(ODD_USER_IDS.map((id) => ({ id, info: { id } }))));
    for (const [i, id] of ODD_USER_IDS.entries()) {
      await call(server, 'broadcastToUser', id, `for ${id}`);
      assert.equal((await conns[i].next((m) => m.type === 'message')).data, `for ${id}`);
    }
    await call(server, 'disconnectUser', ODD_USER_IDS[0]);
    assert.equal((await conns[0].waitClose()).code, 4009);
    for (const c of conns.slice(1)) await c.flush();
  });

  it('bad arguments throw ValueError or TypeError', async () => {
    const cases = [
      ['broadcastToUser', ['', 'x'], 'ValueError', /Argument #1 \(\$userId\) must be 1 to 128 bytes of UTF-8 without control characters/],
      ['broadcastToUser', ['a\nb', 'x'], 'ValueError', /Argument #1/],
      ['broadcastToUser', ['x'.repeat(129), 'x'], 'ValueError', /Argument #1/],
      ['broadcastToUser', ['u', 'x', ''], 'ValueError', /Argument #3 \(\$event\)/],
      ['disconnectUser', [''], 'ValueError', /Argument #1/],
      ['disconnectUser', ['tab\there'], 'ValueError', /Argument #1/],
      ['send', ['', 'x'], 'ValueError', /Argument #1 \(\$connectionId\) must be a connection id/],
      ['send', ['x'.repeat(65), 'x'], 'ValueError', /Argument #1/],
      ['send', ['1.1', 'x', 'e'.repeat(201)], 'ValueError', /Argument #3/],
      ['broadcast', [[], 'x'], 'ValueError', /must name 1 to 100 channels/],
      ['broadcast', [['ok', 'bad channel'], 'x'], 'ValueError', /must be a channel name/],
      ['broadcast', [['ok', 7], 'x'], 'TypeError', /must be a string or an array of strings/],
      ['broadcast', [Array.from({ length: 101 }, (_, i) => `c${i}`), 'x'], 'ValueError', /must name 1 to 100 channels/],
      ['getChannelUsers', ['bad channel'], 'ValueError', /must be a channel name/],
      ['getSubscriberCount', [''], 'ValueError', /must be a channel name/],
      ['broadcastToUser', [1.5, 'x'], 'TypeError', /must be of type string\|int/],
    ];
    for (const [fn, args, cls, message] of cases) {
      const res = await api(server, fn, ...args);
      const what = `${fn}(${JSON.stringify(args).slice(0, 60)})`;
      assert.equal(res.json?.class, cls, `${what}: ${res.body}`);
      assert.match(res.json.error, message, what);
    }
    // 128 bytes is the longest id.
    assert.equal(await call(server, 'broadcastToUser', 'ü'.repeat(64), 'x'), null);
  });
});

describe('PHP API without a hub in the process', () => {
  let server;
  before(async () => {
    server = await startServer({ ini: { enabled: 0 }, waitHub: false });
  });
  after(async () => {
    await server?.stop();
  });

  it('queries throw Realtime\\Exception', async () => {
    for (const [fn, args] of [
      ['getChannelUsers', ['presence-x']],
      ['getChannels', []],
      ['getConnectionCount', []],
      ['getSubscriberCount', ['x']],
    ]) {
      const res = await api(server, fn, ...args);
      assert.equal(res.status, 500, `${fn}: ${res.body}`);
      assert.equal(res.json.class, 'Realtime\\Exception');
      assert.equal(res.json.error, `Realtime\\${fn}(): no hub is running in this process`);
    }
  });

  it('sending throws Realtime\\Exception', async () => {
    for (const [fn, args] of [
      ['broadcast', ['x', 'y']],
      ['broadcastToUser', ['u', 'y']],
      ['send', ['1.1', 'y']],
      ['disconnectUser', ['u']],
    ]) {
      const res = await api(server, fn, ...args);
      assert.equal(res.status, 500, `${fn}: ${res.body}`);
      assert.equal(res.json.class, 'Realtime\\Exception', fn);
      assert.match(res.json.error, new RegExp(`^Realtime\\\\${fn}\\(\\): `));
    }
  });
});
