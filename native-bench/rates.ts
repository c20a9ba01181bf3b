// Fixed-rate (open-loop) runs: each rate, each repeat, every target in turn. Latency counts from
// the planned send time; the added figures are target minus direct in the same repeat.
import { performance } from 'node:perf_hooks';
import { openLoop, openLoopPool } from './load';
import type { OnWindow } from './latency-rounds';
import type { Progress } from './progress';
import type { RateRow } from './results';
import { LATENCY_PS, percentiles, spread } from './stats';
import { CpuMeter, specFor, type Target } from './targets';
import type { RequestSpec } from './timed-request';
import { rotation } from './latency-rounds';

export async function interleavedRates(
  targets: Target[],
  spec: RequestSpec,
  o: { rates: number[]; durationMs: number; warmupMs: number; repeats: number; onWindow?: OnWindow },
  progress: Progress,
  label: string,
): Promise<RateRow[]> {
  const rows: RateRow[] = [];
  for (const rate of o.rates) {
    // Enough connections that a request never waits for a free one at this rate (≈ rate × 50 ms).
    const conns = Math.min(512, Math.max(16, Math.ceil(rate / 20)));
    const pools = new Map(targets.map((t) => [t, openLoopPool(t.url, conns)]));
    const per = new Map(targets.map((t) => [t, { p50: [] as number[], p99: [] as number[], p999: [] as number[], ok: 0, errors: 0, firstError: null as string | null, ms: 0, lag: 0, cpu: new CpuMeter(t) }]));
    try {
      for (const t of targets) {
        progress.set(`${label}: ${rate} req/s`, `warm-up ${t.label}`);
        await openLoop(pools.get(t)!, specFor(t, spec), rate, o.warmupMs);
      }
      for (let r = 0; r < o.repeats; r++) {
        for (const t of rotation(targets, r)) {
          progress.set(`${label}: ${rate} req/s`, `repeat ${r + 1}/${o.repeats} ${t.label}`);
          const p = per.get(t)!;
          p.cpu.begin();
          const startMs = performance.now();
          const out = await openLoop(pools.get(t)!, specFor(t, spec), rate, o.durationMs);
          o.onWindow?.(t, { startMs, endMs: performance.now(), requests: out.ok + out.errors });
          p.cpu.end(out.ok + out.errors);
          const [p50, p99, p999] = out.latencies.length ? percentiles(out.latencies, LATENCY_PS) : [NaN, NaN, NaN];
          p.p50.push(p50!);
          p.p99.push(p99!);
          p.p999.push(p999!);
          p.ok += out.ok;
          p.errors += out.errors;
          p.firstError ??= out.firstError;
          p.ms += out.elapsedMs;
          p.lag = Math.max(p.lag, out.maxSendLagMs);
        }
      }
    } finally {
      await Promise.all([...pools.values()].map((p) => p.destroy()));
    }
    const d = per.get(targets.find((t) => t.kind === 'direct')!)!;
    for (const t of targets) {
      const p = per.get(t)!;
      const isDirect = t.kind === 'direct';
      rows.push({
        target: t.kind,
        label: t.label,
        rate,
        achievedRps: p.ms > 0 ? (p.ok * 1000) / p.ms : NaN,
        p50: spread(p.p50),
        p99: spread(p.p99),
        addedP50: isDirect ? null : spread(p.p50.map((v, i) => v - d.p50[i]!)),
        addedP99: isDirect ? null : spread(p.p99.map((v, i) => v - d.p99[i]!)),
        p999: spread(p.p999),
        addedP999: isDirect ? null : spread(p.p999.map((v, i) => v - d.p999[i]!)),
        errors: p.errors,
        firstError: p.firstError,
        maxSendLagMs: p.lag,
        cpuUsPerReq: p.cpu.perRequest(),
      });
    }
  }
  return rows;
}
