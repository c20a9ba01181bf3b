// Scenario 8's figures from what the bench recorded: per run, when it was POSTed, when its events
// say it started, each event's delay to the SSE watcher and how it ended; the control thread's
// event-loop lag as Weir reports it; the data plane's latency with and without the fan-out; and
// how many Claude Code processes this machine's memory allows. Pure: tested on made-up traces.
import type { AgentsDataPlane, AgentsPhase, LagStats } from './results';
import { FINAL_STATUSES } from '../src/agents/types';
import { percentiles } from './stats';

const FINAL: ReadonlySet<string> = FINAL_STATUSES;

/** What the bench saw of one run. Times are epoch milliseconds (fractional where measured here). */
export interface RunTrace {
  postAt: number;
  /** The 202 arrived; null when the POST failed. */
  acceptedAt: number | null;
  postError: string | null;
  id: string | null;
  /** `ts` of the run's `status: provisioning` event (claimed from the queue). */
  provisioningAt: number | null;
  /** `ts` of the run's `status: running` event. */
  runningAt: number | null;
  /** `ts` of its first event after `running` that is not a status change (the agent's first line). */
  firstAgentAt: number | null;
  /** `ts` of its last agent event so far, and of its final status event. */
  lastAgentAt: number | null;
  finalAt: number | null;
  /** When the watcher first asked for the run's events (epoch ms); null until it has. */
  watchAt: number | null;
  /** Received minus `ts`, every event the run printed once its watcher had asked for them. */
  eventDelays: number[];
  /** The `ts` of each of those events (epoch ms), in the same order. */
  eventAts: number[];
  /** Events already there when the watcher asked (the replay of a run claimed before its watcher
   *  connected): their age is the watcher's lateness, not a delay of Weir's, and not counted in it. */
  replayed: number;
  finalStatus: string | null;
  /** How its sandbox was had (its `sandbox` event's `start`): made for it, or from a warm pool. */
  sandboxStart: 'cold' | 'warm' | null;
  errorKind: string | null;
  errorMessage: string | null;
}

export function newTrace(postAt: number): RunTrace {
  return { postAt, acceptedAt: null, postError: null, id: null, provisioningAt: null, runningAt: null, firstAgentAt: null, lastAgentAt: null, finalAt: null, watchAt: null, eventDelays: [], eventAts: [], replayed: 0, finalStatus: null, sandboxStart: null, errorKind: null, errorMessage: null };
}

/** Folds one event into its run's trace: `receivedAt` is when the watcher read it (epoch ms). */
export function traceEvent(t: RunTrace, e: { ts: string; type: string; payload: unknown }, receivedAt: number): void {
  const ts = Date.parse(e.ts);
  if (Number.isFinite(ts)) {
    // ts has whole milliseconds: an event of the watcher's own millisecond is taken as live.
    if (t.watchAt !== null && ts < Math.floor(t.watchAt)) t.replayed++;
    else {
      t.eventDelays.push(receivedAt - ts);
      t.eventAts.push(ts);
    }
  }
  const p = (e.payload ?? {}) as { status?: unknown; start?: unknown; error?: { kind?: unknown; message?: unknown } | null };
  if (e.type === 'sandbox' && (p.start === 'cold' || p.start === 'warm')) t.sandboxStart = p.start;
  if (e.type === 'status') {
    if (p.status === 'provisioning' && t.provisioningAt === null && Number.isFinite(ts)) t.provisioningAt = ts;
    if (p.status === 'running' && t.runningAt === null && Number.isFinite(ts)) t.runningAt = ts;
    if (typeof p.status === 'string') t.finalStatus = p.status;
    if (typeof p.status === 'string' && FINAL.has(p.status) && Number.isFinite(ts)) t.finalAt = ts;
    if (p.error && typeof p.error === 'object') {
      t.errorKind = typeof p.error.kind === 'string' ? p.error.kind : null;
      t.errorMessage = typeof p.error.message === 'string' ? p.error.message.slice(0, 300) : null;
    }
  } else if (t.runningAt !== null && Number.isFinite(ts)) {
    // Weir's own events before `running` (the sandbox's) are not the agent's.
    t.firstAgentAt ??= ts;
    t.lastAgentAt = ts;
  }
}

