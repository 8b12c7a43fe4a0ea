// WebSocket conformance of the hub's connection, framing and session code
// (RFC 6455), in the spirit of the Autobahn testsuite's case groups 1-7, 9
// and 10, against the echo testee (echo.c). Where the hub deliberately
// differs from an echo server (binary messages refused with 1003), the case
// states what the hub does. docs/conformance.md has the results per group.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OP, closePayload, connect, frame, startEcho, utf8 } from './lib.mjs';

let echo;
before(async () => {
  echo = await startEcho();
});
after(async () => {
  await echo?.stop();
});

const open = () => connect(echo.port);
const bytes = (n, fill = 0x2a) => Buffer.alloc(n, fill);

/** Sends frames (optionally chopped), then runs the expectations. */
async function exchange(frames, expect, opts) {
  const ws = await open();
  try {
    await ws.send(frames, opts);
    await expect(ws);
  } finally {
    ws.destroy();
  }
}

describe('1 framing', () => {
  for (const n of [0, 125, 126, 127, 128, 65535, 65536]) {
    it(`1.1 a text message of ${n} bytes is echoed`, () =>
      exchange(frame(OP.TEXT, bytes(n)), async (ws) => {
        await ws.expectEcho(bytes(n));
        await ws.closeCleanly();
      }));
  }
  it('1.1.8 a 65536-byte text message sent in 997-byte chops is echoed', () =>
    exchange(frame(OP.TEXT, bytes(65536)), async (ws) => {
      await ws.expectEcho(bytes(65536));
      await ws.closeCleanly();
    }, { chop: 997 }));
  for (const n of [0, 125, 65536]) {
    it(`1.2 a binary message of ${n} bytes: the hub refuses binary data with 1003 (deliberate)`, () =>
      exchange(frame(OP.BINARY, bytes(n)), (ws) => ws.expectClose(1003)));
  }
  it('1.3 an unmasked client frame is a protocol error: 1002', () =>
    exchange(frame(OP.TEXT, 'hello', { mask: false }), (ws) => ws.expectClose(1002)));
  it('1.4 several text messages in one write are echoed in order', () =>
    exchange([frame(OP.TEXT, 'one'), frame(OP.TEXT, 'two'), frame(OP.TEXT, 'three')], async (ws) => {
      await ws.expectEcho('one');
      await ws.expectEcho('two');
      await ws.expectEcho('three');
      await ws.closeCleanly();
    }));
});

describe('2 pings and pongs', () => {
  it('2.1 a ping without payload gets an empty pong', () =>
    exchange(frame(OP.PING), async (ws) => {
      await ws.expectPong();
      await ws.closeCleanly();
    }));
  it('2.2 a ping with a text payload gets the same payload back', () =>
    exchange(frame(OP.PING, 'Hello, world!'), async (ws) => {
      await ws.expectPong('Hello, world!');
      await ws.closeCleanly();
    }));
  it('2.3 a ping with a binary payload gets the same payload back', () =>
    exchange(frame(OP.PING, Buffer.from([0, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0, 0xff])), async (ws) => {
      await ws.expectPong(Buffer.from([0, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0, 0xff]));
      await ws.closeCleanly();
    }));
  it('2.4 a ping with 125 bytes of payload gets its pong', () =>
    exchange(frame(OP.PING, bytes(125, 0xfe)), async (ws) => {
      await ws.expectPong(bytes(125, 0xfe));
      await ws.closeCleanly();
    }));
  it('2.5 a ping with 126 bytes of payload is a protocol error: 1002', () =>
    exchange(frame(OP.PING, bytes(126, 0xfe)), (ws) => ws.expectClose(1002)));
  it('2.6 a ping with 125 bytes sent one byte at a time gets its pong', () =>
    exchange(frame(OP.PING, bytes(125, 0xfe)), async (ws) => {
      await ws.expectPong(bytes(125, 0xfe));
      await ws.closeCleanly();
    }, { chop: 1 }));
  it('2.7 an unsolicited pong without payload is ignored', () =>
    exchange([frame(OP.PONG), frame(OP.TEXT, 'after')], async (ws) => {
      await ws.expectEcho('after');
      await ws.closeCleanly();
    }));
  it('2.8 an unsolicited pong with payload is ignored', () =>
    exchange([frame(OP.PONG, 'unsolicited pong payload'), frame(OP.TEXT, 'after')], async (ws) => {
      await ws.expectEcho('after');
      await ws.closeCleanly();
    }));
  it('2.9 an unsolicited pong, then a ping: one pong, for the ping', () =>
    exchange([frame(OP.PONG, 'unsolicited'), frame(OP.PING, 'solicited')], async (ws) => {
      await ws.expectPong('solicited');
      await ws.closeCleanly();
    }));
  it('2.10 ten pings in one write: ten pongs in order', () =>
    exchange(Array.from({ length: 10 }, (_, i) => frame(OP.PING, `ping ${i}`)), async (ws) => {
      for (let i = 0; i < 10; i++) await ws.expectPong(`ping ${i}`);
      await ws.closeCleanly();
    }));
  it('2.11 ten pings sent in 1-byte chops: ten pongs in order', () =>
    exchange(Array.from({ length: 10 }, (_, i) => frame(OP.PING, `ping ${i}`)), async (ws) => {
      for (let i = 0; i < 10; i++) await ws.expectPong(`ping ${i}`);
      await ws.closeCleanly();
    }, { chop: 1 }));
});

