// The open-loop generator on a fake clock: requests go out on schedule whatever the target does,
// and latency counts from the planned send time, so a stall shows in every request it delayed
// (no coordinated omission).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyFromPlanned, OpenLoopSchedule, runOpenLoop, type OpenLoopDriver } from '../../native-bench/schedule';
import { percentiles } from '../../native-bench/stats';

test('the schedule plans request i at start + i/rate and counts what is due', () => {
  const s = new OpenLoopSchedule(2000, 10, 100);
  assert.equal(s.plannedAt(0), 100);
  assert.equal(s.plannedAt(3), 101.5);
  assert.equal(s.dueBy(99), 0);
  assert.equal(s.dueBy(100), 1);
  assert.equal(s.dueBy(101.5), 4);
  assert.equal(s.dueBy(1e9), 10, 'never more than total');
  assert.throws(() => new OpenLoopSchedule(0, 1, 0), RangeError);
});

test('latency counts from the planned time, not from when the request was actually sent', () => {
  assert.equal(latencyFromPlanned(10, 25), 15);
});

/** A virtual clock: sleep advances time; the server answers in 1 ms except during a stall. */
function fakeTarget(stallFrom: number, stallTo: number) {
  let now = 0;
  const sentAt: number[] = [];
  const driver: OpenLoopDriver = {
    now: () => now,
    sleep: async (ms) => {
      now += Math.max(ms, 0.25); // a real timer never wakes in zero time
    },
    send: async (i) => {
      sentAt[i] = now;
      const end = now >= stallFrom && now < stallTo ? stallTo : now + 1;
      return { end, ok: true };
    },
  };
  return { driver, sentAt };
}

test('a 100 ms stall shows in every request planned during it (open loop), at its true wait', async () => {
  const { driver, sentAt } = fakeTarget(50, 150);
  const out = await runOpenLoop(1000, 300, driver); // 1 request per ms for 300 ms
  assert.equal(out.ok, 300);
  assert.equal(out.errors, 0);
  // The generator did not wait for the stalled target: every request left on schedule.
  for (let i = 0; i < 300; i++) assert.ok(sentAt[i]! - i <= 0.25 + 1e-9, `request ${i} sent at ${sentAt[i]}, planned ${i}`);
  assert.ok(out.maxSendLagMs <= 0.25 + 1e-9);
  // Request planned at 60 ms waited until 150 ms.
  assert.equal(out.latencies[60], 90);
  assert.equal(out.latencies[149], 1);
  assert.equal(out.latencies[200], 1);
  const slow = Array.from(out.latencies).filter((l) => l > 10).length;
  assert.equal(slow, 90, 'the 100 requests planned in [50,150) took 100…1 ms: 90 of them over 10 ms');
  // A closed-loop client would have recorded one 100 ms sample in 300; here p99 sees the stall.
  const [p50, p99] = percentiles(out.latencies, [50, 99]);
  assert.equal(p50, 1);
  assert.ok(p99 >= 95, `p99 ${p99}`);
});

test('a generator that falls behind counts its own lateness in the latency', async () => {
  let now = 0;
  const out = await runOpenLoop(1000, 20, {
    now: () => now,
    sleep: async () => {
      now += 5; // wakes 5 ms late every time
    },
    send: async () => ({ end: now + 1, ok: true }),
  });
  assert.equal(out.ok, 20);
  assert.ok(out.maxSendLagMs >= 4, `lag ${out.maxSendLagMs}`);
  // request 1 was planned at 1 ms, sent at 5 ms, done at 6 ms: 5 ms, not 1 ms
  assert.equal(out.latencies[1], 5);
});

test('failed requests are counted as errors and left out of the latencies', async () => {
  let now = 0;
  const out = await runOpenLoop(1000, 10, {
    now: () => now,
    sleep: async (ms) => {
      now += Math.max(ms, 0.5);
    },
    send: async (i) => ({ end: now + 2, ok: i % 2 === 0 }),
  });
  assert.equal(out.ok, 5);
  assert.equal(out.errors, 5);
  assert.equal(out.latencies.length, 5);
});
