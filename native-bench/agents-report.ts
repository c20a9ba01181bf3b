// Scenario 8 in the report: the runs table, the data-plane table, and the checks against the
// issue's targets (start ≤ 100 ms p50, event delay ≤ 50 ms p99, control lag ≤ 20 ms p99).
import type { AgentsPhase, BenchResults, Check, ScenarioResult } from './results';
import { fixed, ms, plusMs, type Table } from './table';

export const AGENT_TARGETS = { startP50Ms: 100, eventDelayP99Ms: 50, lagP99Ms: 20 } as const;

/** "64 ok" or "60 ok, 3 failed, 1 unfinished, 0 not started". */
export function endedText(p: Pick<AgentsPhase, 'statuses' | 'unfinished' | 'postErrors'>): string {
  const parts = Object.entries(p.statuses)
    .sort((a, b) => (a[0] === 'succeeded' ? -1 : b[0] === 'succeeded' ? 1 : a[0].localeCompare(b[0])))
    .map(([s, n]) => `${n} ${s === 'succeeded' ? 'ok' : s}`);
  if (p.unfinished) parts.push(`${p.unfinished} unfinished`);
  if (p.postErrors) parts.push(`${p.postErrors} not started`);
  return parts.join(', ') || 'none';
}

export function agentsTables(scenarios: ScenarioResult[]): Table[] {
  const phases = scenarios.find((s) => s.agents)?.agents?.phases ?? [];
  if (!phases.length) return [];
  const runs: Table = {
    title: 'Agent runs through /v1/agent/runs, each followed by an SSE watcher (ms unless said)',
    head: ['fan-out', 'ended', 'warm starts', 'load avg 1/5/15 min', 'POST p50', 'claimed p50', 'p99', 'start p50', 'start p99', '1st agent event p50', 'finish p50', 'finish p99', 'events', 'replayed', 'event delay p50', 'p99', 'max', 'after all up: events', 'p99', 'Weir CPU ms/run', 'control ms/run', 'with probe', 'control lag p99', 'lag max', 'watcher lag p99', 'Weir RSS MB', 'wall s'],
    align: ['l', 'l'],
    rows: phases.map((p) => [
      p.phase,
      endedText(p),
      p.warmStarts === undefined ? '–' : String(p.warmStarts),
      p.loadAvg ? p.loadAvg.map((x) => x.toFixed(2)).join(' / ') : '–',
      ms(p.postP50),
      ms(p.claimP50),
      ms(p.claimP99),
      ms(p.startP50),
      ms(p.startP99),
      ms(p.firstEventP50),
      ms(p.finishP50),
      ms(p.finishP99),
      String(p.events),
      p.eventsReplayed === undefined ? '–' : String(p.eventsReplayed),
      ms(p.eventDelayP50),
      ms(p.eventDelayP99),
      ms(p.eventDelayMax),
      p.eventsAfterStarts === undefined ? '–' : String(p.eventsAfterStarts),
      p.eventDelayAfterStartsP99 === undefined ? '–' : ms(p.eventDelayAfterStartsP99),
      fixed(p.weirCpuMsPerRun, 2),
      fixed(p.controlCpuMsPerRun, 2),
      p.controlWithProbeMsPerRun === undefined ? '–' : fixed(p.controlWithProbeMsPerRun, 2),
      p.lag ? ms(p.lag.p99) : '–',
      p.lag ? ms(p.lag.max) : '–',
      p.watcherLag ? ms(p.watcherLag.p99) : '–',
      fixed(p.weirRssMB, 0),
      fixed(p.wallS, 1),
    ]),
    foot: [
      'claimed: POST sent → the ts of the run\'s `status: provisioning` event; start: … of its `status: running` event (after its key, sandbox and workspace); 1st agent event: … of the agent\'s first line; finish: its last line → its final status; event delay: received by the watcher − the event\'s ts (ms-resolution ts), for the events the run printed once its watcher had asked (replayed: those already there, not counted); after all up: the events printed once every run\'s agent had printed its first line (the fan-out\'s starts over); the watchers run on a thread of the bench\'s own, watcher lag: its event-loop lag;',
      'warm starts: runs whose sandbox came from the local warm pool (`warm_pool` on bench-local-warm, filled before the phase); load avg: the machine\'s at the end of the fan-out (the agents are part of it);',
      'Weir CPU: every thread of the Weir process over the fan-out, less the data-plane probe\'s share at its cost alone, per run (the agents are other processes); control: its main thread alone, less the probe\'s share likewise (its spend rows are written there; with probe: as measured).',
      ...phases.filter((p) => p.firstFailure).map((p) => `${p.phase}: first failure: ${p.firstFailure}`),
    ],
  };
  const plane: Table = {
    title: 'Data plane under agent fan-out: a small chat, Weir vs the mock in alternation (concurrency 1)',
    head: ['fan-out', 'alone: added p50', 'Weir CPU %', 'n', 'during: added p50', 'Weir CPU %', 'n', 'difference', 'errors'],
    align: ['l'],
    rows: phases
      .filter((p) => p.dataPlane)
      .map((p) => {
        const d = p.dataPlane!;
        return [p.phase, plusMs(d.idle.addedP50), fixed(d.idle.weirCpuPct, 0), String(d.idle.n), plusMs(d.fanout.addedP50), fixed(d.fanout.weirCpuPct, 0), String(d.fanout.n), plusMs(d.addedP50Delta), String(d.idle.errors + d.fanout.errors)];
      }),
  };
  // --profile: each fan-out's slice of the control thread's profile (start-up excluded).
  const profiled: Table[] = phases
    .filter((p) => p.controlProfile)
    .map((p) => ({
      title: `Control thread over "${p.phase}" alone (--profile): busy ${fixed(p.controlProfile!.busyMs, 0)} ms = ${fixed(p.controlProfile!.busyMs / p.runs, 2)} ms/run; top functions by self time`,
      head: ['self ms', '%', 'function', 'location'],
      align: ['r', 'r', 'l', 'l'],
      rows: p.controlProfile!.top.map((e) => [fixed(e.selfMs, 1), fixed(e.pct, 1), e.functionName, e.location]),
    }));
  return [runs, plane, ...profiled];
}

