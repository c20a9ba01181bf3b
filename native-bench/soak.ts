// Scenario 6, the soak: a long open-loop run against Weir (1,000,000 requests at a moderate rate
// by default) with its RSS sampled every 10 s. Memory must stay flat: growth is the last samples
// against the level reached once warm, so start-up allocation does not count as a leak.
import { performance } from 'node:perf_hooks';
import { openLoop, openLoopPool } from './load';
import type { Progress } from './progress';
import type { SoakResult } from './results';
import { median, percentiles } from './stats';
import { targetRss, type Target } from './targets';
import type { RequestSpec } from './timed-request';

/** Growth of RSS over a run: mean of the last 3 samples minus the median of the warm early ones. */
export function rssGrowth(samplesMB: number[]): number {
  if (samplesMB.length < 2) return 0;
  // Skip the first ~10 % (warm-up), at least one sample.
  const skip = Math.max(1, Math.floor(samplesMB.length / 10));
  const early = samplesMB.slice(skip, Math.max(skip + 1, Math.floor(samplesMB.length / 3)));
  const tail = samplesMB.slice(-3);
  const base = early.length ? median(early) : samplesMB[0]!;
  return tail.reduce((a, b) => a + b, 0) / tail.length - base;
}

/** Flat: grew by less than 10 MB, or by less than 5 % of the warm level. */
export function isFlat(samplesMB: number[]): boolean {
  const g = rssGrowth(samplesMB);
  const base = samplesMB.length ? median(samplesMB) : 0;
  return g < 10 || g < base * 0.05;
}

export async function soak(t: Target, spec: RequestSpec, o: { requests: number; rate: number; sampleEveryMs: number }, progress: Progress): Promise<SoakResult> {
  const samples: { tS: number; rssMB: number }[] = [];
  const t0 = performance.now();
  const sample = () => samples.push({ tS: Math.round((performance.now() - t0) / 1000), rssMB: targetRss(t) / 2 ** 20 });
  sample();
  const timer = setInterval(() => {
    sample();
    const last = samples[samples.length - 1]!;
    progress.set('soak', `${last.tS}s of ~${Math.round(o.requests / o.rate)}s, RSS ${last.rssMB.toFixed(1)} MB`);
  }, o.sampleEveryMs);
  const pool = openLoopPool(t.url, Math.min(512, Math.max(16, Math.ceil(o.rate / 20))));
  try {
    // A cold gateway (JIT, first upstream connections) is not what a soak is about: warm it first.
    progress.set('soak', 'warm-up');
    await openLoop(pool, spec, o.rate, Math.min(5000, (o.requests * 100) / o.rate));
    progress.set('soak', `${o.requests} requests at ${o.rate} req/s`);
    const out = await openLoop(pool, spec, o.rate, (o.requests * 1000) / o.rate);
    sample();
    const [p50, p99, p999] = out.latencies.length ? percentiles(out.latencies, [50, 99, 99.9]) : [NaN, NaN, NaN];
    const mb = samples.map((s) => s.rssMB);
    return {
      target: t.kind,
      requests: o.requests,
      rate: o.rate,
      ok: out.ok,
      errors: out.errors,
      p50: p50!,
      p99: p99!,
      p999: p999!,
      rssSamples: samples,
      rssGrowthMB: rssGrowth(mb),
      flat: isFlat(mb),
    };
  } finally {
    clearInterval(timer);
    await pool.destroy();
  }
}
