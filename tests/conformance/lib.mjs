// Helpers for the conformance suite: the echo testee (build/echo, the hub's
// own code with an echo protocol) and a raw WebSocket client that sends
// exactly the bytes a case asks for and reads every frame the hub sends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ECHO_BIN = process.env.RT_ECHO_BIN || path.join(HERE, 'build', 'echo');

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * Starts the testee; settings are realtime.* values. stop() ends it with
 * SIGTERM and asserts a clean exit with no sanitizer report on stderr.
 */
export async function startEcho(settings = {}) {
  assert.ok(fs.existsSync(ECHO_BIN), `${ECHO_BIN} not built: make -C tests/conformance`);
  const port = await freePort();
  const args = Object.entries({ listen: `127.0.0.1:${port}`, ...settings }).map(([k, v]) => `${k}=${v}`);
  const proc = spawn(ECHO_BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1:abort_on_error=0',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo testee not ready in 10 s: ${stderr}`)), 10000);
    const check = () => {
      if (stdout.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', check);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`echo testee exited (${code ?? signal}): ${stderr}`));
    });
    check();
  });
  return {
    port,
    get stderr() { return stderr; },
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
      const { code, signal } = await exited;
      clearTimeout(timer);
      assert.doesNotMatch(stderr, /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/, 'sanitizer report from the testee');
      assert.equal(code, 0, `echo testee exit ${code ?? signal}: ${stderr}`);
    },
  };
}

/** A client frame: masked unless mask === false. */
export function frame(opcode, payload = Buffer.alloc(0), { fin = true, rsv = 0, mask = true, len } = {}) {
  payload = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = len ?? payload.length;
  let head;
  if (n < 126) {
    head = Buffer.from([0, n]);
  } else if (n < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf);
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, key, body]);
}

