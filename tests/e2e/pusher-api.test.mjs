// The Pusher HTTP API on the hub port, driven by the `pusher` server SDK
// (as Laravel's pusher broadcaster uses it), and webhooks checked with the
// SDK's own validation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { METRICS_KEY, httpRequest, waitFor } from './lib/server.mjs';
import {
  APP,
  Clients,
  Recorder,
  backend,
  signedPath,
  startPusherServer,
  subscribed,
  webhookReceiver,
} from './pusher-helpers.mjs';

describe('Pusher HTTP API', () => {
  let server;
  let hooks;
  let sdk;
  const clients = new Clients();

  before(async () => {
    hooks = await webhookReceiver();
    server = await startPusherServer({ webhook_url: hooks.url, webhook_delay: 0 });
    sdk = backend(server);
  });
  after(async () => {
    clients.closeAll();
    await server?.stop();
    await hooks?.close();
  });

  /** Waits until GET path (with info on both counts) answers `expected`. */
  async function settled(path, expected) {
    let last;
    await waitFor(
      async () => {
        const res = await sdk.get({ path, params: { info: path.includes('/presence-') ? 'user_count,subscription_count' : 'subscription_count' } });
        last = await res.json();
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      5000,
      { message: `${path} to answer ${JSON.stringify(expected)} (last: ${JSON.stringify(last)})` },
    );
  }

  /** A pusher-js client subscribed to each of names, with a Recorder per channel. */
  async function subscriber(names, opts) {
    const p = await clients.pusher(server, opts);
    const recs = {};
    for (const name of names) {
      const ch = p.subscribe(name);
      await subscribed(ch);
      recs[name] = new Recorder(ch);
    }
    return { p, recs };
  }

  it('triggers one event to several channels and answers {}', async () => {
    const { recs } = await subscriber(['api-a', 'api-b']);
    const res = await sdk.trigger(['api-a', 'api-b'], 'Updated', { n: 1, s: 'x' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    for (const name of ['api-a', 'api-b']) {
      const e = await recs[name].next((x) => x.event === 'Updated');
      assert.deepEqual(e.data, { n: 1, s: 'x' });
    }
    // /metrics: the event counted once as from the Pusher API, the
    // subscriber as a Pusher WebSocket session (issue 16).
    const text = (await httpRequest(server.wsPort, '/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` } })).body;
    assert.match(text, /^realtime_messages_published_total\{source="pusher_api"\} [1-9]\d*$/m);
    assert.match(text, /^realtime_sessions\{protocol="pusher",transport="websocket"\} [1-9]\d*$/m);
  });

  it('skips the connection named by socket_id and reports channel info', async () => {
    const one = await subscriber(['presence-api', 'api-c'], { authParams: { user_id: 'api-1', name: 'One' } });
    const two = await subscriber(['presence-api', 'api-c'], { authParams: { user_id: 'api-2', name: 'Two' } });
    // Counts come from the app-wide view, which hears of subscriptions
    // through the broker a moment after they are acknowledged.
    await settled('/channels/presence-api', { occupied: true, user_count: 2, subscription_count: 2 });
    await settled('/channels/api-c', { occupied: true, subscription_count: 2 });
    const res = await sdk.trigger(['api-c', 'presence-api'], 'Ping', 'p', {
      socket_id: one.p.connection.socket_id,
      info: 'user_count,subscription_count',
    });
    assert.deepEqual(await res.json(), {
      channels: {
        'api-c': { subscription_count: 2 },
        'presence-api': { user_count: 2, subscription_count: 2 },
      },
    });
    assert.equal((await two.recs['api-c'].next((e) => e.event === 'Ping')).data, 'p');
    await two.recs['presence-api'].next((e) => e.event === 'Ping');
    // The excluded connection got neither; a later event proves the order.
    await sdk.trigger('api-c', 'After', {});
    await one.recs['api-c'].next((e) => e.event === 'After');
    assert.equal(one.recs['api-c'].events.filter((e) => e.event === 'Ping').length, 0);
    assert.equal(one.recs['presence-api'].events.length, 0);
  });

  it('triggers a batch', async () => {
    const { recs } = await subscriber(['batch-1', 'batch-2']);
    await settled('/channels/batch-2', { occupied: true, subscription_count: 1 });
    const res = await sdk.triggerBatch([
      { channel: 'batch-1', name: 'First', data: { i: 1 } },
      { channel: 'batch-2', name: 'Second', data: JSON.stringify({ i: 2 }), info: 'subscription_count' },
    ]);
    assert.deepEqual(await res.json(), { batch: [{}, { subscription_count: 1 }] });
    assert.deepEqual((await recs['batch-1'].next()).data, { i: 1 });
    assert.deepEqual((await recs['batch-2'].next()).data, { i: 2 });

    const tooMany = Array.from({ length: 11 }, (_, i) => ({ channel: 'batch-1', name: 'E', data: String(i) }));
    await assert.rejects(sdk.triggerBatch(tooMany), (e) => e.status === 400);
  });

  it('answers channel queries: /channels, /channels/{name}, /channels/{name}/users', async () => {
    await subscriber(['presence-q', 'q-public'], { authParams: { user_id: 'q-1', name: 'Q1' } });
    await subscriber(['presence-q'], { authParams: { user_id: 'q-1', name: 'Q1' } });
    await subscriber(['presence-q'], { authParams: { user_id: 'q-2', name: 'Q2' } });
    await settled('/channels/presence-q', { occupied: true, user_count: 2, subscription_count: 3 });

    const all = await (await sdk.get({ path: '/channels' })).json();
    assert.ok(all.channels['q-public'] && all.channels['presence-q'], JSON.stringify(all));

    const presence = await (await sdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-q', info: 'user_count' } })).json();
    assert.deepEqual(presence, { channels: { 'presence-q': { user_count: 2 } } });
    await assert.rejects(sdk.get({ path: '/channels', params: { info: 'user_count' } }), (e) => e.status === 400);

    const one = await (await sdk.get({ path: '/channels/presence-q', params: { info: 'user_count,subscription_count' } })).json();
    assert.deepEqual(one, { occupied: true, user_count: 2, subscription_count: 3 });
    assert.deepEqual(await (await sdk.get({ path: '/channels/nobody-here' })).json(), { occupied: false });
    await assert.rejects(sdk.get({ path: '/channels/q-public', params: { info: 'user_count' } }), (e) => e.status === 400);

    const users = await (await sdk.get({ path: '/channels/presence-q/users' })).json();
    assert.deepEqual(users.users.map((u) => u.id).sort(), ['q-1', 'q-2']);
    await assert.rejects(sdk.get({ path: '/channels/q-public/users' }), (e) => e.status === 400);
  });

  it('terminates the signed-in connections of a user with 4009, and only those', async () => {
    const victim = await clients.pusher(server, { userParams: { user_id: 'term-1' } });
    const bystander = await clients.pusher(server, { userParams: { user_id: 'term-2' } });
    for (const p of [victim, bystander]) {
      p.signin();
      await waitFor(() => p.user.serverToUserChannel?.subscribed, 5000, { message: 'signin' });
    }
    const closes = [];
    victim.connection.bind('error', (e) => closes.push(e));
    const res = await sdk.terminateUserConnections('term-1');
    assert.deepEqual(await res.json(), {});
    await waitFor(() => victim.connection.state === 'disconnected', 5000, { message: 'victim disconnected' });
    assert.equal(closes[0]?.error?.data?.code ?? closes[0]?.data?.code, 4009);
    assert.equal(bystander.connection.state, 'connected');
  });

  it('delivers private-encrypted- events the SDK encrypts', async () => {
    const p = await clients.pusher(server);
    const ch = p.subscribe('private-encrypted-secret');
    await subscribed(ch);
    const rec = new Recorder(ch);
    await sdk.trigger('private-encrypted-secret', 'Sealed', { msg: 'only for you' });
    assert.deepEqual((await rec.next((e) => e.event === 'Sealed')).data, { msg: 'only for you' });
  });

  it('refuses requests that are not signed right (401), too large (413) or for another app (404)', async () => {
    await assert.rejects(backend(server, { secret: 'wrong' }).trigger('x', 'E', {}), (e) => e.status === 401);
    await assert.rejects(backend(server, { key: 'wrong' }).trigger('x', 'E', {}), (e) => e.status === 401);
    await assert.rejects(backend(server, { appId: '999' }).trigger('x', 'E', {}), (e) => e.status === 404);

    const body = JSON.stringify({ name: 'E', channel: 'x', data: '{}' });
    const post = (path, b = body) => server.hub(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) },
      body: b,
    });
    const now = Math.floor(Date.now() / 1000);
    const events = `/apps/${APP.id}/events`;
    assert.equal((await post(signedPath('POST', events, { body }))).status, 200);
    assert.equal((await post(signedPath('POST', events, { body, timestamp: now - 500 }))).status, 200);
    const expired = await post(signedPath('POST', events, { body, timestamp: now - 700 }));
    assert.equal(expired.status, 401);
    assert.match(expired.json.error, /timestamp/);
    assert.equal((await post(signedPath('POST', events, { body, timestamp: now + 700 }))).status, 401);
    // body_md5 of another body; no signature; a tampered query.
    const other = JSON.stringify({ name: 'E', channel: 'y', data: '{}' });
    assert.equal((await post(signedPath('POST', events, { body: other }))).status, 401);
    assert.equal((await post(events)).status, 401);
    assert.equal((await post(signedPath('POST', events, { body }).replace('auth_version=1.0', 'auth_version=1.0&x=1'))).status, 401);
    // Query values arrive URL-encoded (Guzzle) and are signed decoded.
    const info = signedPath('GET', `/apps/${APP.id}/channels`, { params: { info: 'user_count', filter_by_prefix: 'presence-' } });
    assert.ok(info.includes('filter_by_prefix=presence-') && info.includes('info=user_count'));
    assert.equal((await server.hub(info)).status, 200);

    // data over realtime.max_event_size (default 10240 bytes, Pusher's limit): 413.
    await assert.rejects(sdk.trigger('x', 'Big', 'x'.repeat(10241)), (e) => e.status === 413);
    assert.equal((await sdk.trigger('x', 'Fits', 'x'.repeat(10240))).status, 200);

    // Wrong method, unknown path, malformed body.
    assert.equal((await server.hub(signedPath('GET', events))).status, 405);
    assert.equal((await server.hub(signedPath('GET', `/apps/${APP.id}/nothing`))).status, 404);
    const notJson = 'not json';
    assert.equal((await post(signedPath('POST', events, { body: notJson }), notJson)).status, 400);
  });

  it('sends webhooks the SDK validates', async () => {
    const p = await clients.pusher(server, { authParams: { user_id: 'hook-user', name: 'H' } });
    const ch = p.subscribe('presence-hooked');
    await subscribed(ch);
    const occupied = await waitFor(
      () => hooks.events().find((e) => e.name === 'channel_occupied' && e.channel === 'presence-hooked'),
      5000,
      { message: 'channel_occupied webhook' },
    );
    const added = await waitFor(
      () => hooks.events().find((e) => e.name === 'member_added' && e.channel === 'presence-hooked'),
      5000,
      { message: 'member_added webhook' },
    );
    assert.equal(added.user_id, 'hook-user');
    for (const e of [occupied, added]) {
      const hook = sdk.webhook({ headers: e.request.headers, rawBody: e.request.rawBody });
      assert.equal(hook.isValid(), true);
      assert.ok(hook.getEvents().length >= 1);
      assert.equal(typeof hook.getTime().getTime(), 'number');
      const forged = sdk.webhook({ headers: e.request.headers, rawBody: e.request.rawBody.replace('hooked', 'hacked') });
      assert.equal(forged.isValid(), false);
    }
    p.unsubscribe('presence-hooked');
    await waitFor(
      () => hooks.events().find((e) => e.name === 'channel_vacated' && e.channel === 'presence-hooked'),
      5000,
      { message: 'channel_vacated webhook' },
    );
  });
});
