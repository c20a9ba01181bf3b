// DeploymentHealth: per-deployment counters in a SharedArrayBuffer, changed only through Atomics so
// every worker thread sees the same in-flight count, failures this minute and cooldown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DeploymentHealth, DEFAULT_HEALTH_SLOTS } from '../../src/state/deployment-health';

const MODULE = path.resolve(__dirname, '../../src/state/deployment-health.js');
const MINUTE = 60_000;
const T0 = Date.UTC(2025, 5, 1, 10, 30, 0, 0); // the start of a minute

test('allocate: slots, buffer size and zeroed records', () => {
  const h = DeploymentHealth.allocate(10);
  assert.equal(h.slots, 10);
  assert.ok(h.buffer instanceof SharedArrayBuffer);
  assert.equal(h.buffer.byteLength, 10 * 9 * 4);
  for (let s = 0; s < 10; s++) {
    assert.equal(h.inflight(s), 0);
    assert.equal(h.failuresThisMinute(s, T0), 0);
    assert.equal(h.isCoolingDown(s, T0), false);
  }
  assert.equal(DeploymentHealth.allocate().slots, DEFAULT_HEALTH_SLOTS);
});

test('two views of one buffer see the same counters', () => {
  const a = DeploymentHealth.allocate(4);
  const b = new DeploymentHealth(a.buffer);
  a.begin(2);
  b.begin(2);
  a.recordFailure(3, T0);
  b.coolDown(1, T0 + 500);
  assert.equal(b.inflight(2), 2);
  assert.equal(b.failuresThisMinute(3, T0), 1);
  assert.equal(a.isCoolingDown(1, T0), true);
});

test('begin/end count in-flight requests per slot', () => {
  const h = DeploymentHealth.allocate(8);
  for (let i = 0; i < 5; i++) h.begin(3);
  h.begin(4);
  assert.equal(h.inflight(3), 5);
  assert.equal(h.inflight(4), 1);
  assert.equal(h.inflight(2), 0);
  h.end(3);
  h.end(3);
  assert.equal(h.inflight(3), 3);
  h.end(4);
  assert.equal(h.inflight(4), 0);
  // Slots do not bleed into each other (first and last slot).
  h.begin(0);
  h.begin(7);
  assert.equal(h.inflight(0), 1);
  assert.equal(h.inflight(7), 1);
  assert.equal(h.inflight(6), 0);
});

test('in-flight counting does not touch failures or cooldown', () => {
  const h = DeploymentHealth.allocate(2);
  for (let i = 0; i < 100; i++) h.begin(1);
  assert.equal(h.failuresThisMinute(1, T0), 0);
  assert.equal(h.isCoolingDown(1, T0), false);
});

test('recordFailure counts within a minute and returns the running count', () => {
  const h = DeploymentHealth.allocate(4);
  assert.equal(h.recordFailure(1, T0), 1);
  assert.equal(h.recordFailure(1, T0 + 10_000), 2);
  assert.equal(h.recordFailure(1, T0 + MINUTE - 1), 3);
  assert.equal(h.failuresThisMinute(1, T0 + 59_999), 3);
  assert.equal(h.failuresThisMinute(2, T0), 0, 'other slots untouched');
});

test('recordFailure rolls over at the minute boundary', () => {
  const h = DeploymentHealth.allocate(4);
  for (let i = 0; i < 4; i++) h.recordFailure(0, T0 + i);
  assert.equal(h.failuresThisMinute(0, T0 + 30_000), 4);
  // The next minute: the old count is not visible, and the first failure restarts the count.
  assert.equal(h.failuresThisMinute(0, T0 + MINUTE), 0);
  assert.equal(h.recordFailure(0, T0 + MINUTE), 1);
  assert.equal(h.recordFailure(0, T0 + MINUTE + 1), 2);
  assert.equal(h.failuresThisMinute(0, T0 + 2 * MINUTE - 1), 2);
  // Skipping several minutes.
  assert.equal(h.failuresThisMinute(0, T0 + 10 * MINUTE), 0);
  assert.equal(h.recordFailure(0, T0 + 10 * MINUTE + 5), 1);
  // Minute boundaries are wall-clock minutes (floor(now / 60 s)), not 60 s after the first failure.
  const h2 = DeploymentHealth.allocate(1);
  h2.recordFailure(0, T0 + 59_000);
  assert.equal(h2.recordFailure(0, T0 + 61_000), 1);
});

