// Private and presence channels: who may join (the channel patterns of a
// token or an auth endpoint answer), the member list in the subscribe
// reply, member_added / member_removed, and one member per user however
// many tabs (connections) the user has open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, startServer } from './lib/server.mjs';
import { ODD_USER_IDS, connectWithToken, issueToken } from './lib/identity.mjs';

const SECRET = 'presence-test-secret';

describe('private and presence channels', () => {
  let server;
  const clients = [];

  /** A connection of user `id` (token with `info` and `channels`). */
  const as = async (id, { info, channels = ['private-*', 'presence-*'] } = {}) => {
    const options = { channels };
    if (info !== undefined) options.info = info;
    const c = await connectWithToken(server, await issueToken(server, id, options));
    clients.push(c);
    return c;
  };
  const forbidden = async (c, channel) => {
    const reply = await c.request({ action: 'subscribe', channel });
    assert.equal(reply.type, 'error', `${channel}: ${JSON.stringify(reply)}`);
    assert.equal(reply.code, 'forbidden', channel);
    assert.equal(typeof reply.message, 'string');
  };
  /**
   * Member events reach clients a moment after the join or leave that
   * causes them (through the app-wide view), in order. A barrier user
   * joining and leaving presence channel `ch` makes sure that everything
   * caused before has arrived at `watchers` (who must be on `ch`).
   */
  let barriers = 0;
  const settle = async (ch, ...watchers) => {
    const id = `barrier-${++barriers}`;
    const b = await as(id);
    await b.subscribe(ch);
    for (const w of watchers) await w.next((m) => m.type === 'member_added' && m.member.id === id);
    await b.unsubscribe(ch);
    for (const w of watchers) await w.next((m) => m.type === 'member_removed' && m.member.id === id);
    b.close();
  };
  /** Asserts that no message matching `pred` is waiting in c's inbox. */
  const nothing = (c, pred, what) => {
    assert.equal(c.inbox.filter(pred).length, 0, `${what}: ${JSON.stringify(c.inbox.filter(pred))}`);
  };
  const byId = (members) => [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  before(async () => {
    server = await startServer({ ini: { secret: SECRET, allow_anonymous: 1 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('a private channel needs a matching pattern; others are forbidden', async () => {
    const c = await as('p1', { channels: ['private-chat.*', 'private-exact', 'presence-room'] });
    for (const ok of ['private-chat.1', 'private-chat.a.b', 'private-chat.', 'private-exact', 'presence-room']) {
      const reply = await c.subscribe(ok);
      assert.equal(reply.channel, ok);
    }
    for (const no of ['private-chat', 'private-chatx', 'private-exact2', 'private-other', 'presence-room2', 'presence-other']) {
      await forbidden(c, no);
    }
    // Public channels need no pattern.
    await c.subscribe('chat.1');
    // A forbidden subscribe changes nothing: the connection is not on the channel.
    const none = await as('p1-none', { channels: [] });
    await forbidden(none, 'private-chat.1');
    await forbidden(none, 'presence-room');
  });

  it('patterns: "*" anywhere, several stars, and "*" alone for every channel', async () => {
    const c = await as('p2', { channels: ['private-user.*.inbox', 'presence-team-*-*'] });
    await c.subscribe('private-user.42.inbox');
    await c.subscribe('private-user..inbox');
    await forbidden(c, 'private-user.42.outbox');
    await c.subscribe('presence-team-a-b');
    await c.subscribe('presence-team--');
    await forbidden(c, 'presence-team-a');
    const all = await as('p2-all', { channels: ['*'] });
    await all.subscribe('private-anything');
    await all.subscribe('presence-anything');
  });

  it('an anonymous connection may join neither private nor presence channels', async () => {
    const anon = await connect(server.wsUrl);
    clients.push(anon);
    await forbidden(anon, 'private-x');
    await forbidden(anon, 'presence-x');
  });

  it('the subscribe reply lists the members; others get member_added with the info', async () => {
    const ch = 'presence-list';
    const a = await as('ann', { info: { name: 'Ann', avatar: null } });
    const first = await a.subscribe(ch);
    assert.deepEqual(first, { type: 'subscribed', channel: ch, id: first.id, members: [{ id: 'ann', info: { name: 'Ann', avatar: null } }] });

    const b = await as('bob'); // no info: null
    const second = await b.subscribe(ch);
    assert.deepEqual(byId(second.members), [
      { id: 'ann', info: { name: 'Ann', avatar: null } },
      { id: 'bob', info: null },
    ]);
    const added = await a.next((m) => m.type === 'member_added');
    assert.deepEqual(added, { type: 'member_added', channel: ch, member: { id: 'bob', info: null } });
    // Nobody gets news of themselves.
    await settle(ch, a, b);
    nothing(b, (m) => m.type === 'member_added', 'bob told about bob');
  });

  it('two tabs of one user are one member; member_removed only when the last tab leaves', async () => {
    const ch = 'presence-tabs';
    const watcher = await as('watcher');
    await watcher.subscribe(ch);

    const tab1 = await as('tabby', { info: { name: 'Tabby' } });
    const tab2 = await as('tabby', { info: { name: 'Tabby' } });
    await tab1.subscribe(ch);
    assert.deepEqual((await watcher.next((m) => m.type === 'member_added')).member, { id: 'tabby', info: { name: 'Tabby' } });

    const reply2 = await tab2.subscribe(ch);
    assert.deepEqual(byId(reply2.members).map((m) => m.id), ['tabby', 'watcher'], 'tabby listed once');
    await settle(ch, watcher, tab1);
    nothing(watcher, (m) => m.type === 'member_added', 'second tab announced');
    nothing(tab1, (m) => m.type === 'member_added', 'tab1 told about its own second tab');

    // The first tab leaves by unsubscribing: the user is still there.
    await tab1.unsubscribe(ch);
    await settle(ch, watcher);
    nothing(watcher, (m) => m.type === 'member_removed', 'removed while a tab remains');
    const late = await as('late');
    const lateReply = await late.subscribe(ch);
    assert.deepEqual(byId(lateReply.members).map((m) => m.id), ['late', 'tabby', 'watcher']);
    await watcher.next((m) => m.type === 'member_added' && m.member.id === 'late');

    // The last tab leaves by closing its socket.
    tab2.ws.close();
    await tab2.waitClose();
    const removed = await watcher.next((m) => m.type === 'member_removed');
    assert.deepEqual(removed, { type: 'member_removed', channel: ch, member: { id: 'tabby' } });
    assert.deepEqual((await late.next((m) => m.type === 'member_removed')).member, { id: 'tabby' });
    await settle(ch, watcher);
    nothing(watcher, (m) => m.type === 'member_removed', 'a second member_removed');
  });

  it('a user rejoining after leaving is announced again', async () => {
    const ch = 'presence-rejoin';
    const w = await as('w2');
    await w.subscribe(ch);
    const r = await as('rejoiner');
    await r.subscribe(ch);
    await w.next((m) => m.type === 'member_added');
    await r.unsubscribe(ch);
    assert.equal((await w.next((m) => m.type === 'member_removed')).member.id, 'rejoiner');
    await r.subscribe(ch);
    assert.equal((await w.next((m) => m.type === 'member_added')).member.id, 'rejoiner');
  });

  it('subscribing twice is no second membership', async () => {
    const ch = 'presence-twice';
    const w = await as('w3');
    await w.subscribe(ch);
    const t = await as('twice');
    await t.subscribe(ch);
    const again = await t.subscribe(ch);
    assert.deepEqual(byId(again.members).map((m) => m.id), ['twice', 'w3']);
    await w.next((m) => m.type === 'member_added');
    await t.unsubscribe(ch);
    assert.equal((await w.next((m) => m.type === 'member_removed')).member.id, 'twice');
  });

  it('private channels carry no member events', async () => {
    const ch = 'private-quiet';
    const a = await as('qa');
    const b = await as('qb');
    const reply = await a.subscribe(ch);
    assert.equal(reply.members, undefined);
    await a.subscribe('presence-quiet-barrier');
    await b.subscribe(ch);
    await b.unsubscribe(ch);
    await settle('presence-quiet-barrier', a);
    nothing(a, (m) => m.type === 'member_added' || m.type === 'member_removed', 'member events on a private channel');
  });

  it('odd user ids and integer ids round-trip through member lists and events', async () => {
    const ch = 'presence-odd';
    const w = await as('odd-watcher');
    await w.subscribe(ch);
    const ids = [...ODD_USER_IDS];
    for (const id of ids) {
      const c = await as(id, { info: { label: id } });
      await c.subscribe(ch);
      const added = await w.next((m) => m.type === 'member_added');
      assert.deepEqual(added.member, { id, info: { label: id } });
    }
    const n = await connectWithToken(server, await issueToken(server, 7, { channels: ['presence-*'] }));
    clients.push(n);
    const reply = await n.subscribe(ch);
    assert.deepEqual(byId(reply.members).map((m) => m.id), byId([...ids, 'odd-watcher', '7'].map((id) => ({ id }))).map((m) => m.id));
    assert.deepEqual((await w.next((m) => m.type === 'member_added')).member, { id: '7', info: null });
  });
});
