// Attack (issue 11): with realtime.secret set, one unauthenticated upgrade
// request carrying "?token=x." and 8,000 more characters crashed the worker
// (the signature part was decoded into a 48-byte stack buffer before its
// length was checked). The hub must refuse it with 401, and the same
// process must keep serving: the client already connected keeps receiving
// broadcasts, and new clients still connect.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, rawRequest, startServer } from './lib/server.mjs';
import { connectWithToken, makeToken } from './lib/identity.mjs';

const SECRET = 'attack-token-secret';
const FAR = 4102444800; // 2100-01-01

function upgradeHead(target) {
  return (
    `GET ${target} HTTP/1.1\r\n` +
    'Host: 127.0.0.1\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    'Sec-WebSocket-Version: 13\r\n\r\n'
  );
}

describe('attack: oversized token signature', () => {
  let server;
  const clients = [];

  before(async () => {
    server = await startServer({ ini: { secret: SECRET, allow_anonymous: 0 } });
  });
  after(async () => {
    closeAll(clients);
    await server?.stop();
  });

  it('is refused with 401; the worker survives and keeps delivering', async () => {
    const pidBefore = (await server.status()).pid;
    assert.equal(pidBefore, server.pid);

    const watcher = await connectWithToken(server, makeToken(SECRET, { uid: 'watcher', exp: FAR }));
    clients.push(watcher);
    await watcher.subscribe('news');

    // The attack, in the shapes the decoder sees: a long signature of valid
    // base64url characters, of percent-escapes, and one as long as the head allows.
    for (const sig of ['A'.repeat(8000), '%41'.repeat(2600), '_'.repeat(7900)]) {
      const res = await rawRequest(server.wsPort, upgradeHead(`/ws?token=x.${sig}`));
      assert.equal(res.status, 401, `answered ${res.status}: ${res.raw.slice(0, 200)}`);
      assert.equal(server.exitInfo, null, `the server died: ${server.log.slice(-2000)}`);
    }
    // As a header token too.
    const res = await rawRequest(server.wsPort, upgradeHead('/ws').replace('\r\n\r\n',
      `\r\nAuthorization: Bearer x.${'A'.repeat(7000)}\r\n\r\n`));
    assert.equal(res.status, 401, res.raw.slice(0, 200));

    // Same process, still serving PHP and the hub.
    assert.equal(server.exitInfo, null);
    assert.equal((await server.status()).pid, pidBefore);
    await server.publish('news', 'still here');
    const m = await watcher.next((x) => x.type === 'message');
    assert.deepEqual(m, { type: 'message', channel: 'news', data: 'still here' });

    const late = await connectWithToken(server, makeToken(SECRET, { uid: 'late', exp: FAR }));
    clients.push(late);
    assert.equal(late.hello.user_id, 'late');
    // Anonymous clients are still refused: the attack did not open a way in.
    await assert.rejects(connect(server.wsUrl, { timeout: 3000 }));
  });
});
