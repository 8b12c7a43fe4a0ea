// Makes realtime.global.js, the classic-script build (window.Realtime), from
// the ES module realtime.js; nothing else to build. `node build.mjs --check`
// exits 1 when the committed file is out of date.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = fs.readFileSync(path.join(here, 'realtime.js'), 'utf8');
const names = [];
const body = source
  .replace(/^export (class|function|const) (\w+)/gm, (_, kind, name) => (names.push(name), `${kind} ${name}`))
  .replace(/^export \{([^}]*)\};\n/gm, (_, list) => (names.push(...list.split(',').map((s) => s.trim()).filter(Boolean)), ''))
  .replace(/^export default \w+;\n/gm, '');
if (/^\s*(import|export)\b/m.test(body)) throw new Error('realtime.js has an import or export build.mjs does not handle');
const out =
  '// Generated from realtime.js by build.mjs: do not edit. A classic script:\n' +
  '// window.Realtime is the client class, with the module\'s other exports on it.\n' +
  '(function (global) {\n' +
  "'use strict';\n" +
  body.trimEnd() +
  '\n' +
  `Object.assign(Realtime, { ${[...new Set(names)].join(', ')} });\n` +
  'global.Realtime = Realtime;\n' +
  "})(typeof globalThis !== 'undefined' ? globalThis : this);\n";
const target = path.join(here, 'realtime.global.js');
if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== out) {
    console.error('realtime.global.js is out of date: run node clients/js/build.mjs');
    process.exit(1);
  }
} else {
  fs.writeFileSync(target, out);
}
