// What the bench measures: the mock upstream directly (the reference every figure is relative
// to), Weir, and the baselines/comparators. A target is an origin to send requests to and the
// processes whose CPU time and memory count for it.
import type { GcTrace } from './gc-trace';
import { cpuMicros, minorFaults, processTree, rssBytes, sumOver, threadsCpuDeltaNs, threadsCpuNs } from './procfs';
import type { RequestSpec } from './timed-request';

export type TargetKind = 'direct' | 'direct-openai' | 'weir' | 'translated' | 'governed' | 'minimal' | 'nginx' | 'litellm' | 'bedrock-direct' | 'weir-bedrock' | 'vertex-direct' | 'vertex' | 'gemini-direct' | 'gemini' | 'scaleout-a' | 'scaleout-b' | 'scaleout-strict';

export interface Target {
  kind: TargetKind;
  label: string;
  /** Origin, e.g. http://127.0.0.1:4000 */
  url: string;
  /** Root pid of the target's processes, or null when it runs elsewhere (a --litellm URL). */
  pid: number | null;
  /** Count children too (nginx workers, a shell that started LiteLLM). */
  tree: boolean;
  /** Key sent instead of the spec's (a virtual key for the governed Weir); undefined: the spec's. */
  key?: string;
  /** Its GC trace, when it runs under --trace-gc-nvp (Weir and the governed Weir in the tail scenario). */
  gc?: GcTrace;
}

export const LABELS: Record<TargetKind, string> = {
  direct: 'mock (direct)',
  'direct-openai': 'mock (direct, OpenAI chat)',
  weir: 'Weir',
  translated: 'Weir translated (OpenAI upstream)',
  governed: 'Weir governed (virtual key)',
  minimal: 'minimal uWS proxy',
  nginx: 'nginx',
  litellm: 'LiteLLM (Python)',
  'bedrock-direct': 'fake Bedrock (direct)',
  'weir-bedrock': 'Weir → Claude on Bedrock',
  'vertex-direct': 'fake Vertex AI (direct, streamRawPredict)',
  vertex: 'Weir → Claude on Vertex AI',
  'gemini-direct': 'fake AI Studio (direct, streamGenerateContent)',
  gemini: 'Weir translated → Gemini',
  'scaleout-a': 'Weir on Redis, instance A (same key as B)',
  'scaleout-b': 'Weir on Redis, instance B (same key as A)',
  'scaleout-strict': 'Weir on Redis, instance A, a strict key (weir_strict_limits)',
};

/**
 * The mock itself, answered directly: its rows are absolute, and every other row is added to the
 * `direct` one. `direct-openai` (scenario 7) is the mock sent the chat request Weir sends it on the
 * translated path, so Weir's own share of that path can be told from the mock's. `bedrock-direct`
 * (scenario 9) is the fake Bedrock answered directly.
 */
export function isDirect(kind: TargetKind): boolean {
  return kind === 'direct' || kind === 'direct-openai' || kind === 'bedrock-direct' || kind === 'vertex-direct' || kind === 'gemini-direct';
}

export function makeTarget(kind: TargetKind, url: string, pid: number | null, tree = false): Target {
  return { kind, label: LABELS[kind], url, pid, tree };
}

/** The request as this target is sent it: with the target's own key in place of the spec's. */
export function specFor(t: Target, spec: RequestSpec): RequestSpec {
  if (t.key === undefined) return spec;
  const headers = spec.headers.slice();
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    if (name === 'authorization') headers[i + 1] = `Bearer ${t.key}`;
    else if (name === 'x-api-key') headers[i + 1] = t.key;
  }
  return { ...spec, headers };
}

function pidsOf(t: Target): number[] {
  if (t.pid === null) return [];
  return t.tree ? processTree(t.pid) : [t.pid];
}

/** CPU µs used so far by the target's processes (NaN when unknown). */
export function targetCpu(t: Target): number {
  const pids = pidsOf(t);
  return pids.length ? sumOver(pids, cpuMicros) : NaN;
}

/** Minor page faults of the target's processes so far (NaN when unknown). */
export function targetFaults(t: Target): number {
  const pids = pidsOf(t);
  return pids.length ? sumOver(pids, minorFaults) : NaN;
}

/** RSS of the target's processes in bytes (NaN when unknown). */
export function targetRss(t: Target): number {
  const pids = pidsOf(t);
  return pids.length ? sumOver(pids, rssBytes) : NaN;
}

/**
 * Accumulates CPU time, minor page faults and request counts of one target over separate
 * measurement windows. Faults are counted, not timed: unlike CPU on a loaded machine, a fault
 * count per request does not move with other work on the box.
 */
export class CpuMeter {
  cpuUs = 0;
  faults = 0;
  requests = 0;
  private before = NaN;
  private threadsBefore: Map<number, number> | null = null;
  private faultsBefore = NaN;
  private known = true;
  private faultsKnown = true;

  /**
   * `precise`: a one-process target's CPU is read per thread in nanoseconds (threadsCpuNs), not
   * in /proc/PID/stat's 10 ms ticks. For short windows: a window of a few calls is a fraction of
   * a tick, and over hundreds of them the ticks' rounding moves a per-request figure by ~10 %.
   */
  constructor(
    private readonly t: Target,
    private readonly precise = false,
  ) {}

  private get perThread(): boolean {
    return this.precise && this.t.pid !== null && !this.t.tree;
  }

  begin(): void {
    if (this.perThread) this.threadsBefore = threadsCpuNs(this.t.pid!);
    else this.before = targetCpu(this.t);
    this.faultsBefore = targetFaults(this.t);
  }

  end(requests: number): void {
    if (this.perThread) {
      const after = threadsCpuNs(this.t.pid!);
      if (after === null || this.threadsBefore === null) this.known = false;
      else this.cpuUs += threadsCpuDeltaNs(this.threadsBefore, after) / 1000;
    } else {
      const after = targetCpu(this.t);
      if (Number.isNaN(after) || Number.isNaN(this.before)) this.known = false;
      else this.cpuUs += after - this.before;
    }
    const faultsAfter = targetFaults(this.t);
    if (Number.isNaN(faultsAfter) || Number.isNaN(this.faultsBefore)) this.faultsKnown = false;
    else this.faults += faultsAfter - this.faultsBefore;
    this.requests += requests;
  }

  /** Adds what another meter of the same target counted (a repeat's, into the whole run's). */
  absorb(m: CpuMeter): void {
    this.cpuUs += m.cpuUs;
    this.faults += m.faults;
    this.requests += m.requests;
    this.known &&= m.known;
    this.faultsKnown &&= m.faultsKnown;
  }

  /** CPU µs per request over every window so far; NaN when unknown or nothing was served. */
  perRequest(): number {
    return this.known && this.requests > 0 ? this.cpuUs / this.requests : NaN;
  }

  /** Minor page faults per request over every window so far; NaN when unknown or nothing was served. */
  faultsPerRequest(): number {
    return this.faultsKnown && this.requests > 0 ? this.faults / this.requests : NaN;
  }
}
