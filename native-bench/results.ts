// The shape of a bench run's results: what the JSON file holds and what the report renders.
// Times are milliseconds, CPU is microseconds per request, memory is MB (2^20 bytes).
import type { GcSummary } from './gc-trace';
import type { HistoryRow } from './history';
import type { CannonStep } from './load';
import type { LatencySpread, Spread } from './stats';
import type { ConcurrentStreamsResult } from './streams';
import type { TargetKind } from './targets';
import type { TranslatedSummary } from './translated';

export interface LatencyRow {
  target: TargetKind;
  label: string;
  repeats: number;
  /** Requests sent, warm-up included. */
  sent: number;
  errors: number;
  firstError: string | null;
  /** Absolute percentiles (median over repeats). */
  abs: LatencySpread;
  /** Target minus direct at the same percentile, per repeat; null for the direct row. */
  added: LatencySpread | null;
  ttfb: { abs: LatencySpread; added: LatencySpread | null } | null;
  ttft: { abs: LatencySpread; added: LatencySpread | null } | null;
  cpuUsPerReq: number;
  /** Minor page faults of the target's processes per request (fresh memory touched). */
  faultsPerReq?: number;
  /** CPU µs/request in each repeat (tick-granular: a repeat's figure is coarser than the overall one). */
  cpuPerRepeat: number[];
  rssMB: number;
  /** Measured answers whose whole body was checked and right (only where the scenario checks bodies). */
  checked?: number;
}

export interface RateRow {
  target: TargetKind;
  label: string;
  rate: number;
  achievedRps: number;
  p50: Spread;
  p99: Spread;
  addedP50: Spread | null;
  addedP99: Spread | null;
  /** p99.9 and its added figure (absent in results from before issue 15's tail scenario). */
  p999?: Spread;
  addedP999?: Spread | null;
  errors: number;
  firstError: string | null;
  maxSendLagMs: number;
  cpuUsPerReq: number;
}

/** A step of the throughput confirm phase: its slices' req/s and the target's CPU over them. */
export interface ConfirmedStep {
  connections: number;
  rps: Spread;
  cpuUsPerReq: number;
}

export interface ThroughputRow {
  target: TargetKind;
  label: string;
  /** The load generator of its runs (generators.ts); absent in older results: autocannon. */
  generator?: string;
  /** Highest req/s whose p99 stayed under the limit (the best confirmed step's median slice when there were any). */
  bestRps: number;
  bestRpsSpread: Spread | null;
  /** Confirm slices at the reported step that stayed under the p99 limit (full runs). */
  confirmed?: { ok: number; of: number };
  /** Every step confirmed (the best, the next best when close, the other proxies' such steps). */
  confirmedAt?: ConfirmedStep[];
  connections: number;
  p99: number;
  cpuUsPerReq: number;
  steps: CannonStep[];
  /** Every run of the target (steps and confirm runs): requests written and answered. */
  requests?: { sent: number; answered: number; failed: number; cpuUs: number };
}

/** One phase of scenario 4: the spend rows written for its key, and its cost all-in. */
export interface GovernedPhase {
  phase: 'concurrency 1' | 'max throughput';
  /** sha256 hex of the virtual key (LiteLLM_SpendLogs.api_key). */
  keyHash: string;
  /** Requests sent with the key (warm-up included). */
  sent: number;
  /** Of those, answered (autocannon cuts the requests in flight when a run ends). */
  answered: number;
  /** Rows in LiteLLM_SpendLogs for the key, counted `waitMs` after the phase's last request. */
  rows: number;
  waitMs: number;
  /** Rows counted again later when the first count was short (null: not needed). */
  rowsLater: number | null;
  laterWaitMs: number | null;
  /** Every sent request has its row (exactly; for autocannon between answered and sent). */
  match: boolean;
  /** Failed requests (non-2xx, transport errors) among those sent. */
  failed: number;
  /**
   * CPU of the governed Weir over the whole phase up to the count (its own runs, the control
   * thread's spend flushes and reads in between), less its idle CPU over the same time, per request.
   */
  weirAllInUsPerReq: number;
  /** Of the all-in figure, what fell outside the target's own runs (spend flushes between them). */
  outsideRunsUsPerReq: number;
  /** Of the all-in figure, the main (control) thread's: the spend writer and the table reads. */
  controlUsPerReq: number;
  /** CPU of the PostgreSQL server (all its processes) over the same time, per request. */
  postgresUsPerReq: number;
  /** Key spend in LiteLLM_VerificationToken and the sum of its rows' spend, USD. */
  keySpendUsd: number;
  rowsSpendUsd: number;
}

export interface GovernedInfo {
  batchWriteS: number;
  /** Governed Weir's CPU when idle (syncs, empty flushes), µs per second. */
  idleUsPerS: number;
  phases: GovernedPhase[];
}

export interface StreamsRow extends ConcurrentStreamsResult {
  target: TargetKind;
  label: string;
  addedTtfbP50: number | null;
}

export interface FanoutRow {
  target: TargetKind;
  label: string;
  runMs: Spread;
  addedRunMs: Spread | null;
  callP50: number;
  callP99: number;
  errors: number;
}

export interface LagStats {
  p50: number;
  p99: number;
  max: number;
}

/** Scenario 8: the data plane (ordinary chat through Weir, less the mock's) without and with a fan-out. */
export interface AgentsDataPlaneSide {
  /** Requests per target in the window. */
  n: number;
  weirP50: number;
  directP50: number;
  addedP50: number;
  errors: number;
  /** Weir's CPU over the window, % of one CPU (the runs' work included in the fan-out window). */
  weirCpuPct: number;
}

