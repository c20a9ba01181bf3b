// Scenario 5, agent fan-out: many simulated agents start together, each a chain of calls with
// think time between them (a coding agent's loop). Reported: end-to-end run time through each
// target vs the mock directly, interleaved over repeats, and per-call latency.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Progress } from './progress';
import type { FanoutRow } from './results';
import { percentiles, spread } from './stats';
import { SseChecker } from './streams';
import { specFor, type Target } from './targets';
import { succeeded, timedRequest, type RequestSpec } from './timed-request';
import { rotation } from './latency-rounds';

export interface FanoutOptions {
  agents: number;
  calls: number;
  thinkMs: number;
}

export interface FanoutRun {
  wallMs: number;
  calls: number[];
  errors: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One fan-out: every agent runs its chain; resolves when the last agent is done. */
export async function fanoutOnce(url: string, spec: RequestSpec, o: FanoutOptions): Promise<FanoutRun> {
  const pool = new Pool(url, { connections: o.agents, pipelining: 1, keepAliveTimeout: 60_000 });
  const calls: number[] = [];
  let errors = 0;
  try {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.agents }, async () => {
        for (let k = 0; k < o.calls; k++) {
          const c = new SseChecker();
          const t = await timedRequest(pool, spec, (chunk, now) => c.feed(chunk, now), 60_000);
          if (succeeded(t) && c.ended) calls.push(t.end - t.start);
          else errors++;
          if (k < o.calls - 1) await sleep(o.thinkMs);
        }
      }),
    );
    return { wallMs: performance.now() - t0, calls, errors };
  } finally {
    await pool.destroy();
  }
}

export async function interleavedFanout(targets: Target[], spec: RequestSpec, o: FanoutOptions & { repeats: number }, progress: Progress, label: string): Promise<FanoutRow[]> {
  const runs = new Map<Target, FanoutRun[]>(targets.map((t) => [t, []]));
  for (const t of targets) {
    progress.set(`${label}: warm-up`, t.label);
    await fanoutOnce(t.url, specFor(t, spec), { ...o, calls: 2, thinkMs: 0 });
  }
  for (let r = 0; r < o.repeats; r++) {
    for (const t of rotation(targets, r)) {
      progress.set(`${label}: ${o.agents} agents × ${o.calls} calls`, `repeat ${r + 1}/${o.repeats} ${t.label}`);
      runs.get(t)!.push(await fanoutOnce(t.url, specFor(t, spec), o));
    }
  }
  const direct = runs.get(targets.find((t) => t.kind === 'direct')!)!;
  return targets.map((t) => {
    const rs = runs.get(t)!;
    const all = rs.flatMap((x) => x.calls);
    const [p50, p99] = all.length ? percentiles(all, [50, 99]) : [NaN, NaN];
    return {
      target: t.kind,
      label: t.label,
      runMs: spread(rs.map((x) => x.wallMs)),
      addedRunMs: t.kind === 'direct' ? null : spread(rs.map((x, i) => x.wallMs - direct[i]!.wallMs)),
      callP50: p50!,
      callP99: p99!,
      errors: rs.reduce((a, x) => a + x.errors, 0),
    };
  });
}
