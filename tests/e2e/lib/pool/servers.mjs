// Starts the servers of the worker-pool tests, each from a generated config
// in its own temp dir, on free loopback ports:
//
//   fpmNginx()    php-fpm (one master, one or more pools) behind nginx
//   apache()      apache2 prefork with mod_php
//   cliServer()   php -S with PHP_CLI_SERVER_WORKERS
//
// Each returns a "deployment": the ports, where WebSocket clients connect,
// which processes serve PHP (and so may run a hub), request helpers, and
// stop(). The configs come from conf/*.tmpl; docs/deployment.md shows the
// same templates rendered with example values (checked by the tests).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { METRICS_KEY, freePorts, httpRequest, waitFor } from '../server.mjs';
import {
  DOCROOT,
  childrenOf,
  cmdline,
  docRegion,
  makeTempDir,
  phpBin,
  privateExtension,
  readTemplate,
  render,
  spawnGroup,
} from './proc.mjs';

export const SECRET = 'pool-test-secret-0123456789';
export const PHP_FPM_BIN = process.env.PHP_FPM_BIN || '/usr/sbin/php-fpm8.2';
export const NGINX_BIN = process.env.NGINX_BIN || '/usr/sbin/nginx';
export const APACHE_BIN = process.env.APACHE_BIN || '/usr/sbin/apache2';

// ---------------------------------------------------------------------------
// Config generators (also used to render docs/deployment.md's examples)
// ---------------------------------------------------------------------------

/** pm settings of the pools the tests run (and the docs show). */
export const PM = {
  static4: ['pm = static', 'pm.max_children = 4', '; 0: workers (and their hubs) live until the pool is reloaded', 'pm.max_requests = 0'].join('\n'),
  dynamic: [
    'pm = dynamic',
    'pm.max_children = 8',
    'pm.start_servers = 3',
    '; A floor of idle workers, each running a hub.',
    'pm.min_spare_servers = 3',
    'pm.max_spare_servers = 5',
    'pm.max_requests = 0',
  ].join('\n'),
};

export function phpIni({ extension, hubAddr, secret = SECRET, log, errorLog, extra = '' }) {
  return render(readTemplate('php.ini.tmpl'), {
    EXTENSION: extension,
    HUB_ADDR: hubAddr,
    SECRET: secret,
    LOG: log,
    METRICS_KEY,
    ERROR_LOG: errorLog,
    EXTRA: extra,
  });
}

export function fpmPoolConf({ name, user = 'root', group = 'root', fpmAddr, pm, extra = '' }) {
  return render(readTemplate('fpm-pool.conf.tmpl'), {
    POOL: name,
    USER: user,
    GROUP: group,
    FPM_ADDR: fpmAddr,
    PM: pm,
    EXTRA: extra,
  });
}

export function nginxConf({ dir, httpListen, docroot = DOCROOT, hubAddr, fpmAddr, extra = '' }) {
  return render(readTemplate('nginx.conf.tmpl'), {
    DIR: dir,
    HTTP_LISTEN: httpListen,
    DOCROOT: docroot,
    HUB_ADDR: hubAddr,
    FPM_ADDR: fpmAddr,
    EXTRA: extra,
  });
}

/**
 * One more nginx server block, as in the documented config, for another
 * pool (listen, hub and FastCGI addresses of its own).
 */
export function nginxServerBlock({ httpListen, docroot = DOCROOT, hubAddr, fpmAddr }) {
  const region = docRegion(nginxConf({ dir: '/unused', httpListen, docroot, hubAddr, fpmAddr }), 'nginx');
  return region.slice(region.indexOf('\nserver {') + 1);
}

/** Debian's mod_php (NTS, prefork only); a ZTS one serves the event MPM. */
export const APACHE_PHP_MODULE = '/usr/lib/apache2/modules/libphp8.2.so';

