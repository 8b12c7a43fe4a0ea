// The JavaScript client's package (clients/js): the classic-script build is
// the module's code (build.mjs --check), both are under 6 KB gzipped, the
// type declarations name every export, and `npm install <path>` gives a
// package that imports by name as a module and loads as a classic script.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { REPO_ROOT } from './lib/server.mjs';

const DIR = path.join(REPO_ROOT, 'clients', 'js');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000, ...opts });

test('realtime.global.js is built from realtime.js', () => {
  const r = run(process.execPath, [path.join(DIR, 'build.mjs'), '--check']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('each build is under 6 KB gzipped', () => {
  for (const f of ['realtime.js', 'realtime.global.js']) {
    const size = zlib.gzipSync(fs.readFileSync(path.join(DIR, f)), { level: 9 }).length;
    assert.ok(size < 6144, `${f}: ${size} bytes gzipped`);
  }
});

test('realtime.d.ts declares every export of realtime.js', async () => {
  const mod = await import(path.join(DIR, 'realtime.js'));
  const dts = fs.readFileSync(path.join(DIR, 'realtime.d.ts'), 'utf8');
  for (const name of Object.keys(mod)) {
    const re = name === 'default' ? /^export default /m : new RegExp(`^export (class|function|const|type|interface) ${name}\\b`, 'm');
    assert.match(dts, re, `realtime.d.ts does not declare ${name}`);
  }
});

test('npm install from the path: import by name, and the classic script', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-jsclient-npm-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    const npm = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--install-links', DIR], { cwd: dir });
    assert.equal(npm.status, 0, npm.stdout + npm.stderr);
    const pkg = JSON.parse(fs.readFileSync(path.join(DIR, 'package.json'), 'utf8'));
    const installed = fs.readdirSync(path.join(dir, 'node_modules', pkg.name)).sort();
    assert.deepEqual(installed, [...pkg.files, 'package.json'].sort());
    const esm = run(process.execPath, ['--input-type=module', '-e', `import R, { Realtime, UnauthorizedError } from '${pkg.name}'; console.log(R === Realtime && typeof UnauthorizedError)`], { cwd: dir });
    assert.equal(esm.stdout.trim(), 'function', esm.stderr);
    const classic = run(process.execPath, ['-e', `require('${pkg.name}/global'); console.log(typeof Realtime, typeof Realtime.UnauthorizedError)`], { cwd: dir });
    assert.equal(classic.stdout.trim(), 'function function', classic.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
