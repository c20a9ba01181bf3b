// The highest throughput whose p99 stays under the limit: closed-loop load (the C generator, or
// autocannon: generators.ts) at rising connection counts, each step run for every target in turn;
// a target stops rising once its p99 passes the limit or it fails requests, and all stop once
// none grows any more. Outside quick mode each target is then confirmed at its best step (and at
// its next best when that came within 10 % of it) in short slices, every target's slices
// interleaved; the proxies also at each other's such steps, so that their CPU is compared under
// the same load from these slices. The best confirmed step's median slice is reported.
import type { CannonStep } from './load';
import { throughputGenerator, type GeneratorKind } from './generators';
import type { Progress } from './progress';
import type { ConfirmedStep, ThroughputRow } from './results';
import { spread } from './stats';
import { CpuMeter, isDirect, specFor, type Target } from './targets';
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
 * The steps to confirm: the best one, and the next best when it came within `within` of it. One
 * step of each count decides which is best, and on this VM one 5-s step can run 30 % fast or slow
 * (the minimal proxy's 4- and 8-connection steps 15,656 and 14,961 req/s, its confirm runs at 4
 * spanning 10,021–17,531: PERF.md, issue 15, 2026-12-07 10:30), so the runner-up is as likely the
 * target's real best.
 */
export function candidateSteps(steps: CannonStep[], p99LimitMs: number, within = 0.1): CannonStep[] {
  const best = bestStep(steps, p99LimitMs);
  if (!best) return [];
  const second = bestStep(
    steps.filter((s) => s !== best),
    p99LimitMs,
  );
  return second && second.rps >= best.rps * (1 - within) ? [best, second] : [best];
}

/**
 * The connection counts each target is confirmed at: its own candidates, and for a proxy also
 * the other proxies' (the direct targets, the mock, are no one's comparator), where it ran that
 * step. Their CPU per request at the same load then comes from interleaved slices too: a single
 * 5-s step had put the governed Weir at 90.7 µs a request at 64 connections where its slices
 * there gave 74.0 (PERF.md, issue 15, 2026-12-07 10:30).
 */
export function confirmSteps<T>(targets: T[], stepsOf: (t: T) => CannonStep[], proxy: (t: T) => boolean, p99LimitMs: number): Map<T, CannonStep[]> {
  const own = new Map(targets.map((t) => [t, candidateSteps(stepsOf(t), p99LimitMs)]));
  const shared = new Set(targets.filter(proxy).flatMap((t) => own.get(t)!.map((s) => s.connections)));
  return new Map(
    targets.map((t) => {
      const list = [...own.get(t)!];
      if (proxy(t)) {
        for (const s of stepsOf(t)) if (shared.has(s.connections) && !list.includes(s)) list.push(s);
      }
      return [t, list];
    }),
  );
}

/** The candidate a target is reported at: the highest median among those held in at least half their slices. */
export function confirmedBest<T extends { runs: number[] }>(candidates: T[]): T | null {
  let best: T | null = null;
  let bestMedian = -Infinity;
  for (const c of candidates) {
    const ok = c.runs.filter((x) => !Number.isNaN(x)).length;
    if (ok === 0 || ok * 2 < c.runs.length) continue;
    const m = spread(c.runs).median;
    if (m > bestMedian) {
      best = c;
      bestMedian = m;
    }
  }
  return best;
}

/**
 * Why a target stops raising connections after `steps` (the latest last), or null while it goes
 * on: 'limit' after two steps in a row over the p99 limit or failing requests (one noisy step
 * does not end the search); 'flat' once its throughput stopped growing (two steps without 5 %
 * more than the best before them).
 */
export function stopReason(steps: CannonStep[], p99LimitMs: number): 'limit' | 'flat' | null {
  const bad = (s: CannonStep) => s.p99 >= p99LimitMs || s.errors > 0 || s.non2xx > 0;
  const n = steps.length;
  if (n >= 2 && bad(steps[n - 1]!) && bad(steps[n - 2]!)) return 'limit';
  if (n >= 3) {
    const before = Math.max(...steps.slice(0, -2).map((s) => s.rps));
    if (steps[n - 2]!.rps < before * 1.05 && steps[n - 1]!.rps < before * 1.05) return 'flat';
  }
  return null;
}

/**
 * The targets that run the next step: a target over the limit stops; one that stopped growing goes
 * on while another still grows, so that the targets compared have run the same steps. One noisy
 * step (the minimal proxy's 14,927 req/s at 4 connections) had stopped a target at 16 connections
 * while the other went on to its best at 64: two loads compared (PERF.md, issue 15, 2026-12-07
 * 10:30). None once all have stopped growing.
 */
export function stillRising<T>(active: T[], stepsOf: (t: T) => CannonStep[], p99LimitMs: number): T[] {
  const why = new Map(active.map((t) => [t, stopReason(stepsOf(t), p99LimitMs)]));
  const left = active.filter((t) => why.get(t) !== 'limit');
  return left.every((t) => why.get(t) === 'flat') ? [] : left;
}

