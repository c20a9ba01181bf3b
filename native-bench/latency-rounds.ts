// Latency at concurrency 1, interleaved: each repeat is split into short rounds, and every round
// runs each target in turn (the order rotating from round to round), so machine noise lands on
// the direct path and on every proxy alike. Each target has its own keep-alive connection. A
// target's CPU is read per thread in nanoseconds around each of its windows (CpuMeter's precise
// mode): a round can be a few calls, far under /proc/PID/stat's 10 ms tick.
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { closedLoop, type AnswerCheck } from './load';
import type { LatencyPlan } from './plan';
import type { Progress } from './progress';
import type { LatencyRow } from './results';
import { addedSpread, latencySpread } from './stats';
import { CpuMeter, isDirect, specFor, targetRss, type Target } from './targets';
import type { RequestSpec } from './timed-request';

interface Collected {
  total: Float64Array[];
  firstByte: Float64Array[];
  firstToken: Float64Array[];
  errors: number;
  firstError: string | null;
  cpu: CpuMeter;
  cpuPerRepeat: number[];
  /** Requests sent, warm-up included (each one awaited: all of them reached the target). */
  sent: number;
  /** Measured answers whose body passed the target's check. */
  checked: number;
}

/**
 * What one target is sent and how its answers are checked, when that differs from the shared
 * spec (scenario 7 sends one body to two models, and the translated body to the mock directly).
 */
export interface PerTarget {
  spec?: RequestSpec;
  check?: AnswerCheck;
  /** False for a stream that is not SSE (Bedrock's event stream answered directly): timed to its first byte and its end only. */
  sse?: boolean;
}

/** A measured stretch of one target (performance.now() ms) and the requests it served in it. */
export type OnWindow = (t: Target, w: { startMs: number; endMs: number; requests: number }) => void;

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Round r runs targets starting at index r mod n: every target takes every position equally. */
export function rotation<T>(list: readonly T[], round: number): T[] {
  const k = ((round % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

export async function interleavedLatency(
  targets: Target[],
  spec: RequestSpec,
  plan: LatencyPlan & { repeats: number; sse: boolean; per?: (t: Target) => PerTarget; onWindow?: OnWindow },
  progress: Progress,
  label: string,
): Promise<LatencyRow[]> {
  const clients = new Map(targets.map((t) => [t, new Client(t.url, { pipelining: 1, keepAliveTimeout: 60_000 })]));
  const specs = new Map(targets.map((t) => [t, specFor(t, plan.per?.(t).spec ?? spec)]));
  const checks = new Map(targets.map((t) => [t, plan.per?.(t).check]));
  const sses = new Map(targets.map((t) => [t, plan.per?.(t).sse ?? plan.sse]));
  const data = new Map<Target, Collected>(
    targets.map((t) => [t, { total: [], firstByte: [], firstToken: [], errors: 0, firstError: null, cpu: new CpuMeter(t), cpuPerRepeat: [], sent: 0, checked: 0 }]),
  );
  try {
    for (const t of targets) {
      progress.set(`${label}: warm-up`, t.label);
      await closedLoop(clients.get(t)!, specs.get(t)!, plan.warmup, sses.get(t), checks.get(t));
      data.get(t)!.sent += plan.warmup;
    }
    const perRound = Math.max(1, Math.ceil(plan.perRepeat / plan.rounds));
    let round = 0;
    for (let r = 0; r < plan.repeats; r++) {
      const parts = new Map<Target, { total: Float64Array[]; fb: Float64Array[]; ft: Float64Array[]; meter: CpuMeter }>(
        targets.map((t) => [t, { total: [], fb: [], ft: [], meter: new CpuMeter(t, true) }]),
      );
      for (let k = 0; k < plan.rounds; k++, round++) {
        for (const t of rotation(targets, round)) {
          progress.set(`${label}: concurrency 1`, `repeat ${r + 1}/${plan.repeats} round ${k + 1}/${plan.rounds} ${t.label}`);
          const d = data.get(t)!;
          const p = parts.get(t)!;
          p.meter.begin();
          const check = checks.get(t);
          const startMs = performance.now();
          const s = await closedLoop(clients.get(t)!, specs.get(t)!, perRound, sses.get(t), check);
          const served = s.total.length + s.errors;
          plan.onWindow?.(t, { startMs, endMs: performance.now(), requests: served });
          d.sent += perRound;
          p.meter.end(served);
          p.total.push(s.total);
          p.fb.push(s.firstByte);
          p.ft.push(s.firstToken);
          d.errors += s.errors;
          if (check) d.checked += s.total.length;
          d.firstError ??= s.firstError;
        }
      }
      for (const t of targets) {
        const d = data.get(t)!;
        const p = parts.get(t)!;
        d.total.push(concat(p.total));
        d.firstByte.push(concat(p.fb));
        d.firstToken.push(concat(p.ft));
        d.cpuPerRepeat.push(p.meter.perRequest());
        d.cpu.absorb(p.meter);
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
  }
  const ref = data.get(targets.find((t) => t.kind === 'direct')!)!;
  return targets.map((t) => {
    const d = data.get(t)!;
    const direct = isDirect(t.kind);
    return {
      target: t.kind,
      label: t.label,
      repeats: plan.repeats,
      sent: d.sent,
      errors: d.errors,
      firstError: d.firstError,
      abs: latencySpread(d.total),
      added: direct ? null : addedSpread(d.total, ref.total),
      ttfb: plan.sse ? { abs: latencySpread(d.firstByte), added: direct ? null : addedSpread(d.firstByte, ref.firstByte) } : null,
      ttft: plan.sse && sses.get(t) ? { abs: latencySpread(d.firstToken), added: direct ? null : addedSpread(d.firstToken, ref.firstToken) } : null,
      cpuUsPerReq: d.cpu.perRequest(),
      faultsPerReq: d.cpu.faultsPerRequest(),
      cpuPerRepeat: d.cpuPerRepeat,
      rssMB: targetRss(t) / 2 ** 20,
      ...(checks.get(t) ? { checked: d.checked } : {}),
    };
  });
}
