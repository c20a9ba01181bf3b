// How much each measurement does, for a quick run (under 2 minutes on a 2-core machine) and for
// the full one. Every count here is a bound: no phase runs open-ended.
import type { AgentsOptions } from './agents';
import type { BenchArgs } from './args';
import type { GeneratorKind } from './generators';
import type { HistoryPlan } from './history';

export interface LatencyPlan {
  /** Requests per target per repeat, split over `rounds` interleaved rounds. */
  perRepeat: number;
  rounds: number;
  warmup: number;
}

export interface Plan {
  quick: boolean;
  repeats: number;
  chat: LatencyPlan;
  claude: LatencyPlan;
  stream: LatencyPlan;
  /** Scenario 7: four targets of ~150 KB streaming requests; more rounds, as its figure is a small difference. */
  translated: LatencyPlan;
  /** Deltas per stream in scenario 3 (the mock's default). */
  deltas: number;
  rates: number[];
  rateMs: number;
  rateWarmupMs: number;
  /** Rising connection counts of the max-throughput runs; a target stops rising once its p99 passes the limit. */
  cannonSteps: number[];
  /** What drives the max-throughput runs (generators.ts). */
  generator: GeneratorKind;
  cannonS: number;
  /** Seconds each target serves at a middle step before the max-throughput steps (not reported). */
  cannonWarmupS: number;
  /** Confirm runs at each target's best step (medians of these); 0 in quick mode. */
  cannonRepeats: number;
  p99LimitMs: number;
  /** Which scenarios also get fixed-rate and throughput runs. */
  rateScenarios: string[];
  cannonScenarios: string[];
  streamLevels: number[];
  streamPaceMs: number;
  stallMs: number;
  fanout: { agents: number; calls: number; thinkMs: number; deltas: number };
  /** Scenario 4: wait after a phase's last request before its spend rows are counted (beyond proxy_batch_write_at). */
  spendMarginMs: number;
  /** …and how long to keep looking when the first count is short. */
  spendLateMs: number;
  /** Idle CPU of the governed Weir is measured over this long. */
  idleMs: number;
  /** Scenario 12: history lengths, sessions per length and calls per session. */
  history: HistoryPlan;
  /** Scenario 8: its fan-outs and the data-plane window without fan-out before each. */
  agents: AgentsOptions;
}

export function makePlan(a: BenchArgs): Plan {
  const q = a.quick;
  const durS = a.durationS ?? (q ? 1 : 5);
  return {
    quick: q,
    repeats: a.repeats,
    chat: q ? { perRepeat: 1500, rounds: 5, warmup: 1500 } : { perRepeat: 10_000, rounds: 10, warmup: 3000 },
    // Rounds of 10 calls a target, as scenario 7's below: a call takes ~2 ms here, and with rounds
    // of 200 (~0.4 s a target) a switch of the host's speed landed on one proxy's calls and not
    // the other's: in one run Weir added 0.539 ms to the minimal proxy's 0.362 while spending 449
    // µs of CPU a call to its 614 (PERF.md, issue 15, 2026-12-07 10:30).
    claude: q ? { perRepeat: 300, rounds: 30, warmup: 300 } : { perRepeat: 2000, rounds: 200, warmup: 500 },
    stream: q ? { perRepeat: 500, rounds: 5, warmup: 500 } : { perRepeat: 3000, rounds: 10, warmup: 1000 },
    // Each of Weir's two paths runs ~1,500 calls before V8 has optimized the functions a call runs
    // once (CPU a call falls by half until then, TurboFan's background compiles counted): measured
    // after that, as a gateway that has run a while is (PERF.md, issue 15, 2026-12-07).
    // Rounds of 10 calls a target (~0.1 s a round): this VM switches between two speeds every
    // second or so (the mock alone answers in 1.7 or 2.5 ms from one round of 100 calls to the
    // next), and rounds of 100 calls let a switch land on one path's calls and not the other's:
    // the figure, a difference of ~0.1 ms between two ~2.5 ms paths, moved by ±0.15 ms between
    // repeats (PERF.md, issue 15, 2026-12-07 07:58).
    translated: q ? { perRepeat: 300, rounds: 30, warmup: 1000 } : { perRepeat: 2000, rounds: 200, warmup: 2000 },
    deltas: 64,
    rates: [500, 2000],
    rateMs: durS * 1000,
    rateWarmupMs: q ? 300 : 1000,
    cannonSteps: q ? [8, 32, 128] : [1, 4, 8, 16, 32, 64, 128, 256],
    generator: a.generator,
    cannonS: durS,
    cannonWarmupS: q ? 3 : 5,
    cannonRepeats: q ? 0 : a.repeats,
    p99LimitMs: 20,
    rateScenarios: q ? ['chat'] : ['chat', 'claude'],
    cannonScenarios: q ? ['chat', 'governed'] : ['chat', 'claude', 'governed'],
    streamLevels: [64, 256, 512],
    streamPaceMs: 20,
    stallMs: 1000,
    fanout: { agents: 64, calls: 10, thinkMs: q ? 25 : 100, deltas: 16 },
    spendMarginMs: 1500,
    spendLateMs: 10_000,
    idleMs: q ? 2000 : 4000,
    history: { turns: [10, 50, 100], sessions: q ? 3 : 10, calls: q ? 6 : 12 },
    agents: {
      claude: a.agentClaude,
      light: a.agentLight,
      calls: a.agentCalls ?? (q ? 3 : 10),
      thinkMs: a.agentThinkMs ?? (q ? 200 : 500),
      deltas: 16,
      idleMs: q ? 2000 : 5000,
      startsOnly: a.agentStartsOnly,
    },
  };
}