/** Checks only when scenario 8 was asked for (run, skipped or failed). */
export function agentsChecks(r: BenchResults): Check[] {
  const s = r.scenarios.find((x) => x.key === 'agents');
  if (!s) return [];
  const phases = s.skipped ? [] : (s.agents?.phases ?? []);
  const why = s.skipped ?? 'no fan-out ran';
  const check = (name: string, target: string, pick: (p: AgentsPhase) => number, limit: number): Check => {
    const measured = phases.map((p) => ({ p, v: pick(p) })).filter((x) => !Number.isNaN(x.v));
    if (!measured.length) return { name, target, measured: phases.length ? 'not measured' : why, pass: null };
    return { name, target, measured: measured.map((x) => `${x.p.phase}: ${ms(x.v)} ms`).join('; '), pass: measured.every((x) => x.v <= limit) };
  };
  return [
    check('Agent run start latency p50 (POST → running)', `≤ ${AGENT_TARGETS.startP50Ms} ms`, (p) => p.startP50, AGENT_TARGETS.startP50Ms),
    check('Agent event delay to an SSE watcher p99', `≤ ${AGENT_TARGETS.eventDelayP99Ms} ms`, (p) => p.eventDelayP99, AGENT_TARGETS.eventDelayP99Ms),
    check('Control-thread event-loop lag p99 under fan-out', `≤ ${AGENT_TARGETS.lagP99Ms} ms`, (p) => p.lag?.p99 ?? NaN, AGENT_TARGETS.lagP99Ms),
  ];
}