export interface AgentsDataPlane {
  idle: AgentsDataPlaneSide;
  fanout: AgentsDataPlaneSide;
  /** Added p50 with the fan-out less without it, ms. */
  addedP50Delta: number;
}

/** One fan-out of scenario 8: `runs` agent runs POSTed at once, each followed by an SSE watcher. */
export interface AgentsPhase {
  phase: string;
  agent: 'claude-code' | 'command';
  runs: number;
  /** Final statuses and how many runs ended in each. */
  statuses: Record<string, number>;
  /** Runs with no final status by the phase's deadline. */
  unfinished: number;
  postErrors: number;
  firstFailure: string | null;
  /** POST /v1/agent/runs round trip, p50 ms. */
  postP50: number;
  /** POST sent → the run's `status: provisioning` event ts (claimed from the queue), ms. */
  claimP50: number;
  claimP99: number;
  /** POST sent → the run's `status: running` event ts, ms. */
  startP50: number;
  startP99: number;
  /** POST sent → the ts of its first agent event (after `running`), ms. */
  firstEventP50: number;
  firstEventP99: number;
  /** The agent's last line → the run's final status event (Weir's end of a run: artifacts, spend, key), ms. */
  finishP50: number;
  finishP99: number;
  /** Events received over every watcher once it had asked for them, and their delay (received − ts), ms. */
  events: number;
  /** Events already there when their watcher asked (replayed to it; not in the delay). */
  eventsReplayed?: number;
  eventDelayP50: number;
  eventDelayP99: number;
  eventDelayMax: number;
  /** Of those, the events printed after every run's agent had printed its first line (the starts
   *  over), and their delay p99, ms (absent in results of older benches). */
  eventsAfterStarts?: number;
  eventDelayAfterStartsP99?: number;
  /** First POST to last final status, s. */
  wallS: number;
  /** Weir's CPU over the phase less the data-plane probe's share, per run, ms (every thread; the agents themselves are other processes). */
  weirCpuMsPerRun: number;
  /** The main (control) thread's part of it, per run, ms (less the probe's share, as above). */
  controlCpuMsPerRun: number;
  /** The same with the probe's share (what this column said before it was taken out). */
  controlWithProbeMsPerRun?: number;
  /** The control thread's event-loop lag over the phase (GET /v1/agent/stats), null when not exposed. */
  lag: LagStats | null;
  /** The event-loop lag of the bench's thread running the runs' watchers, over the phase. */
  watcherLag?: LagStats;
  dataPlane: AgentsDataPlane | null;
  /** RSS of the Weir process at the end of the fan-out, MB. */
  weirRssMB: number;
  /** Runs whose sandbox came from a warm pool (the rest started cold). */
  warmStarts?: number;
  /** The machine's load average (1, 5, 15 min) at the end of the fan-out. */
  loadAvg?: [number, number, number];
  /** The fan-out's window on the monotonic clock (process.hrtime, µs): its slice of a --profile. */
  windowUs?: [number, number];
  /** `--profile`: the control thread's busiest functions over this fan-out alone. */
  controlProfile?: { busyMs: number; top: ProfileEntry[] };
}

export interface AgentsResult {
  phases: AgentsPhase[];
  /** Sandbox start per provider, cold and warm (agents-starts.ts). */
  starts?: import('./agents-starts').StartRow[];
  /** Why a phase did not run or ran smaller than asked. */
  notes: string[];
}

export interface SoakResult {
  target: TargetKind;
  requests: number;
  rate: number;
  ok: number;
  errors: number;
  p50: number;
  p99: number;
  p999: number;
  rssSamples: { tS: number; rssMB: number }[];
  rssGrowthMB: number;
  flat: boolean;
}

/** The GCs of one traced target over one phase's windows (scenarios 7 and 13). */
export interface GcRow {
  phase: string;
  target: TargetKind;
  label: string;
  gc: GcSummary;
  /** GC records not kept (past the trace's bound). */
  dropped: number;
}

export interface ScenarioResult {
  id: number;
  key: string;
  title: string;
  skipped?: string;
  notes: string[];
  latency?: LatencyRow[];
  rates?: RateRow[];
  throughput?: ThroughputRow[];
  streams?: StreamsRow[];
  fanout?: FanoutRow[];
  soak?: SoakResult;
  governed?: GovernedInfo;
  translated?: TranslatedSummary;
  agents?: AgentsResult;
  history?: HistoryRow[];
  /** Scenarios 7 and 13: GCs and allocation of the traced Weirs per phase. */
  gc?: GcRow[];
}

export interface Check {
  name: string;
  target: string;
  measured: string;
  pass: boolean | null; // null: not measurable in this run
}

export interface ProfileEntry {
  functionName: string;
  location: string;
  selfMs: number;
  pct: number;
}

export interface BenchResults {
  meta: {
    date: string;
    node: string;
    cpus: number;
    cpuModel: string;
    memGB: number;
    kernel: string;
    workers: number;
    mode: 'quick' | 'full';
    repeats: number;
    pin: string;
    weirEngine: string;
    /** CPU used by other processes during the scenarios, % of one CPU (machine noise). */
    backgroundCpuPct: number;
    elapsedS: number;
  };
  targets: { kind: TargetKind; label: string; url: string }[];
  scenarios: ScenarioResult[];
  /** RSS sampled every second over the whole run, and at its end. */
  /** startMB: before the first scenario (absent in results older than 2026-12-06). */
  memory: { target: TargetKind; label: string; startMB?: number; peakMB: number; endMB: number }[];
  checks: Check[];
  profile: ProfileEntry[] | null;
  /** The governed Weir's profile (scenario 4 with --profile). */
  profileGoverned?: ProfileEntry[] | null;
  notes: string[];
}
