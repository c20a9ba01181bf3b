// The per-turn outbox (src/control/turn-outbox.ts) the control thread posts stream pieces to the
// workers through: what one turn made is one message, counted in sends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnOutbox } from '../../src/control/turn-outbox';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('pieces made in one turn go as one array in their order; a lone piece goes alone; the next turn starts over', async () => {
  const sent: (number | number[])[] = [];
  const box = new TurnOutbox<number>((m) => sent.push(m));
  for (let i = 0; i < 64; i++) box.push(i);
  assert.equal(sent.length, 0, 'nothing before the turn ends');
  await nextTurn();
  assert.equal(sent.length, 1, '64 pieces, one send');
  assert.deepEqual(sent[0], Array.from({ length: 64 }, (_, i) => i));
  box.push(99);
  await nextTurn();
  assert.deepEqual(sent.slice(1), [99], 'a lone piece as it is');
  await nextTurn();
  assert.equal(sent.length, 2, 'nothing to send, nothing sent');
});
