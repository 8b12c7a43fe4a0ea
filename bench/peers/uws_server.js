'use strict';
// Peer: uWebSockets.js (npm @trufflesuite/uws-js-unofficial, aliased to
// "uWebSockets.js" in package.json), speaking the same subset as ws_server.js:
//   ws://127.0.0.1:PORT/ws with the JSON subscribe message, uWS pub/sub topics;
//   POST /pub?p=<prefix>&from=<first>&n=<channels>&count=<messages>; GET /health.
// The native binding is loaded directly so that the package's pure-JS
// fallback can never be benchmarked by mistake.
// usage: node uws_server.js PORT
const path = require('path');

const binary = path.join(path.dirname(require.resolve('uWebSockets.js/package.json')), 'binaries',
  `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
const uWS = require(binary);

const port = Number(process.argv[2] || 8201);
const maxOutbound = Number(process.env.MAX_OUTBOUND || 1048576);
let seq = 0;
let connections = 0;
const decoder = new TextDecoder();

const app = uWS.App();

app.ws('/ws', {
  compression: uWS.DISABLED,
  maxPayloadLength: 65536,
  maxBackpressure: maxOutbound,
  closeOnBackpressureLimit: true,
  idleTimeout: 120,
  open: (ws) => {
    connections++;
    ws.send(JSON.stringify({ type: 'connected', connection_id: String(++seq) }), false);
  },
  message: (ws, message, isBinary) => {
    if (isBinary) return;
    let msg;
    try { msg = JSON.parse(decoder.decode(message)); } catch { return; }
    if (msg.action === 'subscribe' && typeof msg.channel === 'string') {
      ws.subscribe(msg.channel);
      ws.send(JSON.stringify({ type: 'subscribed', channel: msg.channel }), false);
    } else if (msg.action === 'unsubscribe' && typeof msg.channel === 'string') {
      ws.unsubscribe(msg.channel);
      ws.send(JSON.stringify({ type: 'unsubscribed', channel: msg.channel }), false);
    }
  },
  close: () => { connections--; },
});

app.post('/pub', (res, req) => {
  const q = new URLSearchParams(req.getQuery());
  const p = q.get('p') || 'c';
  const from = Number(q.get('from') || 0);
  const n = Number(q.get('n') || 1);
  const count = Number(q.get('count') || 1);
  const chunks = [];
  let aborted = false;
  res.onAborted(() => { aborted = true; });
  res.onData((ab, isLast) => {
    chunks.push(Buffer.from(ab.slice(0))); // the ArrayBuffer is only valid in this call
    if (!isLast) return;
    const payload = Buffer.concat(chunks).toString();
    for (let k = 0; k < count; k++) {
      for (let i = 0; i < n; i++) {
        const name = p + (from + i);
        app.publish(name, JSON.stringify({ type: 'message', channel: name, data: payload }), false);
      }
    }
    if (!aborted) res.cork(() => res.writeHeader('Content-Type', 'application/json').end('{"ok":true}'));
  });
});

app.get('/health', (res) => {
  res.writeHeader('Content-Type', 'application/json')
    .end(JSON.stringify({ status: 'ok', pid: process.pid, connections }));
});

app.listen('127.0.0.1', port, (token) => {
  if (!token) {
    console.error(`uws peer: cannot listen on ${port}`);
    process.exit(1);
  }
  console.log(`uws peer listening on 127.0.0.1:${port} (pid ${process.pid})`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
