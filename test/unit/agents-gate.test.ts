// Gate: at most N holders at once, the rest in order; a release frees one place, once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gate } from '../../src/agents/gate';

test('admits N at once and the rest in the order they came, each as a place frees', async () => {
  const gate = new Gate(2);
  const order: number[] = [];
  const releases: (() => void)[] = [];
  const entered = [0, 1, 2, 3, 4].map((i) => gate.enter().then((release) => (order.push(i), releases.push(release))));
  await Promise.all(entered.slice(0, 2));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [0, 1], 'two inside, three waiting');
  releases[0]!();
  releases[0]!(); // a second release of the same place frees nothing more
  await entered[2];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [0, 1, 2]);
  releases[1]!();
  releases[2]!();
  await Promise.all(entered);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  releases[3]!();
  releases[4]!();
  // Empty again: the next two enter at once.
  const [a, b] = await Promise.all([gate.enter(), gate.enter()]);
  a();
  b();
});
