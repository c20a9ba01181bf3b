// Summary of --cpu-prof output: self time per function from samples and time deltas, summed
// over threads, idle excluded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selfTimes, topSelfTime, type CpuProfile } from '../../native-bench/profile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '0' });

function profile(): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('write', 'file:///app/dist/src/server/uws-engine.js', 112) },
      { id: 4, callFrame: frame('scanBody', 'file:///app/dist/src/gateway/body-scan.js', 9) },
    ],
    startTime: 0,
    endTime: 1000,
    samples: [3, 3, 4, 2, 3],
    // sample i lasts until sample i+1: 3 → 100, 3 → 300, 4 → 50, 2 → 500, last → 0
    timeDeltas: [0, 100, 300, 50, 500],
  };
}

test('a sample lasts until the next one', () => {
  const t = selfTimes(profile());
  assert.equal(t.get(3), 400);
  assert.equal(t.get(4), 50);
  assert.equal(t.get(2), 500);
});

test('top functions by self time, idle left out, percentages of the non-idle total', () => {
  const top = topSelfTime([profile()], 15);
  assert.equal(top.length, 2);
  assert.equal(top[0]!.functionName, 'write');
  assert.match(top[0]!.location, /uws-engine\.js:113$/, 'line numbers are 1-based');
  assert.equal(top[0]!.selfMs, 0.4);
  assert.equal(Math.round(top[0]!.pct), 89);
  assert.equal(top[1]!.functionName, 'scanBody');
});

test('the same function in several threads adds up, and n bounds the list', () => {
  const top = topSelfTime([profile(), profile()], 1);
  assert.equal(top.length, 1);
  assert.equal(top[0]!.selfMs, 0.8);
});

test('profiles without samples fall back to hit counts', () => {
  const p: CpuProfile = { nodes: [{ id: 1, callFrame: frame('f'), hitCount: 3 }, { id: 2, callFrame: frame('g'), hitCount: 1 }], startTime: 0, endTime: 400 };
  const t = selfTimes(p);
  assert.equal(t.get(1), 300);
  assert.equal(t.get(2), 100);
});