describe('3 reserved bits', () => {
  for (const rsv of [1, 2, 3, 4, 5, 6, 7]) {
    it(`3.${rsv} a text frame with RSV=${rsv} (no extension negotiated) is a protocol error: 1002`, () =>
      exchange(frame(OP.TEXT, 'hello', { rsv }), (ws) => ws.expectClose(1002)));
  }
  it('3.8 a valid message, then one with RSV=2: the first is echoed, then 1002', () =>
    exchange([frame(OP.TEXT, 'first'), frame(OP.TEXT, 'second', { rsv: 2 })], async (ws) => {
      await ws.expectEcho('first');
      await ws.expectClose(1002);
    }));
  it('3.9 a ping with RSV=4 is a protocol error: 1002', () =>
    exchange(frame(OP.PING, 'hello', { rsv: 4 }), (ws) => ws.expectClose(1002)));
  it('3.10 a binary frame with RSV=3: 1002 (the frame error wins over binary refusal)', () =>
    exchange(frame(OP.BINARY, bytes(8), { rsv: 3 }), (ws) => ws.expectClose(1002)));
});

describe('4 opcodes', () => {
  for (const op of [3, 4, 5, 6, 7]) {
    it(`4.1 reserved non-control opcode ${op} is a protocol error: 1002`, () =>
      exchange(frame(op, 'x'), (ws) => ws.expectClose(1002)));
  }
  for (const op of [0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`4.2 reserved control opcode ${op} is a protocol error: 1002`, () =>
      exchange(frame(op, 'x'), (ws) => ws.expectClose(1002)));
  }
  it('4.3 a text message, then opcode 5, then a ping: the echo, then 1002, no pong', () =>
    exchange([frame(OP.TEXT, 'first'), frame(5, 'x'), frame(OP.PING)], async (ws) => {
      await ws.expectEcho('first');
      await ws.expectClose(1002);
    }));
});

