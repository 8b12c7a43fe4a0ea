// The JavaScript client forced onto long-polling (issue 15): on php -S it
// gets all of 1,000 messages at 50 a second, once and in order; through
// nginx in front of 4 php-fpm workers, whose hubs each poll may reach (the
// poll relayed to the session's hub), it keeps one session and loses nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Realtime } from '../../clients/js/realtime.js';
import { startServer, waitFor } from './lib/server.mjs';
import { numberedPublisher } from './lib/jsclient.mjs';
import { publish, warmUp } from './lib/pool/clients.mjs';
import { PM, fpmNginx } from './lib/pool/servers.mjs';

describe('the JavaScript client on long-polling (php -S)', () => {
  let server;
  before(async () => {
    server = await startServer({ ini: { allow_anonymous: 1, longpoll_timeout: 2, history: 'lp-*:10000:600' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('the JavaScript client forced onto long-polling: 1,000 messages at 50/s, once and in order', async () => {
    const rt = new Realtime({ url: server.wsUrl, transports: ['longpoll'], minDelay: 50, maxDelay: 300 });
    const got = [];
    const sub = rt.subscribe('lp-js', { onMessage: (d) => got.push(d.n) });
    try {
      await waitFor(() => rt.state === 'connected' && sub.state === 'subscribed', 10000, { message: 'subscribed' });
      assert.equal(rt.transport, 'longpoll');
      const pub = numberedPublisher((ch, data) => server.publish(ch, data), 'lp-js', 50);
      await waitFor(() => pub.count >= 1000, 60000, { interval: 100, message: '1,000 published' });
      const sent = await pub.stop();
      await waitFor(() => got.length >= sent, 15000, { interval: 100, message: `all ${sent} messages` });
      assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i + 1));
    } finally {
      rt.close();
    }
  });
});

describe('long-polling through nginx + 4 php-fpm workers', () => {
  let dep;
  before(async () => {
    dep = await fpmNginx({
      label: 'fpm-longpoll',
      pools: [{ name: 'app', pm: PM.static4 }],
      iniExtra: 'realtime.allow_anonymous = 1\nrealtime.longpoll_timeout = 2\nrealtime.history = "lpf-*:10000:600"',
    });
    await warmUp(dep, { min: 4, concurrency: 4 });
  });
  after(async () => {
    await dep?.stop();
  });

  it('polls reach any worker\'s hub and the session goes on: nothing lost', async () => {
    const rt = new Realtime({ url: dep.wsUrl, transports: ['longpoll'], minDelay: 50, maxDelay: 300 });
    const got = [];
    const sub = rt.subscribe('lpf-1', { onMessage: (d) => got.push(d.n) });
    try {
      await waitFor(() => rt.state === 'connected' && sub.state === 'subscribed', 15000, { message: 'subscribed' });
      const id = rt.connectionId;
      const pub = numberedPublisher((ch, data) => publish(dep, ch, data), 'lpf-1', 50);
      await waitFor(() => pub.count >= 200, 30000, { interval: 100, message: '200 published' });
      const sent = await pub.stop();
      await waitFor(() => got.length >= sent, 15000, { interval: 100, message: `all ${sent} messages` });
      assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i + 1));
      assert.equal(rt.connectionId, id, 'the same session throughout');
    } finally {
      rt.close();
    }
  });
});
