// The agents' autogroup niceness as a fan-out grows (src/agents/spawn/fanout-nice.ts): the scale,
// and the kernel writes it asks for as agents start, get their command and end. Counted in writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FanoutNiceness, fanoutNice } from '../../src/agents/spawn/fanout-nice';

test('fanoutNice: one agent at the configured niceness; n agents weigh about what one does (a level is 1.25×), capped at 19', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 64, 256].map((n) => fanoutNice(10, n)), [10, 13, 15, 16, 17, 18, 19, 19, 19]);
  assert.equal(fanoutNice(10, 0), 10);
  assert.equal(fanoutNice(0, 64), 19);
  assert.equal(fanoutNice(19, 2), 19);
  // The kernel's weight of nice n is 1024 / 1.25^n: n agents at the scaled level weigh within a
  // level of one agent at the configured one.
  const weight = (nice: number) => 1024 / 1.25 ** nice;
  for (const n of [2, 3, 4, 5, 6]) {
    const ratio = (n * weight(fanoutNice(10, n))) / weight(10);
    assert.ok(ratio > 1 / 1.25 && ratio < 1.25, `${n} agents: ${ratio.toFixed(2)}× one agent`);
  }
});

test('FanoutNiceness: agents reniced as others start and end; launchers waiting for their command do not count', () => {
  const writes: [number, number][] = [];
  const now = new Map<number, number>();
  const f = new FanoutNiceness((pid, nice) => {
    writes.push([pid, nice]);
    now.set(pid, nice);
  });
  f.add(1, 10, true);
  assert.deepEqual(writes, [[1, 10]]);
  f.add(2, 10, true);
  assert.deepEqual([now.get(1), now.get(2)], [13, 13], 'the first reniced when the second starts');
  // Two pooled launchers: at the configured niceness, not counted.
  f.add(100, 10, false);
  f.add(101, 10, false);
  assert.deepEqual([now.get(1), now.get(2), now.get(100)], [13, 13, 10]);
  f.count(100);
  assert.deepEqual([now.get(1), now.get(2), now.get(100), now.get(101)], [15, 15, 15, 10], 'a launcher that got its command counts');
  f.remove(101);
  assert.equal(now.get(1), 15, 'an idle launcher gone changes nothing');
  f.remove(2);
  f.remove(100);
  assert.equal(now.get(1), 10, 'alone again: back to the configured niceness');
  f.remove(1);
  f.remove(1);
  f.count(999);
  assert.equal(writes.at(-1)![1], 10, 'unknown and twice-removed pids ask for nothing');
});

test('FanoutNiceness: a fan-out of 64 asks the kernel for a bounded number of changes (none once past 19)', () => {
  let n = 0;
  const f = new FanoutNiceness(() => n++);
  for (let pid = 1; pid <= 64; pid++) f.add(pid, 10, true);
  // Each start writes its own; while the scale still moves (up to 7 agents) the others are reniced.
  const atCap = n;
  assert.ok(atCap <= 64 + 6 * 7, `${atCap} writes for 64 starts`);
  for (let pid = 1; pid <= 57; pid++) f.remove(pid);
  assert.equal(n, atCap, 'ends that leave the scale at 19 write nothing');
  for (let pid = 58; pid <= 64; pid++) f.remove(pid);
  assert.ok(n - atCap <= 6 * 7, 'the last seven ends renice the rest down, a few writes each');
});
