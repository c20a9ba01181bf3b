// WEIR_WORKER_YOUNG_GEN_MB: the workers' young generation in MB; unset or 0 leaves it to V8;
// anything that is no size stops the start with a message naming the variable. A
// --max-semi-space-size flag overrides it (V8 takes the flag over a worker's resourceLimits): the
// start says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { semiSpaceFlag, workerYoungGenerationMb } from '../../src/control/supervisor';

test('unset, empty or 0: V8 sizes it; a number: that many MB', () => {
  assert.equal(workerYoungGenerationMb(undefined), 0);
  assert.equal(workerYoungGenerationMb(' '), 0);
  assert.equal(workerYoungGenerationMb('12'), 12);
  assert.equal(workerYoungGenerationMb('24'), 24);
  assert.equal(workerYoungGenerationMb('0'), 0);
});

test('not a size: refused, naming the variable', () => {
  for (const bad of ['-1', 'twelve', 'NaN', 'Infinity']) assert.throws(() => workerYoungGenerationMb(bad), /WEIR_WORKER_YOUNG_GEN_MB/);
});

test('Node gives a worker the size as it is (neither refused nor rounded)', async () => {
  const w = new Worker(`require('worker_threads').parentPort.postMessage(require('worker_threads').resourceLimits)`, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: workerYoungGenerationMb('12') } });
  const limits = await new Promise<{ maxYoungGenerationSizeMb: number }>((resolve, reject) => w.once('message', resolve).once('error', reject));
  await w.terminate();
  assert.equal(limits.maxYoungGenerationSizeMb, 12);
});

test('the flag is found in Node\'s arguments or NODE_OPTIONS, in either spelling', () => {
  assert.equal(semiSpaceFlag([], undefined), null);
  assert.equal(semiSpaceFlag(['--max-old-space-size=512'], '--enable-source-maps'), null);
  assert.equal(semiSpaceFlag(['--max-semi-space-size=4'], undefined), '--max-semi-space-size=4');
  assert.equal(semiSpaceFlag([], ' --require x.js  --max_semi_space_size=8 '), '--max_semi_space_size=8');
});

// A worker that keeps ~20 MB of small objects alive through its scavenges grows its new space to
// V8's largest; the count of allocations, not time, drives it.
const GROW = `
const v8 = require('v8'); const keep = [];
for (let round = 0; round < 200; round++) { const a = []; for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i }); keep.push(a); if (keep.length > 20) keep.shift(); }
require('worker_threads').parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);`;
const PARENT = `
const { Worker } = require('worker_threads');
const w = new Worker(process.argv[1], { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 48 } });
w.once('message', (n) => { process.stdout.write(String(n / 1048576)); w.terminate(); });`;

test("V8 takes --max-semi-space-size over a worker's resourceLimits (why the start warns)", () => {
  const newSpaceMb = (flags: string[]) => Number(execFileSync(process.execPath, [...flags, '-e', PARENT, GROW], { encoding: 'utf8' }));
  assert.ok(newSpaceMb([]) > 8, 'without the flag the worker grows past 4 MB semi-spaces');
  assert.equal(newSpaceMb(['--max-semi-space-size=2']), 4, 'with it, two semi-spaces of 2 MB whatever resourceLimits say');
});
