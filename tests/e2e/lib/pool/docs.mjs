// docs/deployment.md shows the configs the pool tests run: the same
// templates (conf/*.tmpl) and generators, rendered with the example values
// below instead of the tests' temp dirs and free ports. The tests check that
// every snippet appears in the doc verbatim.

import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, docRegion } from './proc.mjs';
import { PM, apacheConf, fpmPoolConf, nginxConf, phpIni } from './servers.mjs';

export const DOC_FILE = path.join(REPO_ROOT, 'docs', 'deployment.md');

export const EXAMPLE = {
  docroot: '/var/www/app/public',
  hubAddr: '127.0.0.1:6001',
  fpmAddr: '127.0.0.1:9000',
  secret: 'change-me-to-a-long-random-string',
};

export function fpmDocSnippets() {
  const x = EXAMPLE;
  return {
    'php.ini': docRegion(phpIni({ extension: 'realtime.so', hubAddr: x.hubAddr, secret: x.secret, log: '', errorLog: '' }), 'php-ini'),
    'FPM pool (pm = static)': docRegion(fpmPoolConf({ name: 'www', user: 'www-data', group: 'www-data', fpmAddr: x.fpmAddr, pm: PM.static4 }), 'fpm-pool'),
    'FPM pool (pm = dynamic)': docRegion(fpmPoolConf({ name: 'www', user: 'www-data', group: 'www-data', fpmAddr: x.fpmAddr, pm: PM.dynamic }), 'fpm-pool'),
    nginx: docRegion(nginxConf({ dir: '/unused', httpListen: '80', docroot: x.docroot, hubAddr: x.hubAddr, fpmAddr: x.fpmAddr }), 'nginx'),
  };
}

export function apacheDocSnippets() {
  const x = EXAMPLE;
  const conf = apacheConf({ dir: '/unused', listen: '*:80', docroot: x.docroot, hubAddr: x.hubAddr });
  return {
    'Apache prefork settings': docRegion(conf, 'apache-mpm'),
    'Apache event settings (ZTS mod_php)': docRegion(conf, 'apache-mpm-event'),
    'Apache virtual host': docRegion(conf, 'apache-vhost'),
  };
}

/** Names of the snippets missing from docs/deployment.md (with their text). */
export function missingFromDoc(snippets) {
  const doc = fs.readFileSync(DOC_FILE, 'utf8');
  return Object.entries(snippets)
    .filter(([, text]) => !doc.includes(text))
    .map(([name, text]) => `--- ${name} ---\n${text}`);
}