describe('5 fragmentation', () => {
  it('5.1 a fragmented ping (FIN=0) is a protocol error: 1002', () =>
    exchange([frame(OP.PING, 'frag', { fin: false }), frame(OP.CONT, 'ment')], (ws) => ws.expectClose(1002)));
  it('5.2 a fragmented pong is a protocol error: 1002', () =>
    exchange([frame(OP.PONG, 'frag', { fin: false }), frame(OP.CONT, 'ment')], (ws) => ws.expectClose(1002)));
  it('5.3 a text message in two fragments is echoed whole', () =>
    exchange([frame(OP.TEXT, 'frag', { fin: false }), frame(OP.CONT, 'ment')], async (ws) => {
      await ws.expectEcho('fragment');
      await ws.closeCleanly();
    }));
  it('5.4 a text message in two fragments sent in 1-byte chops', () =>
    exchange([frame(OP.TEXT, 'frag', { fin: false }), frame(OP.CONT, 'ment')], async (ws) => {
      await ws.expectEcho('fragment');
      await ws.closeCleanly();
    }, { chop: 1 }));
  it('5.5 a ping between two fragments in one write: a pong and the whole message (in either order)', () =>
    exchange([frame(OP.TEXT, 'frag', { fin: false }), frame(OP.PING, 'between'), frame(OP.CONT, 'ment')], async (ws) => {
      // The hub answers control frames after the messages of the same read:
      // when all three frames arrive at once, the echo goes out first.
      const got = [await ws.next(), await ws.next()];
      const pong = got.find((f) => f?.opcode === OP.PONG);
      const msg = got.find((f) => f?.opcode === OP.TEXT);
      assert.ok(pong && msg, `expected a pong and a text frame, got opcodes ${got.map((f) => f?.opcode)}`);
      assert.equal(pong.payload.toString(), 'between');
      assert.ok(msg.fin);
      assert.equal(msg.payload.toString(), 'fragment');
      await ws.closeCleanly();
    }));
  it('5.6 the same, each frame written separately after the previous answer', async () => {
    const ws = await open();
    try {
      await ws.send(frame(OP.TEXT, 'frag', { fin: false }));
      await ws.send(frame(OP.PING, 'between'));
      await ws.expectPong('between');
      await ws.send(frame(OP.CONT, 'ment'));
      await ws.expectEcho('fragment');
      await ws.closeCleanly();
    } finally {
      ws.destroy();
    }
  });
  it('5.7 a continuation with no message started (FIN=1) is a protocol error: 1002', () =>
    exchange(frame(OP.CONT, 'orphan'), (ws) => ws.expectClose(1002)));
  it('5.8 a continuation with no message started (FIN=0) is a protocol error: 1002', () =>
    exchange([frame(OP.CONT, 'orphan', { fin: false }), frame(OP.CONT, 'again')], (ws) => ws.expectClose(1002)));
  it('5.9 a new text frame inside a fragmented message is a protocol error: 1002', () =>
    exchange([frame(OP.TEXT, 'frag', { fin: false }), frame(OP.TEXT, 'new')], (ws) => ws.expectClose(1002)));
  it('5.10 a message in 100 fragments of 1 to 100 bytes is echoed whole', () => {
    const parts = [];
    let all = Buffer.alloc(0);
    for (let i = 0; i < 100; i++) {
      const p = bytes(i + 1, 0x41 + (i % 26));
      all = Buffer.concat([all, p]);
      parts.push(frame(i === 0 ? OP.TEXT : OP.CONT, p, { fin: i === 99 }));
    }
    return exchange(parts, async (ws) => {
      await ws.expectEcho(all);
      await ws.closeCleanly();
    });
  });
  it('5.11 empty fragments around a payload are echoed as one message', () =>
    exchange([frame(OP.TEXT, '', { fin: false }), frame(OP.CONT, 'middle', { fin: false }), frame(OP.CONT, '')], async (ws) => {
      await ws.expectEcho('middle');
      await ws.closeCleanly();
    }));
  it('5.12 fragments with a ping after each, chopped into 3-byte writes: each pong, then the message', async () => {
    const ws = await open();
    try {
      for (let i = 0; i < 5; i++) {
        await ws.send(frame(i === 0 ? OP.TEXT : OP.CONT, `p${i}`, { fin: i === 4 }), { chop: 3 });
        if (i < 4) {
          await ws.send(frame(OP.PING, `ping ${i}`), { chop: 3 });
          await ws.expectPong(`ping ${i}`);
        }
      }
      await ws.expectEcho('p0p1p2p3p4');
      await ws.closeCleanly();
    } finally {
      ws.destroy();
    }
  });
  it('5.13 a binary message in fragments: 1003 (deliberate)', () =>
    exchange([frame(OP.BINARY, bytes(4), { fin: false }), frame(OP.CONT, bytes(4))], (ws) => ws.expectClose(1003)));
});