const pcts = (v: number[], ps: number[]) => (v.length ? percentiles(v, ps) : ps.map(() => NaN));

export type PhaseRunFigures = Pick<
  AgentsPhase,
  'runs' | 'statuses' | 'unfinished' | 'postErrors' | 'firstFailure' | 'postP50' | 'claimP50' | 'claimP99' | 'startP50' | 'startP99' | 'firstEventP50' | 'firstEventP99' | 'finishP50' | 'finishP99' | 'events' | 'eventsReplayed' | 'eventDelayP50' | 'eventDelayP99' | 'eventDelayMax' | 'eventsAfterStarts' | 'eventDelayAfterStartsP99' | 'warmStarts'
>;

/**
 * Per phase: start latency (POST sent → the `running` event's ts) p50/p99, the first agent event
 * likewise, every event's delay to its watcher (p50, p99, max), and how the runs ended. A run
 * counts in a latency only when it reached that point. The delay is told once more for the events
 * printed after every run's agent had printed its first line: the fan-out's starts (dozens of
 * sandboxes made at once on the same cores) are over by then.
 */
export function summarizeRuns(traces: readonly RunTrace[], finalStatuses: ReadonlySet<string>): PhaseRunFigures {
  const statuses: Record<string, number> = {};
  let unfinished = 0;
  let postErrors = 0;
  let firstFailure: string | null = null;
  const claim: number[] = [];
  const start: number[] = [];
  const first: number[] = [];
  const finish: number[] = [];
  const post: number[] = [];
  const delays: number[] = [];
  let replayed = 0;
  for (const t of traces) {
    if (t.postError !== null) {
      postErrors++;
      firstFailure ??= `POST: ${t.postError}`;
      continue;
    }
    if (t.acceptedAt !== null) post.push(t.acceptedAt - t.postAt);
    if (t.provisioningAt !== null) claim.push(t.provisioningAt - t.postAt);
    if (t.runningAt !== null) start.push(t.runningAt - t.postAt);
    if (t.firstAgentAt !== null) first.push(t.firstAgentAt - t.postAt);
    if (t.finalAt !== null && t.lastAgentAt !== null) finish.push(t.finalAt - t.lastAgentAt);
    for (const d of t.eventDelays) delays.push(d);
    replayed += t.replayed;
    if (t.finalStatus !== null && finalStatuses.has(t.finalStatus)) {
      statuses[t.finalStatus] = (statuses[t.finalStatus] ?? 0) + 1;
      if (t.finalStatus !== 'succeeded') firstFailure ??= `${t.finalStatus}${t.errorKind ? ` (${t.errorKind})` : ''}${t.errorMessage ? `: ${t.errorMessage}` : ''}`;
    } else {
      unfinished++;
      firstFailure ??= `run ${t.id ?? '?'} did not end (last status ${t.finalStatus ?? 'none'})`;
    }
  }
  const [claimP50, claimP99] = pcts(claim, [50, 99]);
  const [startP50, startP99] = pcts(start, [50, 99]);
  const [firstEventP50, firstEventP99] = pcts(first, [50, 99]);
  const [finishP50, finishP99] = pcts(finish, [50, 99]);
  const [eventDelayP50, eventDelayP99, eventDelayMax] = pcts(delays, [50, 99, 100]);
  // Every run that printed anything had printed its first line by then (a run that never did
  // does not hold the cut back).
  const allUp = Math.max(...traces.map((t) => t.firstAgentAt ?? -Infinity));
  const afterStarts = traces.flatMap((t) => t.eventDelays.filter((_, i) => t.eventAts[i]! > allUp));
  return {
    runs: traces.length,
    statuses,
    unfinished,
    postErrors,
    firstFailure,
    postP50: pcts(post, [50])[0]!,
    claimP50: claimP50!,
    claimP99: claimP99!,
    startP50: startP50!,
    startP99: startP99!,
    firstEventP50: firstEventP50!,
    firstEventP99: firstEventP99!,
    finishP50: finishP50!,
    finishP99: finishP99!,
    events: delays.length,
    eventsReplayed: replayed,
    eventDelayP50: eventDelayP50!,
    eventDelayP99: eventDelayP99!,
    eventDelayMax: eventDelayMax!,
    eventsAfterStarts: afterStarts.length,
    eventDelayAfterStartsP99: pcts(afterStarts, [99])[0]!,
    warmStarts: traces.filter((t) => t.sandboxStart === 'warm').length,
  };
}