test('failures in a past minute are not counted when looking from the future', () => {
  const h = DeploymentHealth.allocate(1);
  h.recordFailure(0, T0 + 5 * MINUTE);
  assert.equal(h.failuresThisMinute(0, T0 + 5 * MINUTE + 1), 1);
  assert.equal(h.failuresThisMinute(0, T0 + 4 * MINUTE), 0);
  assert.equal(h.failuresThisMinute(0, T0 + 6 * MINUTE), 0);
});

test('coolDown / isCoolingDown with sub-second precision', () => {
  const h = DeploymentHealth.allocate(4);
  const until = T0 + 1234; // 1.234 s after a whole second
  h.coolDown(2, until);
  assert.equal(h.isCoolingDown(2, T0), true);
  assert.equal(h.isCoolingDown(2, T0 + 1000), true, 'still cooling within the last second');
  assert.equal(h.isCoolingDown(2, until - 1), true);
  assert.equal(h.isCoolingDown(2, until), false, 'ends exactly at untilMs');
  assert.equal(h.isCoolingDown(2, until + 1), false);
  assert.equal(h.isCoolingDown(1, T0), false);
  assert.equal(h.isCoolingDown(3, T0), false);
  // A 50 ms cooldown is exact.
  h.coolDown(1, T0 + 999 + 50);
  assert.equal(h.isCoolingDown(1, T0 + 1048), true);
  assert.equal(h.isCoolingDown(1, T0 + 1049), false);
  // Extending and shortening: the last call sets the end.
  h.coolDown(2, T0 + 5_000);
  assert.equal(h.isCoolingDown(2, T0 + 4_999), true);
  h.coolDown(2, T0 + 10);
  assert.equal(h.isCoolingDown(2, T0 + 11), false);
  // Clearing: a cooldown ending in the past.
  h.coolDown(3, T0 + 700);
  h.coolDown(3, T0 - 1);
  assert.equal(h.isCoolingDown(3, T0), false);
});

test('cooldown ending on a whole second', () => {
  const h = DeploymentHealth.allocate(1);
  h.coolDown(0, T0 + 5000);
  assert.equal(h.isCoolingDown(0, T0 + 4999), true);
  assert.equal(h.isCoolingDown(0, T0 + 5000), false);
});

test('cooldowns ending after January 2038 still hold', () => {
  const h = DeploymentHealth.allocate(1);
  const now = Date.UTC(2038, 0, 19, 3, 14, 7, 500);
  h.coolDown(0, now + 5000);
  assert.equal(h.isCoolingDown(0, now), true);
});

// ---- threads -------------------------------------------------------------------------------------

function runWorkers(code: string, n: number, data: object): Promise<unknown[]> {
  return Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<unknown>((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { ...data, index: i, module: MODULE } });
          let result: unknown;
          w.on('message', (m) => (result = m));
          w.on('error', reject);
          w.on('exit', (c) => (c === 0 ? resolve(result) : reject(new Error(`worker ${i} exited with ${c}`))));
        }),
    ),
  );
}

