// Percentiles of latency samples, the median of repeated measurements and their spread.
// Percentiles use the nearest-rank rule (the value of an actual sample, never an interpolation),
// as HdrHistogram and most latency tools report them: p99 of 100 samples is the 99th smallest.

/** The p-th percentile (0 < p <= 100) of `sorted` (ascending) by nearest rank; NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  // The epsilon keeps p * n / 100 from landing just above an integer through float error.
  const rank = Math.ceil((p * n) / 100 - 1e-9);
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!;
}

export function sortedCopy(samples: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(samples as ArrayLike<number>);
  a.sort();
  return a;
}

/** Several percentiles of unsorted samples in one sort. */
export function percentiles(samples: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = sortedCopy(samples);
  return ps.map((p) => percentileSorted(sorted, p));
}

/** Median of a list of values (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** A figure measured in several repeats: its median and the range the repeats spanned. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => !Number.isNaN(x));
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, values: [...values] };
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), values: [...values] };
}

/** The percentiles every latency table reports. */
export const LATENCY_PS = [50, 99, 99.9] as const;

export interface LatencySpread {
  /** Samples per repeat (the smallest repeat). */
  n: number;
  p50: Spread;
  p99: Spread;
  p999: Spread;
}

/** Per-repeat percentiles of absolute latencies, summarised over the repeats. */
export function latencySpread(repeats: ArrayLike<number>[]): LatencySpread {
  const per = repeats.map((r) => percentiles(r, LATENCY_PS));
  return {
    n: repeats.length ? Math.min(...repeats.map((r) => r.length)) : 0,
    p50: spread(per.map((x) => x[0]!)),
    p99: spread(per.map((x) => x[1]!)),
    p999: spread(per.map((x) => x[2]!)),
  };
}

/**
 * Added latency: in each repeat, the target's percentile minus the direct path's percentile at
 * the same rank (both measured in the same interleaved rounds), then summarised over repeats.
 */
export function addedSpread(target: ArrayLike<number>[], direct: ArrayLike<number>[]): LatencySpread {
  const k = Math.min(target.length, direct.length);
  const diffs: number[][] = [];
  for (let i = 0; i < k; i++) {
    const t = percentiles(target[i]!, LATENCY_PS);
    const d = percentiles(direct[i]!, LATENCY_PS);
    diffs.push(t.map((x, j) => x - d[j]!));
  }
  return {
    n: k ? Math.min(...target.slice(0, k).map((r) => r.length)) : 0,
    p50: spread(diffs.map((x) => x[0]!)),
    p99: spread(diffs.map((x) => x[1]!)),
    p999: spread(diffs.map((x) => x[2]!)),
  };
}

/** a / b, or NaN when either is missing or b is 0. */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}
