// Error replies: {"type":"error","code":...,"message":...}; the connection
// stays open after each of them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAll, connect, startServer } from './lib/server.mjs';

function assertError(msg, code) {
  assert.equal(msg.type, 'error', JSON.stringify(msg));
  assert.equal(msg.code, code, JSON.stringify(msg));
  assert.equal(typeof msg.message, 'string', JSON.stringify(msg));
  assert.ok(msg.message.length > 0, JSON.stringify(msg));
}

describe('error replies', () => {
  let server;
  let c;

  before(async () => {
    server = await startServer({ ini: { max_subscriptions: 3 } });
    c = await connect(server.wsUrl);
  });
  after(async () => {
    closeAll(c);
    await server?.stop();
  });

  const cases = {
    invalid_json: ['{', '{"action":"ping"', 'not json', "{'action':'ping'}", '{"action":"ping"} trailing'],
    invalid_message: [
      '[]',
      '["subscribe","news"]',
      '"ping"',
      '42',
      'null',
      '{}',
      '{"channel":"news"}',
      '{"action":5}',
      '{"action":null}',
      '{"action":["ping"]}',
      '{"action":"subscribe"}',
      '{"action":"subscribe","channel":5}',
      '{"action":"subscribe","channel":null}',
      '{"action":"unsubscribe"}',
      '{"action":"unsubscribe","channel":{"a":1}}',
    ],
    unknown_action: ['{"action":"dance"}', '{"action":""}', '{"action":"PING"}', '{"action":"publish","channel":"news","data":1}'],
    invalid_channel: [
      '{"action":"subscribe","channel":""}',
      `{"action":"subscribe","channel":"${'x'.repeat(201)}"}`,
      '{"action":"subscribe","channel":"has space"}',
      '{"action":"subscribe","channel":"a{b}"}',
      '{"action":"subscribe","channel":"caf\u00e9"}',
      '{"action":"subscribe","channel":"star*"}',
      '{"action":"subscribe","channel":"tab\\t"}',
      '{"action":"unsubscribe","channel":"bad channel"}',
    ],
  };

  for (const [code, inputs] of Object.entries(cases)) {
    it(`answers ${code} and keeps the connection open`, async () => {
      const wrong = [];
      for (const input of inputs) {
        c.send(input);
        const reply = await c.next();
        if (reply.type !== 'error' || reply.code !== code || typeof reply.message !== 'string' || !reply.message) {
          wrong.push(`${input.length > 60 ? `${input.slice(0, 60)}…` : input} -> ${JSON.stringify(reply)}`);
        }
        assert.ok(c.isOpen, `closed after ${input}`);
      }
      await c.flush();
      assert.deepEqual(wrong, [], `replies other than ${code}`);
    });
  }

  it('echoes the id on errors for well-formed requests', async () => {
    c.send({ action: 'dance', id: 'e1' });
    const a = await c.next();
    assertError(a, 'unknown_action');
    assert.equal(a.id, 'e1');

    c.send({ action: 'subscribe', channel: 'no spaces', id: 99 });
    const b = await c.next();
    assertError(b, 'invalid_channel');
    assert.equal(b.id, 99);
  });

  it('answers too_many_subscriptions past realtime.max_subscriptions (3)', async () => {
    const s = await connect(server.wsUrl);
    try {
      await s.subscribe('lim-1');
      await s.subscribe('lim-2');
      await s.subscribe('lim-3');

      s.send({ action: 'subscribe', channel: 'lim-4', id: 'over' });
      const reply = await s.next();
      assertError(reply, 'too_many_subscriptions');
      assert.equal(reply.id, 'over');
      assert.ok(s.isOpen);

      // The refused channel was not joined; the three others still deliver.
      await server.publish('lim-4', 'nope');
      await server.publish('lim-3', 'yes');
      assert.equal((await s.next((m) => m.type === 'message')).channel, 'lim-3');
      await s.flush();
      assert.deepEqual(s.deliveries(), []);

      // Leaving one frees a slot.
      await s.unsubscribe('lim-1');
      await s.subscribe('lim-4');
      await server.publish('lim-4', 'now yes');
      assert.equal((await s.next((m) => m.type === 'message')).data, 'now yes');
    } finally {
      s.close();
    }
  });

  it('still works normally after all those errors', async () => {
    await c.subscribe('after-errors');
    await server.publish('after-errors', { fine: true });
    assert.deepEqual((await c.next((m) => m.type === 'message')).data, { fine: true });
  });
});
