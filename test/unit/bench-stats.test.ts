// The bench's statistics: nearest-rank percentiles, the median of repeats and its spread, and
// added latency computed per repeat (target minus direct at the same percentile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addedSpread, latencySpread, median, percentileSorted, percentiles, ratio, spread } from '../../native-bench/stats';

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test('nearest-rank percentiles of 1..100 are the sample at that rank', () => {
  const s = Float64Array.from(oneTo(100));
  assert.equal(percentileSorted(s, 50), 50);
  assert.equal(percentileSorted(s, 99), 99);
  assert.equal(percentileSorted(s, 99.9), 100);
  assert.equal(percentileSorted(s, 100), 100);
  assert.equal(percentileSorted(s, 1), 1);
});

test('p99.9 of 1000 samples is the 999th, not an interpolation (float error in p*n/100 is absorbed)', () => {
  const s = Float64Array.from(oneTo(1000));
  assert.equal(percentileSorted(s, 99.9), 999);
  assert.equal(percentileSorted(s, 99), 990);
  // 0.1 * 3 / 100 style float noise must not push the rank up by one
  assert.equal(percentileSorted(Float64Array.from(oneTo(10)), 70), 7);
});

test('percentiles sorts unsorted input numerically (not as strings) and leaves it untouched', () => {
  const input = [10, 9, 100, 1, 2, 30];
  const [p50, p99] = percentiles(input, [50, 99]);
  assert.equal(p50, 9); // sorted: 1 2 9 10 30 100 → rank ceil(3) = 3rd
  assert.equal(p99, 100);
  assert.deepEqual(input, [10, 9, 100, 1, 2, 30]);
});

test('percentile of nothing is NaN; an out-of-range p throws', () => {
  assert.ok(Number.isNaN(percentileSorted(new Float64Array(0), 50)));
  assert.throws(() => percentileSorted(Float64Array.from([1]), 0), RangeError);
  assert.throws(() => percentileSorted(Float64Array.from([1]), 101), RangeError);
});

test('median: middle of an odd count, mean of the two middles of an even one, NaN ignored', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([5, NaN, 1, 3]), 3);
  assert.ok(Number.isNaN(median([])));
});

test('spread gives the median and the range of the repeats', () => {
  const s = spread([0.12, 0.08, 0.1]);
  assert.equal(s.median, 0.1);
  assert.equal(s.min, 0.08);
  assert.equal(s.max, 0.12);
  assert.deepEqual(s.values, [0.12, 0.08, 0.1]);
  const empty = spread([NaN]);
  assert.ok(Number.isNaN(empty.median));
});

test('latencySpread takes percentiles per repeat, then the median over repeats', () => {
  const r1 = Float64Array.from(oneTo(100)); // p50 50
  const r2 = Float64Array.from(oneTo(100).map((x) => x * 2)); // p50 100
  const r3 = Float64Array.from(oneTo(100).map((x) => x * 3)); // p50 150
  const l = latencySpread([r1, r2, r3]);
  assert.equal(l.n, 100);
  assert.equal(l.p50.median, 100);
  assert.equal(l.p50.min, 50);
  assert.equal(l.p50.max, 150);
  assert.equal(l.p99.median, 198);
  assert.equal(l.p999.median, 200);
});

test('added latency is the per-repeat difference at the same percentile, not a difference of medians', () => {
  const direct = [Float64Array.from(oneTo(100)), Float64Array.from(oneTo(100).map((x) => x + 10))];
  // repeat 1 adds 0.5 everywhere, repeat 2 adds 1.5: the median of the differences is 1
  const target = [Float64Array.from(oneTo(100).map((x) => x + 0.5)), Float64Array.from(oneTo(100).map((x) => x + 11.5))];
  const a = addedSpread(target, direct);
  assert.equal(a.p50.median, 1);
  assert.equal(a.p50.min, 0.5);
  assert.equal(a.p50.max, 1.5);
  assert.equal(a.p99.median, 1);
});

test('ratio is NaN when either side is unknown or the divisor is 0', () => {
  assert.equal(ratio(3, 2), 1.5);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(NaN, 2)));
});
