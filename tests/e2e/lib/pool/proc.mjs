// Process plumbing for the worker-pool tests: temp dirs, a private copy of
// the extension, process groups that are started detached and killed as a
// whole, and a check that nothing of a group outlives stop().
//
// Every server (php-fpm, nginx, apache2, php -S) runs in its own process
// group: stop() SIGKILLs the group, waits for the leader to exit, then waits
// (with a deadline) until no process of the group is left in /proc, zombies
// included. A process that left the group (setsid) is caught by the second
// check: it also looks for any process whose command line mentions the
// server's temp dir.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXTENSION, REPO_ROOT, waitFor, withTimeout } from '../server.mjs';

export const POOL_LIB = path.dirname(fileURLToPath(import.meta.url));
export const CONF_DIR = path.join(POOL_LIB, 'conf');
export const DOCROOT = path.join(POOL_LIB, 'docroot');
export { REPO_ROOT };

const MAX_LOG = 512 * 1024;

/** A fresh temp dir that other users (apache's www-data children) can read. */
export function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rt-pool-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * Copies modules/realtime.so into dir and checks that PHP loads the copy.
 * Another session may be rebuilding the original while a test runs; the copy
 * keeps every process of one test on the same build. A copy caught mid-write
 * fails the load check and is taken again.
 */
export async function privateExtension(dir) {
  if (!fs.existsSync(EXTENSION)) {
    throw new Error(`extension not found at ${EXTENSION}: run "bash scripts/build.sh" first (or set REALTIME_EXTENSION)`);
  }
  const copy = path.join(dir, 'realtime.so');
  let lastError;
  await waitFor(
    () => {
      try {
        fs.copyFileSync(EXTENSION, copy);
        fs.chmodSync(copy, 0o755);
        const out = execFileSync(phpBin(), ['-n', '-d', `extension=${copy}`, '-r', 'echo extension_loaded("realtime") ? "ok" : "missing";'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 10000,
        });
        if (out.trim() === 'ok') return true;
        lastError = new Error(`php did not load the copy: ${out}`);
      } catch (err) {
        lastError = err;
      }
      return false;
    },
    30000,
    { interval: 500, message: `a loadable copy of ${EXTENSION}` },
  ).catch((err) => {
    throw new Error(`${err.message}${lastError ? `: ${lastError.message}` : ''}`);
  });
  return copy;
}

export function phpBin() {
  return process.env.PHP_BIN || 'php';
}

/** Renders a template: every {{NAME}} must have a value. */
export function render(template, values) {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, name) => {
    if (!(name in values)) throw new Error(`template value ${name} missing`);
    return String(values[name]);
  });
}

export function readTemplate(name) {
  return fs.readFileSync(path.join(CONF_DIR, name), 'utf8');
}

/** The text between "doc:begin NAME" and "doc:end NAME" marker lines. */
export function docRegion(text, name) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.includes(`doc:begin ${name}`));
  const end = lines.findIndex((l, i) => i > start && l.includes(`doc:end ${name}`));
  if (start < 0 || end < 0) throw new Error(`no doc region ${name}`);
  return lines.slice(start + 1, end).join('\n');
}

// ---------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------

/** { pid, ppid, pgrp, state, comm } of a process, or null if it is gone. */
export function procStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  return { pid: Number(pid), state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), comm };
}

export function allPids() {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Live (non-zombie) children of pid. */
export function childrenOf(pid) {
  const out = [];
  for (const p of allPids()) {
    const st = procStat(p);
    if (st && st.ppid === pid && st.state !== 'Z') out.push(p);
  }
  return out.sort((a, b) => a - b);
}

export function isAlive(pid) {
  const st = procStat(pid);
  return st !== null && st.state !== 'Z';
}

function leftovers(pgid, marker) {
  const left = [];
  for (const p of allPids()) {
    if (p === process.pid) continue;
    const st = procStat(p);
    if (!st) continue;
    if (st.pgrp === pgid || (marker && cmdline(p).includes(marker))) {
      left.push(`${p} (${st.comm}, state ${st.state}, pgrp ${st.pgrp}): ${cmdline(p).slice(0, 120)}`);
    }
  }
  return left;
}

// ---------------------------------------------------------------------------
// Process groups
// ---------------------------------------------------------------------------

const running = new Set();
process.on('exit', () => {
  for (const g of running) g.killNow();
});

/**
 * Spawns cmd in its own process group and captures its output. `marker`
 * (usually the temp dir) is a string that every process of the group has in
 * its command line, for the leftover check. Returns a handle:
 *   pid, log (getter), exited (promise), exitInfo, signal(sig), stop()
 */
export function spawnGroup(name, cmd, args, { env = {}, cwd, marker } = {}) {
  const proc = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk) => {
    log += chunk.toString('utf8');
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  let exitInfo = null;
  let spawnError = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    proc.on('error', (err) => {
      spawnError = err;
      exitInfo = { code: null, signal: null, error: err.message };
      resolve(exitInfo);
    });
  });
  const group = {
    name,
    proc,
    pid: proc.pid,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    get spawnError() {
      return spawnError;
    },
    get log() {
      return log;
    },
    killNow() {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    },
    /** SIGKILLs the group, waits for the leader and checks that nothing is left. */
    async stop() {
      running.delete(group);
      if (proc.pid === undefined) return;
      group.killNow();
      if (!exitInfo) await withTimeout(exited, 10000, `${name} (pid ${proc.pid}) to exit after SIGKILL`);
      proc.stdout.destroy();
      proc.stderr.destroy();
      let left = [];
      try {
        await waitFor(() => {
          left = leftovers(proc.pid, marker);
          if (left.length) {
            // A member that is still alive (not a zombie) gets another SIGKILL.
            group.killNow();
          }
          return left.length === 0;
        }, 10000, { interval: 50 });
      } catch {
        throw new Error(`${name}: processes left after stop():\n  ${left.join('\n  ')}`);
      }
    },
  };
  running.add(group);
  return group;
}

/** Runs a command to completion: { code, signal, stdout, stderr }. */
export function run(cmd, args, { env = {}, timeout = 20000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeout);
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
