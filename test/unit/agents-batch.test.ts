// Batched: calls arriving together go out as one batch, one batch at a time, and a failing batch
// is retried item by item so that only the items that fail on their own fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batched } from '../../src/agents/batch';

test('calls made in one turn go out as one batch; calls made meanwhile wait for the next', async () => {
  const batches: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const b = new Batched<number, number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await gate;
    return items.map((i) => i * 10);
  });
  const first = [1, 2, 3].map((i) => b.one(i));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches, [[1, 2, 3]], 'the first three together');
  const later = [4, 5].map((i) => b.one(i));
  await new Promise((r) => setImmediate(r));
  assert.equal(batches.length, 1, 'nothing more while the first batch runs');
  release();
  assert.deepEqual(await Promise.all([...first, ...later]), [10, 20, 30, 40, 50]);
  assert.deepEqual(batches, [[1, 2, 3], [4, 5]]);
});

test('a failing batch is tried item by item: only the bad item fails', async () => {
  const calls: number[][] = [];
  const b = new Batched<number, number>(async (items) => {
    calls.push(items);
    if (items.includes(2)) throw new Error('two is bad');
    return items.map((i) => -i);
  });
  const results = await Promise.allSettled([1, 2, 3].map((i) => b.one(i)));
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [-1, 'two is bad', -3]);
  assert.deepEqual(calls, [[1, 2, 3], [1], [2], [3]]);
});

test('batches are cut at the size given', async () => {
  const sizes: number[] = [];
  const b = new Batched<number, number>(async (items) => (sizes.push(items.length), items), 4);
  await Promise.all(Array.from({ length: 10 }, (_, i) => b.one(i)));
  assert.deepEqual(sizes, [4, 4, 2]);
});

test("a batch's 64 callers are resumed 8 per turn of the event loop, in order, each with its own answer", async () => {
  const b = new Batched<number, number>(async (items) => items.map((i) => i * 2));
  const turns = turnCounter();
  const resumed: { i: number; turn: number; v: number }[] = [];
  await Promise.all(Array.from({ length: 64 }, (_, i) => b.one(i).then((v) => resumed.push({ i, turn: turns.now, v }))));
  turns.stop();
  assert.deepEqual(resumed.map((r) => r.i), Array.from({ length: 64 }, (_, i) => i), 'in order');
  assert.ok(resumed.every((r) => r.v === r.i * 2), 'each its own answer');
  const perTurn = new Map<number, number>();
  for (const r of resumed) perTurn.set(r.turn, (perTurn.get(r.turn) ?? 0) + 1);
  assert.deepEqual([...perTurn.values()], [8, 8, 8, 8, 8, 8, 8, 8], `callers per turn: ${JSON.stringify([...perTurn])}`);
});

test('a batch whose callers only answer (the POSTs\' inserts) resumes all 64 in the turn it returns, and the next batch goes out at once', async () => {
  const batches: number[][] = [];
  const b = new Batched<number, number>(async (items) => (batches.push(items), items.map((i) => i * 2)), undefined, Number.POSITIVE_INFINITY);
  const turns = turnCounter();
  const resumed: { i: number; turn: number }[] = [];
  // Each caller, once answered, queues one more call: those go out as the next batch.
  const next: Promise<number>[] = [];
  await Promise.all(Array.from({ length: 64 }, (_, i) => b.one(i).then(() => (resumed.push({ i, turn: turns.now }), next.push(b.one(100 + i))))));
  turns.stop();
  assert.deepEqual(resumed.map((r) => r.i), Array.from({ length: 64 }, (_, i) => i), 'in order');
  assert.equal(new Set(resumed.map((r) => r.turn)).size, 1, 'one turn');
  await Promise.all(next);
  assert.deepEqual(batches.map((x) => x.length), [64, 64], 'the calls made while answering: one batch');
});

/** Counts turns of the event loop (one step per setImmediate) until stopped: which turn a caller resumed in. */
function turnCounter(): { readonly now: number; stop(): void } {
  let now = 0;
  let counting = true;
  const count = () => {
    if (!counting) return;
    now++;
    setImmediate(count);
  };
  setImmediate(count);
  return {
    get now() {
      return now;
    },
    stop: () => void (counting = false),
  };
}
