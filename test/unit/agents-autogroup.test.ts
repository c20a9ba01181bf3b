// The agents' autogroup niceness queue (src/agents/spawn/autogroup.ts), against a kernel that
// takes one change per retry (as Linux does without CAP_SYS_ADMIN: one per 100 ms) and one that
// takes them all (with it). Counted in writes and retries, never in time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AutogroupQueue, type WriteResult } from '../../src/agents/spawn/autogroup';

/** A fake /proc/PID/autogroup: `budget` changes until the next retry; writes to gone pids fail first. */
function kernel(limited: boolean) {
  const k = { budget: 1, gone: new Set<number>(), set: new Map<number, number>(), writes: 0 };
  const write = (pid: number, nice: number): WriteResult => {
    k.writes++;
    if (k.gone.has(pid)) return 'done'; // ENOENT: nothing to do, no change used
    if (limited && k.budget === 0) return 'again';
    if (limited) k.budget--;
    k.set.set(pid, nice);
    return 'done';
  };
  return { k, write };
}

test('with CAP_SYS_ADMIN, a fan-out of 64 is niced at once: 64 writes, nothing left to retry', () => {
  const { k, write } = kernel(false);
  const q = new AutogroupQueue(write, 3_600_000);
  for (let pid = 1; pid <= 64; pid++) q.set(pid, 10);
  assert.equal(q.pending, 0);
  assert.equal(k.set.size, 64);
  assert.equal(k.writes, 64);
});

test("without it, each retry takes the kernel's one change and drops every gone process on its way: 64 runs of which 32 ended early need 31 retries, not 63", () => {
  const { k, write } = kernel(true);
  const q = new AutogroupQueue(write, 3_600_000);
  for (let pid = 1; pid <= 64; pid++) q.set(pid, 10);
  assert.equal(k.set.size, 1, 'the first one went at once');
  assert.equal(q.pending, 63);
  // Every other agent ended before its turn (a short agent in a fan-out).
  for (let pid = 2; pid <= 64; pid += 2) k.gone.add(pid);
  let retries = 0;
  while (q.pending > 0) {
    k.budget = 1; // the kernel's next 100 ms
    q.drain();
    retries++;
  }
  assert.equal(retries, 31);
  assert.deepEqual([...k.set.keys()].sort((a, b) => a - b), Array.from({ length: 32 }, (_, i) => 2 * i + 1));
  assert.ok([...k.set.values()].every((n) => n === 10));
});
