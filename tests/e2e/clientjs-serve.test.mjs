// The hub serves the JavaScript client (clients/js) at /realtime.js and
// {realtime.path}/realtime.js, the bytes embedded at build time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startServer } from './lib/server.mjs';

const file = (name) => fs.readFileSync(path.join(REPO_ROOT, 'clients/js', name), 'utf8');

describe('GET /realtime.js', () => {
  let server;

  before(async () => {
    server = await startServer({ ini: { 'realtime.path': '/live/ws' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('hub/api/client_js_data.c is generated from the current clients/js', () => {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/gen-client-js.sh'), '--check'], { stdio: 'pipe' });
  });

  it('serves the ES module byte for byte, at /realtime.js and {realtime.path}/realtime.js', async () => {
    for (const p of ['/realtime.js', '/live/ws/realtime.js']) {
      const res = await server.hub(p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers['content-type'], /^text\/javascript/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.match(res.headers['cache-control'], /max-age=\d+/);
      assert.equal(res.body, file('realtime.js'));
    }
    const res = await server.hub('/realtime.js');
    const mod = await import(`data:text/javascript;base64,${Buffer.from(res.body).toString('base64')}`);
    assert.equal(typeof mod.Realtime, 'function');
  });

  it('serves the classic-script build, which defines Realtime', async () => {
    const res = await server.hub('/live/ws/realtime.global.js');
    assert.equal(res.status, 200);
    assert.equal(res.body, file('realtime.global.js'));
    const sandbox = {};
    sandbox.globalThis = sandbox;
    vm.runInNewContext(res.body, sandbox);
    assert.equal(typeof sandbox.Realtime, 'function');
  });

  it('answers 304 to If-None-Match with its ETag, the whole file to another', async () => {
    const first = await server.hub('/realtime.js');
    const etag = first.headers.etag;
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    const again = await server.hub('/realtime.js', { headers: { 'if-none-match': `"other", W/${etag}` } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    const stale = await server.hub('/realtime.js', { headers: { 'if-none-match': '"0123"' } });
    assert.equal(stale.status, 200);
    assert.equal(stale.body, first.body);
    const other = await server.hub('/realtime.global.js');
    assert.notEqual(other.headers.etag, etag);
  });

  it('answers only GET, and nothing else near those names', async () => {
    assert.equal((await server.hub('/realtime.js', { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await server.hub('/realtime.jsx')).status, 404);
    assert.equal((await server.hub('/other/realtime.js')).status, 404);
    assert.equal((await server.hub('/live/ws/realtime.d.ts')).status, 404);
  });
});
