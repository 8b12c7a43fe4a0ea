// The PECL package: package.xml lists exactly the files it should, and the
// tarball `pecl package` makes builds, installs and loads with `pecl install`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(script, ...args) {
  return spawnSync('bash', [path.join(root, 'scripts', script), ...args], {
    cwd: root, encoding: 'utf8', timeout: 600_000,
  });
}

test('package.xml is up to date with the tree', () => {
  const r = run('package.sh', '--check');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('config.m4 and config.w32 list every C file', () => {
  const r = run('sync-sources.sh', '--check');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('pecl install of the packaged tarball builds and loads the extension', { timeout: 600_000 }, () => {
  const r = run('pecl-install-test.sh');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /lists realtime/);
});
