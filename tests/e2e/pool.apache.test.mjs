// Worker pools on one host (issue 4): Apache prefork with mod_php.
//
// Every prefork child runs its own hub once it has served a PHP request;
// the hubs share realtime.listen and the memory broker's shared ring
// (mapped by the parent before it forks). Clients connect straight to the
// hub port; a few go through Apache's /ws (mod_proxy_wstunnel), as
// docs/deployment.md shows. The parent runs as root and the children as
// www-data, as Debian's apache2 does.
//
//   tests (1) (2) (3) (6) (4) (4b) of lib/pool/scenarios.mjs
//   /ws through mod_proxy_wstunnel
//   docs/deployment.md shows this config

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from './lib/server.mjs';
import { connectMany, expectAll, presenceMember, publish, spreadReport } from './lib/pool/clients.mjs';
import { apacheDocSnippets, missingFromDoc } from './lib/pool/docs.mjs';
import { poolSuite } from './lib/pool/scenarios.mjs';
import { apache } from './lib/pool/servers.mjs';

// Prefork forks children while fewer than MinSpareServers are idle and
// stops idle ones above MaxSpareServers (their hubs go, their clients get
// 1001). Fanning out 2 requests at a time keeps it at StartServers (4).
poolSuite('apache2 prefork + mod_php', {
  start: () => apache(),
  minWorkers: 4,
  concurrency: 2,
  more: ({ dep, track, test }) => {
    test('clients through mod_proxy_wstunnel (/ws on the Apache port) get broadcasts and presence', {}, async (t) => {
      const d = dep();
      const proxied = track(await connectMany(d.proxyWsUrl, 8, { subscribe: 'news' }));
      t.diagnostic(`through Apache: ${await spreadReport(d, proxied)}`);
      await publish(d, 'news', { via: 'proxy' });
      await expectAll(proxied, (m) => m.type === 'message' && m.data && m.data.via === 'proxy', 15000, 'the broadcast');
      const [member] = track(await presenceMember(d, 'proxied-user', 'presence-proxy', { url: d.proxyWsUrl }));
      assert.deepEqual(member.members.map((m) => m.id), ['proxied-user']);
    });

    test("a browser's handshake through Apache passes the origin check (Origin = the page's origin)", {}, async () => {
      // With realtime.allowed_origins empty the hub accepts an Origin whose
      // host:port equals the Host header: Apache must pass it on unchanged.
      const d = dep();
      const [c] = track(await connect(d.proxyWsUrl, { origin: `http://127.0.0.1:${d.frontPort}`, timeout: 10000 }));
      assert.ok(c.connectionId);
      await assert.rejects(connect(d.proxyWsUrl, { origin: 'http://evil.example', timeout: 10000 }), /403/);
    });
  },
});

describe('docs/deployment.md', () => {
  it('shows the Apache prefork and virtual host config these tests run', () => {
    const missing = missingFromDoc(apacheDocSnippets());
    assert.equal(missing.length, 0, `docs/deployment.md lacks, verbatim:\n${missing.join('\n')}`);
  });
});
