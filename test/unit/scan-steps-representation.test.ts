// The scanners' step counter (src/scan-steps.ts) holds its count as a double from the start, so
// passing 2^30 steps changes nothing in the code optimized around it. Checked in a child process
// with V8's natives syntax: a function that adds to the counter and one that only reads it are
// optimized, the count is taken past 2^30 and 2^31, and both must still be optimized code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const MODULE = path.resolve(__dirname, '../../src/scan-steps.js');

// V8's OptimizationStatus bit for "optimized code" (src/runtime/runtime.h, kOptimized).
const OPTIMIZED = 1 << 4;

const CHILD = `
const { scanSteps } = require(${JSON.stringify(MODULE)});
function add(k) { scanSteps.n += k; }
function read() { return scanSteps.n + 1; }
for (const f of [add, read]) {
  %PrepareFunctionForOptimization(f);
  f(1); f(1);
  %OptimizeFunctionOnNextCall(f);
  f(1);
}
const before = [%GetOptimizationStatus(add), %GetOptimizationStatus(read)];
for (let i = 0; i < 5; i++) add(2 ** 29);
read();
const after = [%GetOptimizationStatus(add), %GetOptimizationStatus(read)];
process.stdout.write(JSON.stringify({ before, after, n: scanSteps.n }));
`;

test('the step counter passes 2^30 and 2^31 without deoptimizing the code that adds to it or reads it', () => {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', CHILD], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { before, after, n } = JSON.parse(r.stdout) as { before: number[]; after: number[]; n: number };
  assert.ok(n > 2 ** 31, `the count went past 2^31 (${n})`);
  assert.deepEqual(before.map((s) => (s & OPTIMIZED) !== 0), [true, true], `both functions optimized first (status ${before})`);
  assert.deepEqual(after.map((s) => (s & OPTIMIZED) !== 0), [true, true], `both still optimized after the count passed 2^30 (status ${after})`);
});