/**
 * `GET /v1/agent/stats` → `{event_loop_lag_ms: {p50, p99, max}}`; null when the answer is not
 * that (the endpoint is absent or says something else).
 */
export function parseLagStats(body: unknown): LagStats | null {
  const lag = (body as { event_loop_lag_ms?: Record<string, unknown> } | null)?.event_loop_lag_ms;
  if (!lag || typeof lag !== 'object') return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
  const s = { p50: n(lag.p50), p99: n(lag.p99), max: n(lag.max) };
  return Number.isNaN(s.p50) && Number.isNaN(s.p99) && Number.isNaN(s.max) ? null : s;
}

/** Ordinary chat requests, Weir and the mock directly in alternation, under one condition. */
export interface ProbeSamples {
  weir: number[];
  direct: number[];
  errors: number;
  /** Weir's CPU over the window, µs, and the window's length, ms. */
  weirCpuUs: number;
  /** Its control (main) thread's part, µs: the probe's spend rows are written there. */
  controlCpuUs: number;
  wallMs: number;
}

/**
 * The data plane under fan-out: Weir's added p50 (its p50 less the mock's, both measured in the
 * same alternation) with the fan-out and without it, and Weir's CPU (% of one CPU) in each window.
 */
export function dataPlane(idle: ProbeSamples, during: ProbeSamples): AgentsDataPlane {
  const side = (s: ProbeSamples) => {
    const [w] = pcts(s.weir, [50]);
    const [d] = pcts(s.direct, [50]);
    return { n: Math.min(s.weir.length, s.direct.length), weirP50: w!, directP50: d!, addedP50: w! - d!, errors: s.errors, weirCpuPct: s.wallMs > 0 ? (100 * s.weirCpuUs) / (s.wallMs * 1000) : NaN };
  };
  const i = side(idle);
  const f = side(during);
  return { idle: i, fanout: f, addedP50Delta: f.addedP50 - i.addedP50 };
}

/** MemAvailable of /proc/meminfo text, bytes; NaN when absent. */
export function parseMemAvailable(meminfo: string): number {
  const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** What one Claude Code run is allowed for (its node process and its children), and what the rest needs. */
export const CLAUDE_RUN_BYTES = 250 * 2 ** 20;
export const MEMORY_RESERVE_BYTES = 2 * 2 ** 30;

/** How many Claude Code runs at once this machine holds, at most `asked`; the note says why when fewer. */
export function claudeRunsFor(asked: number, memAvailableBytes: number): { count: number; note: string | null } {
  if (!Number.isFinite(memAvailableBytes)) return { count: asked, note: `memory available unknown: ${asked} Claude Code runs as asked` };
  const fit = Math.max(0, Math.floor((memAvailableBytes - MEMORY_RESERVE_BYTES) / CLAUDE_RUN_BYTES));
  if (fit >= asked) return { count: asked, note: null };
  const gb = (memAvailableBytes / 2 ** 30).toFixed(1);
  return { count: fit, note: `${fit} Claude Code runs instead of ${asked}: ${gb} GB available, ${CLAUDE_RUN_BYTES / 2 ** 20} MB each and ${MEMORY_RESERVE_BYTES / 2 ** 30} GB kept for the rest` };
}
