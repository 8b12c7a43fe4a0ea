// WebSocket framing: close codes for bad frames, the inbound size limit, and
// that one bad client does not disturb the others.
// Server: realtime.max_message_size=1024.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OP, closeAll, connect, rawWebSocket, startServer } from './lib/server.mjs';

const LIMIT = 1024;

/** A ping request padded with spaces to exactly `size` bytes. */
function pingOfSize(size, id = 'sized') {
  const base = JSON.stringify({ action: 'ping', id });
  assert.ok(size >= base.length);
  return base.slice(0, -1) + ' '.repeat(size - base.length) + '}';
}

describe('frames and close codes', () => {
  let server;
  let watcher; // a well-behaved client that must keep receiving throughout
  const clients = [];
  let seq = 0;

  async function watcherStillReceives() {
    const n = ++seq;
    await server.publish('watch', { n });
    const m = await watcher.next((x) => x.type === 'message');
    assert.deepEqual(m.data, { n });
    assert.ok(watcher.isOpen);
  }

  async function expectClose(client, code) {
    const info = await client.waitClose(5000);
    assert.equal(info.code, code, `close code ${info.code} (${info.reason}), expected ${code}`);
  }

  async function expectRawClose(raw, code) {
    const frame = await raw.nextClose(5000);
    assert.equal(frame.code, code, `close code ${frame.code} (${frame.reason}), expected ${code}`);
    await raw.waitEnd(5000);
  }

  before(async () => {
    server = await startServer({ ini: { max_message_size: LIMIT } });
    watcher = await connect(server.wsUrl);
    await watcher.subscribe('watch');
  });
  after(async () => {
    closeAll(watcher, clients);
    await server?.stop();
  });

  it('a binary frame closes with 1003', async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    c.send(Buffer.from('{"action":"ping"}'), { binary: true });
    await expectClose(c, 1003);
    await watcherStillReceives();
  });

  it(`a text message of exactly max_message_size (${LIMIT}) bytes is accepted`, async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    const msg = pingOfSize(LIMIT, 'exact');
    assert.equal(Buffer.byteLength(msg), LIMIT);
    c.send(msg);
    assert.deepEqual(await c.next(), { type: 'pong', id: 'exact' });
  });

  it('a text message over max_message_size closes with 1009', async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    c.send(pingOfSize(LIMIT + 1, 'over'));
    await expectClose(c, 1009);
    await watcherStillReceives();

    const big = await connect(server.wsUrl);
    clients.push(big);
    big.send('x'.repeat(200 * 1024));
    await expectClose(big, 1009);
    await watcherStillReceives();
  });

  it('a fragmented message over max_message_size closes with 1009', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    const chunk = Buffer.from('x'.repeat(600));
    raw.send({ opcode: OP.TEXT, fin: false, payload: chunk });
    raw.send({ opcode: OP.CONT, fin: false, payload: chunk });
    raw.send({ opcode: OP.CONT, fin: true, payload: chunk });
    await expectRawClose(raw, 1009);
    await watcherStillReceives();
  });

  it('invalid UTF-8 in a text frame closes with 1007', async () => {
    const c = await connect(server.wsUrl);
    clients.push(c);
    // ws sends a Buffer as a text frame without checking it.
    c.send(Buffer.from([0x7b, 0x22, 0x61, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    await expectClose(c, 1007);
    await watcherStillReceives();

    // Overlong encoding of "/" and a lone surrogate are invalid too.
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const raw = await rawWebSocket(server.wsPort);
      clients.push(raw);
      await raw.nextJson((m) => m.type === 'connected');
      raw.send({ opcode: OP.TEXT, payload: Buffer.from([0x22, ...bytes, 0x22]) });
      await expectRawClose(raw, 1007);
    }
    await watcherStillReceives();
  });

  it('an unmasked client frame closes with 1002', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    raw.send({ opcode: OP.TEXT, payload: '{"action":"ping"}', mask: false });
    await expectRawClose(raw, 1002);
    await watcherStillReceives();
  });

  it('a reserved opcode closes with 1002', async () => {
    for (const opcode of [0x3, 0xb]) {
      const raw = await rawWebSocket(server.wsPort);
      clients.push(raw);
      await raw.nextJson((m) => m.type === 'connected');
      raw.send({ opcode, payload: 'x' });
      await expectRawClose(raw, 1002);
    }
    await watcherStillReceives();
  });

  it('RSV bits without a negotiated extension close with 1002', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    raw.send({ opcode: OP.TEXT, payload: '{"action":"ping"}', rsv: 0x4 });
    await expectRawClose(raw, 1002);
  });

  it('a continuation frame with no message started closes with 1002', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    raw.send({ opcode: OP.CONT, payload: '{"action":"ping"}' });
    await expectRawClose(raw, 1002);
    await watcherStillReceives();
  });

  it('a control frame over 125 bytes closes with 1002', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    raw.send({ opcode: OP.PING, payload: 'x'.repeat(126) });
    await expectRawClose(raw, 1002);
    await watcherStillReceives();
  });

  it('a fragmented control frame closes with 1002', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    raw.send({ opcode: OP.PING, fin: false, payload: 'x' });
    await expectRawClose(raw, 1002);
    await watcherStillReceives();
  });

  it('reassembles fragmented text messages, with control frames in between', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    raw.send({ opcode: OP.TEXT, fin: false, payload: '{"action":' });
    raw.send({ opcode: OP.PING, payload: 'mid' });
    raw.send({ opcode: OP.CONT, fin: false, payload: '"ping",' });
    raw.send({ opcode: OP.CONT, fin: true, payload: '"id":"frag"}' });
    const pong = await raw.nextFrame((f) => f.opcode === OP.PONG);
    assert.equal(pong.payload.toString(), 'mid');
    assert.deepEqual(await raw.nextJson(), { type: 'pong', id: 'frag' });

    // A multi-byte character split across fragments is still valid UTF-8.
    const snow = Buffer.from('{"action":"ping","id":"☃"}');
    const cut = snow.indexOf(0xe2) + 1;
    raw.send({ opcode: OP.TEXT, fin: false, payload: snow.subarray(0, cut) });
    raw.send({ opcode: OP.CONT, fin: true, payload: snow.subarray(cut) });
    assert.deepEqual(await raw.nextJson(), { type: 'pong', id: '☃' });
    raw.close();
  });

  it('answers a WebSocket ping frame with a pong carrying the same payload', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    raw.send({ opcode: OP.PING, payload: 'hello' });
    const pong = await raw.nextFrame((f) => f.opcode === OP.PONG);
    assert.equal(pong.payload.toString(), 'hello');
    assert.equal(pong.masked, false);
    raw.close();
  });

  it('echoes a client close frame and ends the connection', async () => {
    const raw = await rawWebSocket(server.wsPort);
    clients.push(raw);
    await raw.nextJson((m) => m.type === 'connected');
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(1000);
    raw.send({ opcode: OP.CLOSE, payload });
    await expectRawClose(raw, 1000);
  });

  it('the watcher received everything and is still open', async () => {
    await watcherStillReceives();
    await watcher.flush();
    assert.deepEqual(watcher.deliveries(), []);
  });
});
