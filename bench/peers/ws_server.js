'use strict';
// Peer: Node + ws, speaking the tiny common subset the load generator uses.
//   WebSocket  ws://127.0.0.1:PORT/ws : sends {"type":"connected",...};
//     {"action":"subscribe","channel":"c1"} -> {"type":"subscribed","channel":"c1"};
//     deliveries {"type":"message","channel":"c1","data":<string>}
//   HTTP POST /pub?p=<prefix>&from=<first>&n=<channels>&count=<messages>, body = payload
//   HTTP GET /health
// A Set of sockets per channel; each message is encoded once per channel.
// A client with more than MAX_OUTBOUND bytes waiting is terminated (slow consumer).
// usage: node ws_server.js PORT
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 8101);
const maxOutbound = Number(process.env.MAX_OUTBOUND || 1048576);
const channels = new Map(); // name -> Set<WebSocket>
let seq = 0;
let connections = 0;

function publish(name, payload) {
  const set = channels.get(name);
  if (!set) return 0;
  const frame = Buffer.from(JSON.stringify({ type: 'message', channel: name, data: payload }));
  let n = 0;
  for (const ws of set) {
    if (ws.bufferedAmount > maxOutbound) {
      ws.terminate();
      continue;
    }
    ws.send(frame, { binary: false });
    n++;
  }
  return n;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', pid: process.pid, connections, channels: channels.size }));
    return;
  }
  if (url.pathname !== '/pub' || req.method !== 'POST') {
    res.writeHead(404);
    res.end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const payload = Buffer.concat(chunks).toString();
    const p = url.searchParams.get('p') || 'c';
    const from = Number(url.searchParams.get('from') || 0);
    const n = Number(url.searchParams.get('n') || 1);
    const count = Number(url.searchParams.get('count') || 1);
    let sent = 0;
    for (let k = 0; k < count; k++) {
      for (let i = 0; i < n; i++) sent += publish(p + (from + i), payload);
    }
    const body = JSON.stringify({ sent });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});

const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: false, maxPayload: 65536 });

wss.on('connection', (ws) => {
  connections++;
  const subs = new Set();
  ws.send(JSON.stringify({ type: 'connected', connection_id: String(++seq) }));
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let msg;
    try { msg = JSON.parse(data.toString()); } catch { return; }
    if (msg.action === 'subscribe' && typeof msg.channel === 'string') {
      let set = channels.get(msg.channel);
      if (!set) channels.set(msg.channel, (set = new Set()));
      set.add(ws);
      subs.add(msg.channel);
      ws.send(JSON.stringify({ type: 'subscribed', channel: msg.channel }));
    } else if (msg.action === 'unsubscribe' && typeof msg.channel === 'string') {
      const set = channels.get(msg.channel);
      if (set) { set.delete(ws); if (set.size === 0) channels.delete(msg.channel); }
      subs.delete(msg.channel);
      ws.send(JSON.stringify({ type: 'unsubscribed', channel: msg.channel }));
    }
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    connections--;
    for (const name of subs) {
      const set = channels.get(name);
      if (set) { set.delete(ws); if (set.size === 0) channels.delete(name); }
    }
  });
});

server.listen(port, '127.0.0.1', 4096, () => {
  console.log(`ws peer listening on 127.0.0.1:${port} (pid ${process.pid})`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