// Sequences from Autobahn's 6.x: valid ones are echoed, invalid ones close 1007.
const VALID_UTF8 = {
  'ASCII': utf8('Hello-µ@ßöäüàá-UTF-8!!'),
  'Greek kosme': Buffer.from('cebae1bdb9cf83cebcceb5', 'hex'),
  'first 2-byte (U+0080)': Buffer.from('c280', 'hex'),
  'first 3-byte (U+0800)': Buffer.from('e0a080', 'hex'),
  'first 4-byte (U+10000)': Buffer.from('f0908080', 'hex'),
  'last 1-byte (U+007F)': Buffer.from('7f', 'hex'),
  'last 2-byte (U+07FF)': Buffer.from('dfbf', 'hex'),
  'last 3-byte (U+FFFF)': Buffer.from('efbfbf', 'hex'),
  'last 4-byte (U+10FFFF)': Buffer.from('f48fbfbf', 'hex'),
  'U+D7FF, U+E000, U+FFFD': Buffer.from('ed9fbfee8080efbfbd', 'hex'),
  'noncharacters U+FFFE, U+FDD0': Buffer.from('efbfbeefb790', 'hex'),
  'NUL inside text': Buffer.from('610062', 'hex'),
};
const INVALID_UTF8 = {
  'lone continuation byte 0x80': Buffer.from('80', 'hex'),
  'lone continuation byte 0xbf': Buffer.from('bf', 'hex'),
  'truncated 2-byte sequence': Buffer.from('c2', 'hex'),
  'truncated 3-byte sequence': Buffer.from('e0a0', 'hex'),
  'truncated 4-byte sequence': Buffer.from('f09080', 'hex'),
  'start byte then ASCII': Buffer.from('c241', 'hex'),
  'overlong "/" in 2 bytes': Buffer.from('c0af', 'hex'),
  'overlong "/" in 3 bytes': Buffer.from('e080af', 'hex'),
  'overlong "/" in 4 bytes': Buffer.from('f08080af', 'hex'),
  'overlong U+07FF in 3 bytes': Buffer.from('e09fbf', 'hex'),
  'overlong U+FFFF in 4 bytes': Buffer.from('f08fbfbf', 'hex'),
  'surrogate U+D800': Buffer.from('eda080', 'hex'),
  'surrogate U+DFFF': Buffer.from('edbfbf', 'hex'),
  'surrogate pair U+D800 U+DC00': Buffer.from('eda080edb080', 'hex'),
  'above U+10FFFF (f4 90 80 80)': Buffer.from('f4908080', 'hex'),
  'byte 0xfe': Buffer.from('fe', 'hex'),
  'byte 0xff': Buffer.from('ff', 'hex'),
  '5-byte form': Buffer.from('f888808080', 'hex'),
  'valid text, then 0xed 0xa0 0x80': Buffer.concat([utf8('κόσμε'), Buffer.from('eda080', 'hex'), utf8('edited')]),
};

