// WEIR_WORKER_YOUNG_GEN_MB: the workers' young generation in MB; unset or 0 leaves it to V8;
// anything that is no size stops the start with a message naming the variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { workerYoungGenerationMb } from '../../src/control/supervisor';

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