export function apacheConf({ dir, listen, docroot = DOCROOT, hubAddr, user = 'www-data', group = 'www-data', start = 4, minSpare = 2, maxSpare = 16, maxWorkers = 32, mpm = 'prefork', phpModule = APACHE_PHP_MODULE, threads = 8 }) {
  return render(readTemplate('apache2.conf.tmpl'), {
    MPM: mpm,
    PHP_MODULE: phpModule,
    THREADS: threads,
    EVENT_WORKERS: start * threads,
    DIR: dir,
    LISTEN: listen,
    DOCROOT: docroot,
    HUB_ADDR: hubAddr,
    USER: user,
    GROUP: group,
    START: start,
    MIN_SPARE: minSpare,
    MAX_SPARE: maxSpare,
    MAX_WORKERS: maxWorkers,
  });
}

// ---------------------------------------------------------------------------
// Readiness
// ---------------------------------------------------------------------------

function tcpOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function alive(group) {
  if (group.exitInfo) {
    throw Object.assign(new Error(`${group.name} exited: ${JSON.stringify(group.exitInfo)}\n${group.log.slice(-3000)}`), { fatal: true });
  }
}

async function waitListening(group, port, what, ms = 20000) {
  let settled = false;
  try {
    await Promise.race([
      waitFor(async () => {
        alive(group);
        return tcpOpen(port);
      }, ms, { interval: 50, message: `${what} listening on port ${port}` }),
      // Fail at once if the process exits instead.
      new Promise((_, reject) => {
        group.exited.then(() => {
          if (!settled) reject(new Error(`${group.name} exited: ${JSON.stringify(group.exitInfo)}\n${tail(group.log, 3000)}`));
        });
      }),
    ]);
  } finally {
    settled = true;
  }
}

