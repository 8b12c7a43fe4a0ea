// The Laravel application of laravel.test.mjs: tests/e2e/laravel-app copied
// to a temp dir, with integrations/laravel installed as Composer would
// (vendor/realtime/laravel, vendor/composer/installed.json for package
// discovery) and Debian's php-laravel-framework as the framework. No
// Composer and no network: Debian autoloads Illuminate\ from
// /usr/share/php/Illuminate/autoload.php on PHP's include_path.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './server.mjs';
import { phpBin } from './pool/proc.mjs';

export const FIXTURE = path.join(REPO_ROOT, 'tests/e2e/laravel-app');
export const PACKAGE = path.join(REPO_ROOT, 'integrations/laravel');
export const FRAMEWORK_AUTOLOAD = '/usr/share/php/Illuminate/autoload.php';

/** The PHP extensions Laravel 8 needs, for a php.ini read with no conf.d. */
export const LARAVEL_EXTENSIONS = ['ctype', 'mbstring', 'intl', 'tokenizer', 'pdo', 'pdo_sqlite']
  .map((e) => `extension = ${e}`)
  .join('\n');

/** Copies the app into a fresh temp dir; returns its path. */
export function makeLaravelApp() {
  if (!fs.existsSync(FRAMEWORK_AUTOLOAD)) {
    throw new Error(`no ${FRAMEWORK_AUTOLOAD}: apt-get install php-laravel-framework php8.2-sqlite3 (scripts/deps.sh)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-laravel-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'vendor/realtime'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'vendor/composer'), { recursive: true });
  fs.renameSync(path.join(dir, 'vendor-autoload.php'), path.join(dir, 'vendor/autoload.php'));
  fs.symlinkSync(PACKAGE, path.join(dir, 'vendor/realtime/laravel'));
  const composer = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'composer.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'vendor/composer/installed.json'), JSON.stringify({ packages: [composer] }));
  fs.writeFileSync(path.join(dir, 'database/database.sqlite'), '');
  // The browser builds the page public/echo.html loads.
  const modules = path.join(REPO_ROOT, 'tests/e2e/node_modules');
  fs.copyFileSync(path.join(modules, 'pusher-js/dist/web/pusher.min.js'), path.join(dir, 'public/pusher.min.js'));
  fs.copyFileSync(path.join(modules, 'laravel-echo/dist/echo.iife.js'), path.join(dir, 'public/echo.iife.js'));
  return dir;
}

/**
 * Runs `php -c <ini> artisan ...args` in the app (the deployment's php.ini:
 * the same extension, hub address and secret as its workers). Resolves with
 * { code, stdout, stderr }.
 */
export function artisan(appDir, iniFile, args, { timeout = 30000 } = {}) {
  return new Promise((resolve) => {
    execFile(
      phpBin(),
      ['-c', iniFile, 'artisan', ...args],
      { cwd: appDir, env: { ...process.env, PHP_INI_SCAN_DIR: '' }, timeout, maxBuffer: 4 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr }),
    );
  });
}