test('4 worker threads × 100,000 begin() + recordFailure() → exact totals', async () => {
  const h = DeploymentHealth.allocate(16);
  const slot = 5;
  const now = T0 + 17_000;
  // The failure window for this minute is opened here, so the count under test is pure addition.
  assert.equal(h.recordFailure(slot, now), 1);
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { DeploymentHealth } = require(workerData.module);
    const h = new DeploymentHealth(workerData.buffer);
    let maxSeen = 0;
    for (let i = 0; i < workerData.iterations; i++) {
      h.begin(workerData.slot);
      const n = h.recordFailure(workerData.slot, workerData.now);
      if (n > maxSeen) maxSeen = n;
    }
    parentPort.postMessage(maxSeen);
  `;
  const iterations = 100_000;
  const results = (await runWorkers(code, 4, { buffer: h.buffer, slot, now, iterations })) as number[];
  assert.equal(h.inflight(slot), 4 * iterations);
  assert.equal(h.failuresThisMinute(slot, now), 4 * iterations + 1);
  // The last increment anywhere returned the final total.
  assert.equal(Math.max(...results), 4 * iterations + 1);
  // Neighbouring slots untouched.
  assert.equal(h.inflight(slot - 1), 0);
  assert.equal(h.inflight(slot + 1), 0);
  assert.equal(h.failuresThisMinute(slot + 1, now), 0);
});

test('4 worker threads × 100,000 begin() + end() → back to zero', async () => {
  const h = DeploymentHealth.allocate(4);
  const code = `
    const { workerData } = require('node:worker_threads');
    const { DeploymentHealth } = require(workerData.module);
    const h = new DeploymentHealth(workerData.buffer);
    for (let i = 0; i < 100000; i++) { h.begin(1); h.begin(1); h.end(1); }
    for (let i = 0; i < 100000; i++) h.end(1);
  `;
  await runWorkers(code, 4, { buffer: h.buffer });
  assert.equal(h.inflight(1), 0);
});

test('failures are not lost when threads roll the minute over together', async () => {
  const h = DeploymentHealth.allocate(2);
  // Two threads released together by a spinning barrier at each minute boundary, so their first
  // failures of the minute really race (a sleeping barrier wakes them too far apart).
  const rounds = 2000;
  const perRound = 10;
  const threads = 2;
  // sync[0]: arrivals at the barrier, sync[1]: barrier generation.
  const sync = new Int32Array(new SharedArrayBuffer(8));
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { DeploymentHealth } = require(workerData.module);
    const h = new DeploymentHealth(workerData.buffer);
    const sync = new Int32Array(workerData.sync);
    const barrier = () => {
      const gen = Atomics.load(sync, 1);
      if (Atomics.add(sync, 0, 1) === workerData.threads - 1) {
        Atomics.store(sync, 0, 0);
        Atomics.add(sync, 1, 1);
        Atomics.notify(sync, 1);
        return;
      }
      for (let spins = 0; Atomics.load(sync, 1) === gen; spins++) {
        if (spins > 100000) Atomics.wait(sync, 1, gen, 1); // a single core: let the other thread run
      }
    };
    let stale = 0;
    const lost = [];
    for (let r = 1; r <= workerData.rounds; r++) {
      barrier();
      const now = workerData.t0 + r * 60000;
      for (let i = 0; i < workerData.perRound; i++) {
        if (h.recordFailure(0, now) > workerData.perRound * workerData.threads) stale++;
      }
      barrier();
      if (workerData.index === 0) {
        const got = h.failuresThisMinute(0, now);
        if (got !== workerData.perRound * workerData.threads) lost.push([r, got]);
      }
      barrier();
    }
    parentPort.postMessage({ stale, lost });
  `;
  const results = (await runWorkers(code, threads, { buffer: h.buffer, sync: sync.buffer, rounds, perRound, threads, t0: T0 })) as {
    stale: number;
    lost: [number, number][];
  }[];
  const lost = results.flatMap((r) => r.lost);
  const stale = results.reduce((a, r) => a + r.stale, 0);
  assert.deepEqual(
    { staleReturns: stale, minutesWithWrongCount: lost.length },
    { staleReturns: 0, minutesWithWrongCount: 0 },
    `${stale} calls returned more than the ${perRound * threads} failures this minute can have; ${lost.length}/${rounds} minutes ended with a wrong count, e.g. (minute, count): ${JSON.stringify(lost.slice(0, 5))}`,
  );
});

test("other instances' failures (written by the control thread) count toward allowed_fails and lapse with their minute", () => {
  const h = DeploymentHealth.allocate(4);
  h.setRemoteFailures(1, T0 / MINUTE, 2);
  assert.equal(h.failuresThisMinute(1, T0), 2);
  assert.equal(h.localFailuresThisMinute(1, T0), 0);
  assert.equal(h.recordFailure(1, T0 + 1), 3, 'the count a failure returns is the fleet-wide one');
  assert.equal(h.localFailuresThisMinute(1, T0 + 1), 1, 'only this instance counted locally (what it publishes)');
  assert.equal(h.remoteFailuresThisMinute(1, T0 + MINUTE), 0, 'the next minute starts from zero');
  assert.equal(h.recordFailure(1, T0 + MINUTE), 1);
  assert.equal(h.failuresThisMinute(2, T0), 0, 'other slots untouched');
});

test("load is this instance's in-flight plus the other instances'", () => {
  const h = DeploymentHealth.allocate(4);
  h.begin(1);
  h.setRemoteInflight(1, 5);
  assert.equal(h.inflight(1), 1);
  assert.equal(h.remoteInflight(1), 5);
  assert.equal(h.load(1), 6);
  h.setRemoteInflight(1, 0);
  assert.equal(h.load(1), 1);
});

test("other instances' requests this minute add to this one's for usage-based routing, and lapse with their minute", () => {
  const h = DeploymentHealth.allocate(4);
  h.countRequest(1, T0);
  h.setRemoteRequests(1, T0 / MINUTE, 4);
  assert.equal(h.requestsThisMinute(1, T0), 5);
  assert.equal(h.localRequestsThisMinute(1, T0), 1);
  assert.equal(h.requestsThisMinute(1, T0 + MINUTE), 0);
});
