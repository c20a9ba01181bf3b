// One buffer kept for a thread's next use (src/kept-buffer.ts): lent to one user at a time, the
// larger of two given back is kept, and one over the bound is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeptBuffer } from '../../src/kept-buffer';

test('lent to one user at a time; given back, it serves the next', () => {
  const k = new KeptBuffer(1 << 20, 1024);
  const a = k.take(100);
  assert.equal(a.length, 1024, 'rounded up to the step');
  const b = k.take(100);
  assert.notEqual(b.buffer, a.buffer, 'a second user while the first holds it gets memory of its own');
  k.giveBack(a);
  assert.equal(k.take(1000), a);
  assert.deepEqual(k.stats, { fresh: 2, reused: 1 });
});

test('of two given back the larger stays; a request larger than it gets a fresh one; over the bound nothing is kept', () => {
  const k = new KeptBuffer(4096, 1024);
  const small = k.take(1000);
  const big = k.take(3000);
  k.giveBack(big);
  k.giveBack(small);
  assert.equal(k.take(10), big);
  k.giveBack(big);
  const larger = k.take(3500);
  assert.notEqual(larger, big);
  const huge = k.take(10_000);
  k.giveBack(huge);
  assert.equal(k.take(10), big, 'the buffer over 4096 bytes was not kept');
});