describe('6 UTF-8', () => {
  for (const [name, b] of Object.entries(VALID_UTF8)) {
    it(`6.1 valid: ${name} is echoed`, () =>
      exchange(frame(OP.TEXT, b), async (ws) => {
        await ws.expectEcho(b);
        await ws.closeCleanly();
      }));
  }
  for (const [name, b] of Object.entries(INVALID_UTF8)) {
    it(`6.2 invalid: ${name} closes with 1007`, () =>
      exchange(frame(OP.TEXT, b), (ws) => ws.expectClose(1007)));
  }
  it('6.3 valid text split inside a 4-byte character across fragments is echoed', () => {
    const b = Buffer.from('f09f9880f09f9881', 'hex'); // two emoji
    return exchange([frame(OP.TEXT, b.subarray(0, 2), { fin: false }), frame(OP.CONT, b.subarray(2, 6), { fin: false }), frame(OP.CONT, b.subarray(6))], async (ws) => {
      await ws.expectEcho(b);
      await ws.closeCleanly();
    });
  });
  it('6.4 valid text sent one byte per fragment is echoed', () => {
    const b = utf8('κόσμε €𝄞');
    const parts = [...b].map((x, i) => frame(i === 0 ? OP.TEXT : OP.CONT, Buffer.from([x]), { fin: i === b.length - 1 }));
    return exchange(parts, async (ws) => {
      await ws.expectEcho(b);
      await ws.closeCleanly();
    });
  });
  it('6.5 invalid UTF-8 in a later fragment closes with 1007', () =>
    exchange([frame(OP.TEXT, 'valid', { fin: false }), frame(OP.CONT, Buffer.from('c0af', 'hex'), { fin: false }), frame(OP.CONT, 'tail')],
      (ws) => ws.expectClose(1007)));
  it('6.6 fail-fast: invalid UTF-8 in the first fragment closes with 1007 before the message ends', async () => {
    const ws = await open();
    try {
      await ws.send(frame(OP.TEXT, Buffer.concat([utf8('κόσμε'), Buffer.from('eda080', 'hex')]), { fin: false }));
      await ws.expectClose(1007);
    } finally {
      ws.destroy();
    }
  });
  it('6.7 fail-fast: a sequence that can never become valid closes at once, the message unfinished', async () => {
    const ws = await open();
    try {
      await ws.send(frame(OP.TEXT, Buffer.from('48656c6c6ff4908080', 'hex'), { fin: false }));
      await ws.expectClose(1007);
    } finally {
      ws.destroy();
    }
  });
  it('6.8 fail-fast: a truncated character at the end of a fragment is not an error yet', async () => {
    const ws = await open();
    try {
      await ws.send(frame(OP.TEXT, Buffer.from('41f09f', 'hex'), { fin: false }));
      await ws.send(frame(OP.PING, 'still open'));
      await ws.expectPong('still open');
      await ws.send(frame(OP.CONT, Buffer.from('9880', 'hex')));
      await ws.expectEcho(Buffer.from('41f09f9880', 'hex'));
      await ws.closeCleanly();
    } finally {
      ws.destroy();
    }
  });
});