function readLog(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function tail(text, n = 4000) {
  return text.length > n ? `…${text.slice(-n)}` : text;
}

// ---------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------

/**
 * The common part of every deployment. `servingPids()` lists the processes
 * that handle PHP requests; `front` is the HTTP port that serves the docroot.
 */
function deployment({ kind, dir, extension, hubPort, frontPort, wsUrl, groups, servingPids, logFiles, segmentPorts = [hubPort], extra = {} }) {
  const hubAddr = `127.0.0.1:${hubPort}`;
  const dep = {
    kind,
    dir,
    extension,
    hubPort,
    hubAddr,
    frontPort,
    secret: SECRET,
    wsUrl,
    hubWsUrl: `ws://${hubAddr}/ws`,
    groups,
    servingPids,
    /** Whether pid is a worker (php -S: not the parent, which serves too). */
    isWorker: (pid) => servingPids().includes(pid),
    /** node id → pid, filled in by warm-up requests (pid.php answers both). */
    nodes: new Map(),
    /** pid → node id */
    pids: new Map(),

    get(reqPath, opts = {}) {
      return httpRequest(frontPort, reqPath, { timeout: 15000, ...opts });
    },

    /** GET a page and parse its JSON; throws unless 200. Learns pid → node from the answer. */
    async json(reqPath, opts) {
      const res = await dep.get(reqPath, opts);
      if (res.status !== 200 || res.json === undefined) {
        throw new Error(`GET ${reqPath} answered ${res.status}: ${res.body.slice(0, 300)}`);
      }
      dep.learn(res.json);
      return res.json;
    },

    /**
     * The pid of the worker whose hub is `node`. Workers forked after the
     * warm-up start hubs the tests have not seen answer yet: their /health
     * says (each new connection reaches some hub; poll until this one).
     */
    async pidOfNode(node, ms = 10000) {
      node = String(node);
      if (!dep.nodes.has(node)) {
        await waitFor(async () => {
          const res = await httpRequest(hubPort, '/health', { timeout: 2000, headers: { authorization: `Bearer ${METRICS_KEY}` } });
          dep.learn(res.json);
          return dep.nodes.has(node);
        }, ms, { interval: 5, message: `a /health answer from hub node ${node}` });
      }
      return dep.nodes.get(node);
    },

    /** Remembers which hub node a worker pid runs (from pid.php-like answers). */
    learn(answer) {
      if (answer && answer.pid && answer.node) {
        dep.nodes.set(String(answer.node), answer.pid);
        dep.pids.set(answer.pid, String(answer.node));
      }
    },

    /** Output of every process and log file, for failure messages. */
    logs() {
      const parts = [];
      for (const g of groups) parts.push(`--- ${g.name} output ---\n${tail(g.log)}`);
      for (const f of logFiles) parts.push(`--- ${path.basename(f)} ---\n${tail(readLog(f))}`);
      return parts.join('\n');
    },

    async stop() {
      const errors = [];
      // SIGKILL every group at once: the leftover check of one group also
      // looks for processes mentioning the shared temp dir.
      for (const g of groups) g.killNow();
      for (const g of [...groups].reverse()) {
        try {
          await g.stop();
        } catch (err) {
          errors.push(err.message);
        }
      }
      if (groups.length) {
        removeDir(dir);
        removeSegments(segmentPorts);
      }
      if (errors.length) throw new Error(errors.join('\n'));
    },
    ...extra,
  };
  return dep;
}

function writeIni(dir, extension, hubPort, extra) {
  const file = path.join(dir, 'php.ini');
  const log = path.join(dir, 'realtime.log');
  const errorLog = path.join(dir, 'php-errors.log');
  for (const f of [log, errorLog]) {
    fs.writeFileSync(f, '');
    fs.chmodSync(f, 0o666); // apache's children run as www-data
  }
  fs.writeFileSync(file, phpIni({ extension, hubAddr: `127.0.0.1:${hubPort}`, log, errorLog, extra }));
  return { file, logFiles: [log, errorLog] };
}

const PHP_ENV = { PHP_INI_SCAN_DIR: '' }; // only our php.ini: no conf.d

/**
 * Removes the pool's named shared-memory segments (broker/segment.c): they
 * outlive the servers by design, and the next test to draw the same port
 * should not find this one's.
 */
function removeSegments(ports) {
  let names = [];
  try {
    names = fs.readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const port of ports) {
    for (const n of names) if (n.startsWith(`realtime.${port}.`)) fs.rmSync(path.join('/dev/shm', n), { force: true });
  }
}

/** Removes a deployment's temp dir (kept with RT_KEEP_TMP=1, to read its logs). */
function removeDir(dir) {
  if (!process.env.RT_KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * php-fpm with `pools` behind nginx.
 *
 * pools: [{ name, pm, hubPort?, extra? }]  each pool gets its own FastCGI
 *   port; hubPort defaults to the deployment's hub port (one app). A pool
 *   with its own hubPort gets php_admin_value[realtime.listen] for it.
 * The first pool is the one nginx's documented server block sends PHP to;
 * `nginxExtra(pools)` may add more server blocks (e.g. for other pools).
 * iniExtra: php.ini lines, or a function of { hubPort, httpPort } that
 * returns them (a setting that names the front port).
 */
export async function fpmNginx({ label = 'fpm', pools, iniExtra = 'realtime.allow_anonymous = 1', nginxExtra, globalHub, controlTimeout = '5s', docroot = DOCROOT } = {}) {
  const dir = makeTempDir(label);
  fs.mkdirSync(path.join(dir, 'nginx-tmp'));
  fs.copyFileSync('/etc/nginx/fastcgi_params', path.join(dir, 'fastcgi_params'));
  const groups = [];
  try {
    const extension = await privateExtension(dir);
    const ports = await freePorts(2 + pools.length * 2);
    const [hubPort, httpPort] = ports;
    const poolInfo = pools.map((p, i) => ({
      ...p,
      fpmPort: ports[2 + i * 2],
      extraPort: ports[3 + i * 2],
      hubPort: p.hubPort === 'own' ? null : p.hubPort || hubPort,
    }));
    // A pool with hubPort 'own' gets a port of its own (a separate app).
    const more = await freePorts(poolInfo.filter((p) => p.hubPort === null).length);
    for (const p of poolInfo) if (p.hubPort === null) p.hubPort = more.shift();

    const ini = writeIni(dir, extension, globalHub ? globalHub(poolInfo) : hubPort,
      typeof iniExtra === 'function' ? iniExtra({ hubPort, httpPort }) : iniExtra);
    const poolText = poolInfo
      .map((p) =>
        fpmPoolConf({
          name: p.name,
          user: p.user,
          group: p.group,
          fpmAddr: `127.0.0.1:${p.fpmPort}`,
          pm: p.pm,
          extra: [
            p.hubPort !== hubPort ? `php_admin_value[realtime.listen] = 127.0.0.1:${p.hubPort}` : '',
            p.extra || '',
          ].join('\n'),
        }),
      )
      .join('\n');
    const fpmConf = path.join(dir, 'php-fpm.conf');
    fs.writeFileSync(fpmConf, render(readTemplate('php-fpm.conf.tmpl'), { DIR: dir, POOLS: poolText, CONTROL_TIMEOUT: controlTimeout }));
    const fpm = spawnGroup('php-fpm', PHP_FPM_BIN, ['-F', '-R', '-y', fpmConf, '-c', ini.file], { env: PHP_ENV, marker: dir });
    groups.push(fpm);

    const nginxFile = path.join(dir, 'nginx.conf');
    fs.writeFileSync(
      nginxFile,
      nginxConf({
        dir,
        httpListen: `127.0.0.1:${httpPort}`,
        docroot,
        hubAddr: `127.0.0.1:${poolInfo[0].hubPort}`,
        fpmAddr: `127.0.0.1:${poolInfo[0].fpmPort}`,
        extra: nginxExtra ? nginxExtra(poolInfo) : '',
      }),
    );
    const nginx = spawnGroup('nginx', NGINX_BIN, ['-c', nginxFile, '-g', 'daemon off;'], { marker: dir });
    groups.push(nginx);

    for (const p of poolInfo) await waitListening(fpm, p.fpmPort, `php-fpm pool ${p.name}`);
    await waitListening(nginx, httpPort, 'nginx');

    /** Live workers of pool `name` (all pools if omitted), from the master's children. */
    const workers = (name) =>
      childrenOf(fpm.pid).filter((pid) => {
        const title = cmdline(pid);
        return name ? title === `php-fpm: pool ${name}` : title.startsWith('php-fpm: pool ');
      });

    return deployment({
      kind: label,
      dir,
      extension,
      hubPort: poolInfo[0].hubPort,
      frontPort: httpPort,
      wsUrl: `ws://127.0.0.1:${httpPort}/ws`,
      groups,
      servingPids: () => workers(poolInfo[0].name),
      logFiles: [path.join(dir, 'php-fpm.log'), path.join(dir, 'nginx-error.log'), ...ini.logFiles],
      segmentPorts: [globalHub ? globalHub(poolInfo) : hubPort, ...poolInfo.map((p) => p.hubPort)],
      extra: {
        fpm,
        nginx,
        pools: poolInfo,
        workers,
        masterPid: fpm.pid,
        /**
         * The same servers seen through another pool: its hub port, its
         * workers, and `frontPort` (an nginx server block for that pool).
         */
        forPool(name, frontPort) {
          const p = poolInfo.find((x) => x.name === name);
          return deployment({
            kind: `${label}/${name}`,
            dir,
            extension,
            hubPort: p.hubPort,
            frontPort,
            wsUrl: `ws://127.0.0.1:${frontPort}/ws`,
            groups: [],
            servingPids: () => workers(name),
            logFiles: [],
            extra: { stop: async () => {} },
          });
        },
      },
    });
  } catch (err) {
    for (const g of groups.reverse()) await g.stop().catch(() => {});
    const logs = ['php-fpm.log', 'nginx-error.log', 'realtime.log'].map((f) => `--- ${f} ---\n${tail(readLog(path.join(dir, f)))}`).join('\n');
    removeDir(dir);
    throw new Error(`${label}: servers did not start: ${err.message}\n${logs}`);
  }
}

/**
 * apache2 prefork + mod_php, clients straight to the hub port (and a few
 * through /ws). mpm 'event' with a ZTS phpModule (scripts/zts-php.sh):
 * `start` children of `threads` threads each, one hub per child.
 */
export async function apache({ label = 'apache', start = 4, minSpare = 2, maxSpare = 16, maxWorkers = 32, maxConnectionsPerChild = 0, iniExtra = 'realtime.allow_anonymous = 1', mpm = 'prefork', phpModule = APACHE_PHP_MODULE, threads = 8 } = {}) {
  const dir = makeTempDir(label);
  fs.mkdirSync(path.join(dir, 'run'));
  fs.mkdirSync(path.join(dir, 'logs'));
  const groups = [];
  try {
    const extension = await privateExtension(dir);
    const [hubPort, httpPort] = await freePorts(2);
    const ini = writeIni(dir, extension, hubPort, iniExtra);
    const conf = path.join(dir, 'apache2.conf');
    let text = apacheConf({ dir, listen: `127.0.0.1:${httpPort}`, hubAddr: `127.0.0.1:${hubPort}`, start, minSpare, maxSpare, maxWorkers, mpm, phpModule, threads });
    // (the documented config keeps children: 0; the handoff tests recycle them)
    if (maxConnectionsPerChild) text = text.replace(/MaxConnectionsPerChild\s+0/, `MaxConnectionsPerChild  ${maxConnectionsPerChild}`);
    fs.writeFileSync(conf, text);
    // What Debian's apache2ctl exports from /etc/apache2/envvars.
    const env = {
      ...PHP_ENV,
      APACHE_RUN_USER: 'www-data',
      APACHE_RUN_GROUP: 'www-data',
      APACHE_PID_FILE: path.join(dir, 'apache2.pid'),
      APACHE_RUN_DIR: path.join(dir, 'run'),
      APACHE_LOCK_DIR: path.join(dir, 'run'),
      APACHE_LOG_DIR: path.join(dir, 'logs'),
      LANG: 'C',
    };
    const httpd = spawnGroup('apache2', APACHE_BIN, ['-D', 'FOREGROUND', '-f', conf], { env, marker: dir });
    groups.push(httpd);
    await waitListening(httpd, httpPort, 'apache2');
    // httpd opens its own port in its first configuration pass, and mod_php
    // starts PHP (our MINIT, which binds the hub port) only in the second:
    // the server has started once that pass forked its first child.
    await waitFor(() => childrenOf(httpd.pid).length > 0, 20000, { message: 'apache2 to fork its children' });
    return deployment({
      kind: label,
      dir,
      extension,
      hubPort,
      frontPort: httpPort,
      wsUrl: `ws://127.0.0.1:${hubPort}/ws`,
      groups,
      servingPids: () => childrenOf(httpd.pid),
      logFiles: [path.join(dir, 'apache-error.log'), ...ini.logFiles],
      extra: { httpd, parentPid: httpd.pid, proxyWsUrl: `ws://127.0.0.1:${httpPort}/ws` },
    });
  } catch (err) {
    for (const g of groups.reverse()) await g.stop().catch(() => {});
    const log = tail(readLog(path.join(dir, 'apache-error.log')));
    removeDir(dir);
    throw new Error(`${label}: apache2 did not start: ${err.message}\n${log}`);
  }
}

/**
 * php -S with PHP_CLI_SERVER_WORKERS=workers. php -S forks that many
 * workers and keeps serving requests in the parent too, so workers + 1
 * processes run PHP (and hubs).
 */
export async function cliServer({ label = 'cliserver', workers = 4, iniExtra = 'realtime.allow_anonymous = 1', docroot = DOCROOT } = {}) {
  const dir = makeTempDir(label);
  const groups = [];
  try {
    const extension = await privateExtension(dir);
    const [hubPort, httpPort] = await freePorts(2);
    const ini = writeIni(dir, extension, hubPort, iniExtra);
    const server = spawnGroup(
      'php -S',
      phpBin(),
      ['-c', ini.file, '-S', `127.0.0.1:${httpPort}`, '-t', docroot],
      { env: { ...PHP_ENV, PHP_CLI_SERVER_WORKERS: String(workers) }, marker: dir, cwd: docroot },
    );
    groups.push(server);
    await waitListening(server, httpPort, 'php -S');
    return deployment({
      kind: label,
      dir,
      extension,
      hubPort,
      frontPort: httpPort,
      wsUrl: `ws://127.0.0.1:${hubPort}/ws`,
      groups,
      servingPids: () => [server.pid, ...childrenOf(server.pid)],
      logFiles: ini.logFiles,
      extra: {
        server,
        parentPid: server.pid,
        workerPids: () => childrenOf(server.pid),
        isWorker: (pid) => childrenOf(server.pid).includes(pid),
      },
    });
  } catch (err) {
    for (const g of groups.reverse()) await g.stop().catch(() => {});
    removeDir(dir);
    throw new Error(`${label}: php -S did not start: ${err.message}`);
  }
}
