// The highest throughput whose p99 stays under the limit: closed-loop load (the C generator, or
// autocannon: generators.ts) at rising connection counts,
// each step run for every target in turn; a target stops rising once its p99 passes the limit, it
// fails requests, or its throughput stops growing. Outside quick mode each target is then run
// again at its best step, interleaved, and the median of those runs is reported.
import type { CannonStep } from './load';
import { throughputGenerator, type GeneratorKind } from './generators';
import type { Progress } from './progress';
import type { ThroughputRow } from './results';
import { spread } from './stats';
import { CpuMeter, specFor, type Target } from './targets';
import type { RequestSpec } from './timed-request';
import { rotation } from './latency-rounds';

/** The best step: most req/s with p99 under the limit and no failures; null when none qualifies. */
export function bestStep(steps: CannonStep[], p99LimitMs: number): CannonStep | null {
  let best: CannonStep | null = null;
  for (const s of steps) {
    if (s.p99 >= p99LimitMs || s.errors > 0 || s.non2xx > 0) continue;
    if (!best || s.rps > best.rps) best = s;
  }
  return best;
}

/**
 * Whether to keep raising connections after `steps` (the latest last): a target stops after two
 * steps in a row over the limit or failing requests (one noisy step does not end the search), or
 * when throughput stopped growing (two steps without 5 % more than the best before them).
 */
export function keepRising(steps: CannonStep[], p99LimitMs: number): boolean {
  const bad = (s: CannonStep) => s.p99 >= p99LimitMs || s.errors > 0 || s.non2xx > 0;
  const n = steps.length;
  if (n >= 2 && bad(steps[n - 1]!) && bad(steps[n - 2]!)) return false;
  if (n >= 3) {
    const before = Math.max(...steps.slice(0, -2).map((s) => s.rps));
    if (steps[n - 2]!.rps < before * 1.05 && steps[n - 1]!.rps < before * 1.05) return false;
  }
  return true;
}

/**
 * CPU µs/request of two targets under the same load: at `a`'s best step's connection count when
 * `b` ran it too, else at the highest connection count both ran. Null when they share none.
 */
export function cpuAtSameLoad(a: { steps: CannonStep[]; connections: number }, b: { steps: CannonStep[] }): { conns: number; a: number; b: number } | null {
  const at = (steps: CannonStep[], c: number) => steps.find((s) => s.connections === c)?.cpuUsPerReq ?? NaN;
  const common = a.steps.map((s) => s.connections).filter((c) => !Number.isNaN(at(a.steps, c)) && !Number.isNaN(at(b.steps, c)));
  if (!common.length) return null;
  const conns = common.includes(a.connections) ? a.connections : Math.max(...common);
  return { conns, a: at(a.steps, conns), b: at(b.steps, conns) };
}

export async function maxThroughput(
  targets: Target[],
  spec: RequestSpec,
  o: { steps: number[]; durationS: number; warmupS: number; p99LimitMs: number; repeats: number; generator: GeneratorKind },
  progress: Progress,
  label: string,
): Promise<ThroughputRow[]> {
  const gen = throughputGenerator(o.generator);
  const steps = new Map<Target, CannonStep[]>(targets.map((t) => [t, []]));
  const specs = new Map(targets.map((t) => [t, specFor(t, spec)]));
  const counts = new Map(targets.map((t) => [t, { sent: 0, answered: 0, failed: 0, cpuUs: 0 }]));
  const count = (t: Target, s: CannonStep, cpuUs: number) => {
    const c = counts.get(t)!;
    c.sent += s.sent ?? s.total;
    c.answered += s.total;
    c.failed += s.errors + s.non2xx;
    c.cpuUs += cpuUs;
  };
  const cpuAt = new Map<Target, Map<number, number>>(targets.map((t) => [t, new Map()]));
  // Each target first serves a while at a middle step, not reported: a gateway is measured as it
  // runs for days, with its hot paths optimized, not as V8 first meets them. Fresh, both proxies
  // take 6-8 s of this load to settle (1-s steps at 32 connections, 2026-12-05: Weir 561, 154, 81,
  // 77 … 63 µs/req; the minimal proxy 302, 81, 71, 62 … 57), the one with more code the longer,
  // so steps run cold measured how far each had got. The warm-up's requests still count in
  // `counts`: the governed scenario expects a spend row for each.
  if (o.warmupS > 0) {
    const c = o.steps[Math.floor(o.steps.length / 2)]!;
    for (const t of targets) {
      progress.set(`${label}: max throughput`, `warm-up, ${c} connections ${t.label}`);
      const m = new CpuMeter(t);
      m.begin();
      const s = await gen.step(t.url, specs.get(t)!, c, o.warmupS);
      m.end(s.total);
      count(t, s, m.cpuUs);
    }
  }
  let active = [...targets];
  for (const [i, c] of o.steps.entries()) {
    for (const t of rotation(active, i)) {
      progress.set(`${label}: max throughput`, `${c} connections ${t.label}`);
      const m = new CpuMeter(t);
      m.begin();
      const s = await gen.step(t.url, specs.get(t)!, c, o.durationS);
      m.end(s.total);
      count(t, s, m.cpuUs);
      s.cpuUsPerReq = m.perRequest();
      steps.get(t)!.push(s);
      cpuAt.get(t)!.set(c, s.cpuUsPerReq);
    }
    active = active.filter((t) => keepRising(steps.get(t)!, o.p99LimitMs));
    if (active.length === 0) break;
  }
  const confirm = new Map<Target, number[]>(targets.map((t) => [t, []]));
  const confirmCpu = new Map<Target, CpuMeter>(targets.map((t) => [t, new CpuMeter(t)]));
  for (let r = 0; r < o.repeats; r++) {
    for (const t of rotation(targets, r)) {
      const best = bestStep(steps.get(t)!, o.p99LimitMs);
      if (!best) continue;
      progress.set(`${label}: max throughput`, `confirm ${r + 1}/${o.repeats} at ${best.connections} connections ${t.label}`);
      const m = confirmCpu.get(t)!;
      const before = m.cpuUs;
      m.begin();
      const s = await gen.step(t.url, specs.get(t)!, best.connections, o.durationS);
      m.end(s.total);
      count(t, s, m.cpuUs - before);
      confirm.get(t)!.push(s.p99 < o.p99LimitMs && s.errors === 0 && s.non2xx === 0 ? s.rps : NaN);
    }
  }
  return targets.map((t) => {
    const best = bestStep(steps.get(t)!, o.p99LimitMs);
    const runs = confirm.get(t)!;
    const ok = runs.filter((x) => !Number.isNaN(x)).length;
    // No confirm run stayed under the limit: the best step's own figure, flagged as unconfirmed.
    const sp = ok > 0 ? spread(runs) : null;
    return {
      target: t.kind,
      label: t.label,
      generator: gen.name,
      bestRps: sp ? sp.median : (best?.rps ?? NaN),
      bestRpsSpread: sp,
      confirmed: runs.length ? { ok, of: runs.length } : undefined,
      connections: best?.connections ?? NaN,
      p99: best?.p99 ?? NaN,
      cpuUsPerReq: runs.length ? confirmCpu.get(t)!.perRequest() : best ? cpuAt.get(t)!.get(best.connections)! : NaN,
      steps: steps.get(t)!,
      requests: counts.get(t)!,
    };
  });
}