describe('7 closing', () => {
  it('7.1 a close 1000 is answered with 1000, then the hub ends the connection', () =>
    exchange(frame(OP.CLOSE, closePayload(1000)), (ws) => ws.expectClose(1000)));
  it('7.2 a second close after the first is ignored', () =>
    exchange([frame(OP.CLOSE, closePayload(1000)), frame(OP.CLOSE, closePayload(1000))], (ws) => ws.expectClose(1000)));
  it('7.3 a ping after a close gets no pong', () =>
    exchange([frame(OP.CLOSE, closePayload(1000)), frame(OP.PING, 'late')], (ws) => ws.expectClose(1000)));
  it('7.4 a text message after a close is not echoed', () =>
    exchange([frame(OP.CLOSE, closePayload(1000)), frame(OP.TEXT, 'late')], (ws) => ws.expectClose(1000)));
  it('7.5 a fragment, then a close: the close is answered, nothing echoed', () =>
    exchange([frame(OP.TEXT, 'frag', { fin: false }), frame(OP.CLOSE, closePayload(1000))], (ws) => ws.expectClose(1000)));
  it('7.6 a text message, then a close: echo, then the close', () =>
    exchange([frame(OP.TEXT, 'before'), frame(OP.CLOSE, closePayload(1000))], async (ws) => {
      await ws.expectEcho('before');
      await ws.expectClose(1000);
    }));
  it('7.7 a close without payload is answered with a close (no code, or 1000)', () =>
    exchange(frame(OP.CLOSE), (ws) => ws.expectClose([null, 1000])));
  it('7.8 a close with a 1-byte payload (a protocol error): the hub answers a close without a code (wslay 1.1; RFC: 1002)', () =>
    exchange(frame(OP.CLOSE, Buffer.from([0x03])), (ws) => ws.expectClose([null, 1002])));
  it('7.9 a close with code 1000 and a 123-byte reason is answered with 1000', () =>
    exchange(frame(OP.CLOSE, closePayload(1000, 'x'.repeat(123))), (ws) => ws.expectClose(1000)));
  it('7.10 a close with a 124-byte reason (126-byte payload) is a protocol error: 1002', () =>
    exchange(frame(OP.CLOSE, closePayload(1000, 'x'.repeat(124))), (ws) => ws.expectClose(1002)));
  it('7.11 a close with an invalid UTF-8 reason closes with 1007', () =>
    exchange(frame(OP.CLOSE, closePayload(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex'))), (ws) => ws.expectClose(1007)));
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]) {
    it(`7.12 a close with valid code ${code} is answered with the same code`, () =>
      exchange(frame(OP.CLOSE, closePayload(code)), (ws) => ws.expectClose(code)));
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    it(`7.13 a close with invalid code ${code} is a protocol error: 1002`, () =>
      exchange(frame(OP.CLOSE, closePayload(code)), (ws) => ws.expectClose(1002)));
  }
});

describe('9 sizes', () => {
  for (const mib of [1 / 16, 1 / 4, 1, 4, 16]) {
    const n = Math.round(mib * 1024 * 1024);
    it(`9.1 a text message of ${n} bytes is echoed`, () =>
      exchange(frame(OP.TEXT, bytes(n, 0x61)), async (ws) => {
        await ws.expectEcho(bytes(n, 0x61), 60000);
        await ws.closeCleanly();
      }));
  }
  for (const size of [64, 4096, 65536, 1 << 20]) {
    it(`9.2 a 4 MiB text message in fragments of ${size} bytes is echoed`, () => {
      const all = bytes(4 << 20, 0x62);
      const parts = [];
      for (let off = 0; off < all.length; off += size) {
        parts.push(frame(off === 0 ? OP.TEXT : OP.CONT, all.subarray(off, off + size), { fin: off + size >= all.length }));
      }
      return exchange(parts, async (ws) => {
        await ws.expectEcho(all, 60000);
        await ws.closeCleanly();
      });
    });
  }
  it('9.3 a binary message of 1 MiB: 1003 (deliberate)', () =>
    exchange(frame(OP.BINARY, bytes(1 << 20)), (ws) => ws.expectClose(1003, 60000)));
  it('9.4 1000 messages of 16 bytes in one write are echoed in order', () => {
    const msgs = Array.from({ length: 1000 }, (_, i) => utf8(`message ${String(i).padStart(8, '0')}`));
    return exchange(msgs.map((m) => frame(OP.TEXT, m)), async (ws) => {
      for (const m of msgs) await ws.expectEcho(m);
      await ws.closeCleanly();
    });
  });
  it('9.5 a message over realtime.max_message_size is refused with 1009', async () => {
    const small = await startEcho({ max_message_size: 65536 });
    try {
      const ws = await connect(small.port);
      try {
        await ws.send(frame(OP.TEXT, bytes(65537)));
        await ws.expectClose(1009);
      } finally {
        ws.destroy();
      }
      const ws2 = await connect(small.port);
      try {
        await ws2.send([frame(OP.TEXT, bytes(40000), { fin: false }), frame(OP.CONT, bytes(40000))]);
        await ws2.expectClose(1009);
      } finally {
        ws2.destroy();
      }
    } finally {
      await small.stop();
    }
  });
});

describe('10 auto-fragmentation', () => {
  it('10.1 a 65536-byte message in 1300-byte fragments is echoed as one message', () => {
    const all = bytes(65536, 0x63);
    const parts = [];
    for (let off = 0; off < all.length; off += 1300) {
      parts.push(frame(off === 0 ? OP.TEXT : OP.CONT, all.subarray(off, off + 1300), { fin: off + 1300 >= all.length }));
    }
    return exchange(parts, async (ws) => {
      const m = await ws.expectEcho(all);
      assert.ok(m.frames >= 1);
      await ws.closeCleanly();
    });
  });
  it('10.2 the same, sent in 1-KiB chops across frame boundaries', () => {
    const all = bytes(65536, 0x64);
    const parts = [];
    for (let off = 0; off < all.length; off += 1300) {
      parts.push(frame(off === 0 ? OP.TEXT : OP.CONT, all.subarray(off, off + 1300), { fin: off + 1300 >= all.length }));
    }
    return exchange(parts, async (ws) => {
      await ws.expectEcho(all);
      await ws.closeCleanly();
    }, { chop: 1024 });
  });
});