/**
 * CPU µs/request of two targets under the same load: at `a`'s best step's connection count when
 * `b` ran it too, else at the highest connection count both ran; from the confirm slices where
 * both were confirmed there, else from the steps. Null when they share none.
 */
export function cpuAtSameLoad(
  a: { steps: CannonStep[]; connections: number; confirmedAt?: ConfirmedStep[] },
  b: { steps: CannonStep[]; confirmedAt?: ConfirmedStep[] },
): { conns: number; a: number; b: number; confirmed: boolean } | null {
  const confirmedCpu = (list: ConfirmedStep[] | undefined, c: number) => list?.find((x) => x.connections === c)?.cpuUsPerReq ?? NaN;
  const both = (c: number) => !Number.isNaN(confirmedCpu(a.confirmedAt, c)) && !Number.isNaN(confirmedCpu(b.confirmedAt, c));
  if (both(a.connections)) return { conns: a.connections, a: confirmedCpu(a.confirmedAt, a.connections), b: confirmedCpu(b.confirmedAt, a.connections), confirmed: true };
  const at = (steps: CannonStep[], c: number) => steps.find((s) => s.connections === c)?.cpuUsPerReq ?? NaN;
  const common = a.steps.map((s) => s.connections).filter((c) => !Number.isNaN(at(a.steps, c)) && !Number.isNaN(at(b.steps, c)));
  if (!common.length) return null;
  const conns = common.includes(a.connections) ? a.connections : Math.max(...common);
  return { conns, a: at(a.steps, conns), b: at(b.steps, conns), confirmed: false };
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
    active = stillRising(active, (t) => steps.get(t)!, o.p99LimitMs);
    if (active.length === 0) break;
  }
  // The confirm runs: the same time a target spent before at its best step (`repeats` runs of
  // `durationS`), cut into slices of 1 s that go round every target's candidates in turn. This
  // VM's speed switches every second or so (PERF.md, issue 15, 2026-12-07 07:58), and with 5-s
  // runs one target's run could catch a slow spell the other's missed: one 5-s confirm run of
  // the minimal proxy gave 10,021 req/s and another 17,531 at the same step (section of 10:30).
  const sliceS = Math.min(1, o.durationS);
  const slices = o.repeats * Math.max(1, Math.round(o.durationS / sliceS));
  // Quick runs confirm nothing: no candidates, so no empty confirmations are reported.
  const toConfirm = slices > 0 ? confirmSteps(targets, (t) => steps.get(t)!, (t) => !isDirect(t.kind), o.p99LimitMs) : new Map(targets.map((t) => [t, []]));
  const confirm = new Map<Target, Candidate[]>(targets.map((t) => [t, toConfirm.get(t)!.map((s) => ({ step: s, runs: [], meter: new CpuMeter(t) }))]));
  const queue = targets.flatMap((t) => confirm.get(t)!.map((c) => ({ t, c })));
  for (let r = 0; r < slices; r++) {
    for (const { t, c } of rotation(queue, r)) {
      progress.set(`${label}: max throughput`, `confirm ${r + 1}/${slices} at ${c.step.connections} connections ${t.label}`);
      const before = c.meter.cpuUs;
      c.meter.begin();
      const s = await gen.step(t.url, specs.get(t)!, c.step.connections, sliceS);
      c.meter.end(s.total);
      count(t, s, c.meter.cpuUs - before);
      c.runs.push(s.p99 < o.p99LimitMs && s.errors === 0 && s.non2xx === 0 ? s.rps : NaN);
    }
  }
  return targets.map((t) => {
    const best = bestStep(steps.get(t)!, o.p99LimitMs);
    const candidates = confirm.get(t)!;
    const held = confirmedBest(candidates);
    // No candidate held in half its slices: the best step's own figure, flagged as unconfirmed.
    const shown = held ?? candidates.find((c) => c.step === best);
    const step = held?.step ?? best;
    return {
      target: t.kind,
      label: t.label,
      generator: gen.name,
      bestRps: held ? spread(held.runs).median : (best?.rps ?? NaN),
      bestRpsSpread: held ? spread(held.runs) : null,
      confirmed: shown ? { ok: shown.runs.filter((x) => !Number.isNaN(x)).length, of: shown.runs.length } : undefined,
      confirmedAt: candidates.length ? candidates.map((c) => ({ connections: c.step.connections, rps: spread(c.runs), cpuUsPerReq: c.meter.perRequest() })) : undefined,
      connections: step?.connections ?? NaN,
      p99: step?.p99 ?? NaN,
      cpuUsPerReq: held ? held.meter.perRequest() : step ? cpuAt.get(t)!.get(step.connections)! : NaN,
      steps: steps.get(t)!,
      requests: counts.get(t)!,
    };
  });
}

interface Candidate {
  step: CannonStep;
  /** req/s of each slice at the step; NaN where the slice's p99 passed the limit or requests failed. */
  runs: number[];
  meter: CpuMeter;
}
