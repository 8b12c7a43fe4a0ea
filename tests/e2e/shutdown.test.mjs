// What clients see when the PHP process that hosts the hub goes away.
//
// php -S handles SIGINT by leaving its loop and shutting PHP down (module
// shutdown runs, exit status 0): the hub then closes every client with 1001.
// php -S does not handle SIGTERM: the process dies at once, module shutdown
// never runs, and clients only see the TCP connection drop (1006 in ws and
// browsers) unless the extension itself catches SIGTERM.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeAll, connect, startServer, withTimeout } from './lib/server.mjs';

describe('process shutdown', () => {
  const servers = [];
  const clients = [];
  after(async () => {
    closeAll(clients);
    for (const s of servers) await s.stop();
  });

  it('SIGINT to php -S: every client is closed with 1001 and php exits 0', async () => {
    const server = await startServer();
    servers.push(server);
    const a = await connect(server.wsUrl);
    const b = await connect(server.wsUrl);
    clients.push(a, b);
    await b.subscribe('bye');

    assert.ok(server.signal('SIGINT'));
    const [ca, cb] = await Promise.all([a.waitClose(10000), b.waitClose(10000)]);
    assert.equal(ca.code, 1001, `close code ${ca.code} (${ca.reason})`);
    assert.equal(cb.code, 1001, `close code ${cb.code} (${cb.reason})`);

    const exit = await withTimeout(server.exited, 10000, 'php -S to exit after SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null }, `php output:\n${server.log}`);
  });

  it('SIGTERM to php -S: the process exits and clients are disconnected', async (t) => {
    const server = await startServer();
    servers.push(server);
    const a = await connect(server.wsUrl);
    clients.push(a);

    assert.ok(server.signal('SIGTERM'));
    const info = await a.waitClose(10000);
    const exit = await withTimeout(server.exited, 10000, 'php -S to exit after SIGTERM');
    t.diagnostic(`SIGTERM: client close code ${info.code}, php exit ${JSON.stringify(exit)}`);
    // 1001 if the extension shuts the hub down on SIGTERM, 1006 (no close
    // frame, the socket just closed) if the process simply died.
    assert.ok([1001, 1006].includes(info.code), `close code ${info.code}`);
  });
});