/** A close frame's payload: the code, then the reason. */
export function closePayload(code, reason = '') {
  const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

/**
 * Opens a WebSocket on the testee with a hand-made handshake. The client
 * parses every server frame (asserting that it is unmasked and has no
 * RSV bits) into a queue that next() reads.
 */
export async function connect(port, { path: wsPath = '/ws' } = {}) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const key = crypto.randomBytes(16).toString('base64');
  sock.write(
    `GET ${wsPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');

  const c = {
    sock,
    frames: [],
    waiters: [],
    ended: false,
    error: null,
    buf: Buffer.alloc(0),
    head: null,
  };
  let resolveHead;
  let rejectHead;
  const headDone = new Promise((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  const wake = () => {
    for (const w of c.waiters.splice(0)) w();
  };
  const parse = () => {
    for (;;) {
      const b = c.buf;
      if (b.length < 2) return;
      let n = b[1] & 0x7f;
      let off = 2;
      if (n === 126) {
        if (b.length < 4) return;
        n = b.readUInt16BE(2);
        off = 4;
      } else if (n === 127) {
        if (b.length < 10) return;
        n = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b[1] & 0x80) {
        c.error = new Error('the server sent a masked frame');
        return;
      }
      if (b.length < off + n) return;
      c.frames.push({ fin: !!(b[0] & 0x80), rsv: (b[0] >> 4) & 7, opcode: b[0] & 0xf, payload: b.subarray(off, off + n) });
      c.buf = b.subarray(off + n);
    }
  };
  sock.on('data', (d) => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
    if (c.head === null) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      c.head = c.buf.subarray(0, end).toString('latin1');
      c.buf = c.buf.subarray(end + 4);
      resolveHead();
    }
    parse();
    wake();
  });
  sock.on('error', (err) => {
    c.error = c.error || err;
    wake();
  });
  sock.on('close', () => {
    c.ended = true;
    rejectHead(new Error('connection closed during the handshake'));
    wake();
  });
  const timer = setTimeout(() => rejectHead(new Error('no handshake answer in 5 s')), 5000);
  await headDone.finally(() => clearTimeout(timer));
  assert.match(c.head, /^HTTP\/1\.1 101 /, c.head);
  const got = /\r\nsec-websocket-accept:[ \t]*([^\r]*)/i.exec(c.head);
  assert.equal(got?.[1]?.trim(), accept, `Sec-WebSocket-Accept in ${c.head}`);

  return {
    /** Writes bytes; chop: in pieces of that many bytes, each its own write. */
    async send(bytes, { chop } = {}) {
      const parts = Array.isArray(bytes) ? bytes : [bytes];
      const all = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
      if (!chop) {
        await new Promise((resolve) => sock.write(all, () => resolve()));
        return;
      }
      for (let i = 0; i < all.length; i += chop) {
        if (sock.destroyed) return;
        await new Promise((resolve) => sock.write(all.subarray(i, i + chop), () => resolve()));
      }
    },
    /** The next frame from the server; null when the connection ended first. */
    async next(ms = 10000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (c.error) throw c.error;
        if (c.frames.length) {
          const f = c.frames.shift();
          assert.equal(f.rsv, 0, 'RSV bits set on a server frame');
          return f;
        }
        if (c.ended) return null;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no frame from the server within ${ms} ms`);
        await new Promise((resolve) => {
          const t = setTimeout(resolve, left);
          c.waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    /** The next data message, reassembled from its frames. */
    async message(ms = 10000) {
      const first = await this.next(ms);
      assert.ok(first, 'the connection ended instead of a message');
      assert.ok(first.opcode === OP.TEXT || first.opcode === OP.BINARY,
        `expected a data frame, got opcode ${first.opcode}${first.opcode === OP.CLOSE ? ` (close ${first.payload.length >= 2 ? first.payload.readUInt16BE(0) : ''})` : ''}`);
      const parts = [first.payload];
      let f = first;
      while (!f.fin) {
        f = await this.next(ms);
        assert.ok(f, 'the connection ended inside a message');
        assert.equal(f.opcode, OP.CONT, 'a server fragment that is not a continuation');
        parts.push(f.payload);
      }
      return { opcode: first.opcode, data: Buffer.concat(parts), frames: parts.length };
    },
    /** Asserts that the hub echoes payload as one text message. */
    async expectEcho(payload, ms = 10000) {
      const want = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
      const m = await this.message(ms);
      assert.equal(m.opcode, OP.TEXT);
      assert.equal(m.data.length, want.length, 'echo length');
      assert.ok(m.data.equals(want), 'echo bytes differ');
      return m;
    },
    async expectPong(payload = Buffer.alloc(0), ms = 10000) {
      const f = await this.next(ms);
      assert.ok(f, 'the connection ended instead of a pong');
      assert.equal(f.opcode, OP.PONG, `expected a pong, got opcode ${f.opcode}`);
      assert.ok(f.payload.equals(Buffer.isBuffer(payload) ? payload : Buffer.from(payload)), 'pong payload differs');
    },
    /**
     * Asserts the hub's next frame is a close with one of codes (null: a close
     * without a code), then that the hub ends the TCP connection.
     */
    async expectClose(codes, ms = 10000) {
      const want = Array.isArray(codes) ? codes : [codes];
      const f = await this.next(ms);
      assert.ok(f, `the connection ended without a close frame (expected ${want.join('/')})`);
      assert.equal(f.opcode, OP.CLOSE, `expected a close frame, got opcode ${f.opcode}`);
      const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      assert.ok(want.includes(code), `close code ${code}, expected ${want.join(' or ')}`);
      if (f.payload.length > 2) {
        assert.ok(new TextDecoder('utf-8', { fatal: true }).decode(f.payload.subarray(2)) !== undefined);
      }
      await this.expectEnd(ms);
      return code;
    },
    /** Asserts the hub ends the TCP connection (after any frames left). */
    async expectEnd(ms = 10000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (c.ended) return;
        if (c.frames.length) {
          const f = c.frames.shift();
          assert.fail(`unexpected frame (opcode ${f.opcode}) while waiting for the connection to end`);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`the hub did not end the connection within ${ms} ms`);
        await new Promise((resolve) => {
          const t = setTimeout(resolve, left);
          c.waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    /** Our side of a clean close: sends close(code) and expects the echo. */
    async closeCleanly(code = 1000) {
      await this.send(frame(OP.CLOSE, closePayload(code)));
      return this.expectClose(code);
    },
    destroy() {
      sock.destroy();
    },
  };
}

/** Valid UTF-8 bytes of s. */
export const utf8 = (s) => Buffer.from(s, 'utf8');
