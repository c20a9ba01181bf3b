// Scenario 8's figures and report from made-up traces (no timing: the numbers are given), its
// config validated by the config's own schema, and its command-line options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { FINAL_STATUSES } from '../../src/agents/types';
import { agentSettingsSchema } from '../../src/config/agent-settings';
import { agentsConfig, CLAUDE_PROFILE, LIGHT_PROFILE, LIGHT_WARM_PROFILE, SINGLE_PROFILE } from '../../native-bench/agents-config';
import { agentsChecks, agentsTables, endedText } from '../../native-bench/agents-report';
import { coveredMs } from '../../native-bench/agents-starts';
import { claudeRunsFor, dataPlane, newTrace, parseLagStats, parseMemAvailable, summarizeRuns, traceEvent, type RunTrace } from '../../native-bench/agents-stats';
import { parseArgs, UsageError } from '../../native-bench/args';
import { makePlan } from '../../native-bench/plan';
import type { AgentsPhase, BenchResults } from '../../native-bench/results';

const T0 = Date.parse('2026-12-04T10:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** A run POSTed at T0 + post, running at + running, one agent line at + agent, each event received `delay` ms after its ts. */
function run(o: { post: number; running: number; agent: number; end: number; status: string; delay: number; error?: { kind: string; message: string } }): RunTrace {
  const t = newTrace(T0 + o.post);
  t.acceptedAt = T0 + o.post + 2;
  t.id = `run_${o.post}`;
  const ev = [
    { ts: iso(o.running / 2), type: 'status', payload: { status: 'provisioning' } },
    { ts: iso(o.running / 2), type: 'sandbox', payload: { id: 'sbx' } },
    { ts: iso(o.running), type: 'status', payload: { status: 'running' } },
    { ts: iso(o.agent), type: 'call', payload: { n: 1 } },
    { ts: iso(o.end), type: 'status', payload: o.error ? { status: o.status, error: o.error } : { status: o.status } },
  ];
  for (const e of ev) traceEvent(t, e, Date.parse(e.ts) + o.delay);
  return t;
}

test('a trace: start at the running event, the first agent line, every event delay, the final status and its error', () => {
  const t = run({ post: 0, running: 40, agent: 900, end: 1500, status: 'failed', delay: 3, error: { kind: 'agent_error', message: 'exit 1' } });
  assert.equal(t.provisioningAt! - t.postAt, 20);
  assert.equal(t.runningAt! - t.postAt, 40);
  assert.equal(t.firstAgentAt! - t.postAt, 900, 'the sandbox event before running is Weir\'s, not the agent\'s');
  assert.equal(t.finalAt! - t.lastAgentAt!, 600);
  assert.deepEqual(t.eventDelays, [3, 3, 3, 3, 3]);
  assert.equal(t.finalStatus, 'failed');
  assert.equal(t.errorKind, 'agent_error');
});

test('events already there when the watcher asked are counted as replayed, not as delays', () => {
  const t = newTrace(T0);
  t.watchAt = T0 + 30.6;
  traceEvent(t, { ts: iso(10), type: 'status', payload: { status: 'provisioning' } }, T0 + 200);
  traceEvent(t, { ts: iso(30), type: 'sandbox', payload: {} }, T0 + 200);
  traceEvent(t, { ts: iso(50), type: 'status', payload: { status: 'running' } }, T0 + 200);
  assert.equal(t.replayed, 1, 'the event before the watcher asked');
  assert.deepEqual(t.eventDelays, [170, 150], 'the event of its own millisecond is live');
  assert.equal(t.provisioningAt, T0 + 10, 'a replayed event still tells when the run moved');
  const s = summarizeRuns([t], FINAL_STATUSES);
  assert.equal(s.events, 2);
  assert.equal(s.eventsReplayed, 1);
});

test('summarizeRuns: nearest-rank percentiles over the runs, statuses counted, unfinished and unstarted runs told apart', () => {
  const traces: RunTrace[] = [];
  // 100 runs starting 1…100 ms after their POST, events 1…100 ms late (3 each).
  for (let i = 1; i <= 100; i++) traces.push(run({ post: 0, running: i, agent: 500 + i, end: 1000, status: 'succeeded', delay: i }));
  const lost = newTrace(T0);
  lost.acceptedAt = T0 + 1;
  lost.id = 'run_lost';
  traceEvent(lost, { ts: iso(5000), type: 'status', payload: { status: 'running' } }, T0 + 5000);
  const refused = newTrace(T0);
  refused.postError = 'HTTP 429 too many runs';
  const failed = run({ post: 0, running: 10, agent: 20, end: 30, status: 'timed_out', delay: 0 });
  const s = summarizeRuns([...traces, lost, refused, failed], FINAL_STATUSES);
  assert.equal(s.runs, 103);
  assert.deepEqual(s.statuses, { succeeded: 100, timed_out: 1 });
  assert.equal(s.unfinished, 1, 'running is not a final status');
  assert.equal(s.postErrors, 1);
  assert.match(s.firstFailure!, /^run run_lost did not end \(last status running\)$/);
  // Starts: 1…100 plus 5000 (lost) plus 10 (failed): 102 samples.
  assert.equal(s.startP50, 50);
  assert.equal(s.startP99, 100);
  assert.equal(s.firstEventP50, 550);
  assert.equal(s.finishP50, 449); // end 1000 − agent (500 + i): 400…499, and 10 for the failed run; rank 51 of 101
  assert.equal(s.postP50, 2);
  // Delays: 5 × (1…100) + 1 × 0 (lost) + 5 × 0 (failed) = 506 samples.
  assert.equal(s.events, 506);
  assert.equal(s.eventDelayMax, 100);
  assert.equal(s.eventDelayP99, 99); // rank ⌈0.99 × 506⌉ = 501: past the 6 zeros, the 99th group of 5
  assert.equal(s.claimP50, 25); // i / 2 for i = 1…100 (nearest ms of the ISO ts), plus 5 for the failed run
  // Every agent had printed by 600 ms (run 100's line): only the final status events (at 1000,
  // delays 1…100) and the lost run's running event (at 5000, delay 0) come after it.
  assert.equal(s.eventsAfterStarts, 101);
  assert.equal(s.eventDelayAfterStartsP99, 99);
  assert.equal(endedText(s), '100 ok, 1 timed_out, 1 unfinished, 1 not started');
});

test('summarizeRuns: the delay after every agent was up leaves out the events of the fan-out\'s starts', () => {
  // Two runs whose first lines come at 100 and 2000 ms; each event's delay is its own ts / 10.
  const traces = [newTrace(T0), newTrace(T0)];
  const lines = [
    [0, [100, 1500, 2500, 3000]],
    [1, [2000, 2600]],
  ] as const;
  for (const [i, ats] of lines) {
    traceEvent(traces[i]!, { ts: iso(50), type: 'status', payload: { status: 'running' } }, T0 + 55);
    for (const at of ats) traceEvent(traces[i]!, { ts: iso(at), type: 'line', payload: {} }, T0 + at + at / 10);
  }
  const s = summarizeRuns(traces, FINAL_STATUSES);
  assert.equal(s.events, 8);
  assert.equal(s.eventDelayMax, 300);
  assert.equal(s.eventsAfterStarts, 3, 'those after 2000 ms: 2500, 3000 and 2600');
  assert.equal(s.eventDelayAfterStartsP99, 300);
  const none = summarizeRuns([newTrace(T0)], FINAL_STATUSES);
  assert.equal(none.eventsAfterStarts, 0);
  assert.ok(Number.isNaN(none.eventDelayAfterStartsP99), 'no events: no figure');
});

test('parseLagStats takes {event_loop_lag_ms: {p50, p99, max}} and nothing else', () => {
  assert.deepEqual(parseLagStats({ event_loop_lag_ms: { p50: 1.2, p99: 8.5, max: 30 } }), { p50: 1.2, p99: 8.5, max: 30 });
  assert.equal(parseLagStats({ error: { message: 'not found' } }), null);
  assert.equal(parseLagStats({ event_loop_lag_ms: { p50: 'x' } }), null);
  assert.equal(parseLagStats(null), null);
});

test('dataPlane: added p50 in each window, its difference, and Weir CPU as % of one CPU', () => {
  const d = dataPlane(
    { weir: [1.2, 1.3, 1.4], direct: [1.0, 1.0, 1.1], errors: 0, weirCpuUs: 50_000, controlCpuUs: 1_000, wallMs: 1000 },
    { weir: [1.6, 1.7, 1.9, 2.0], direct: [1.1, 1.1, 1.2, 1.2], errors: 1, weirCpuUs: 400_000, controlCpuUs: 1_000, wallMs: 2000 },
  );
  assert.equal(d.idle.n, 3);
  assert.ok(Math.abs(d.idle.addedP50 - 0.3) < 1e-9);
  assert.ok(Math.abs(d.fanout.addedP50 - 0.6) < 1e-9);
  assert.ok(Math.abs(d.addedP50Delta - 0.3) < 1e-9);
  assert.equal(d.idle.weirCpuPct, 5);
  assert.equal(d.fanout.weirCpuPct, 20);
  assert.equal(d.fanout.errors, 1);
});

test('Claude Code runs are sized to the memory available, and say so when fewer', () => {
  assert.equal(parseMemAvailable('MemTotal: 100 kB\nMemAvailable:   4194304 kB\n'), 4 * 2 ** 30);
  assert.ok(Number.isNaN(parseMemAvailable('MemTotal: 1 kB\n')));
  assert.deepEqual(claudeRunsFor(16, 24 * 2 ** 30), { count: 16, note: null });
  const short = claudeRunsFor(16, 4 * 2 ** 30);
  assert.equal(short.count, 8); // (4 GB − 2 GB) / 250 MB
  assert.match(short.note!, /^8 Claude Code runs instead of 16: 4\.0 GB available/);
  assert.equal(claudeRunsFor(16, 1 * 2 ** 30).count, 0);
  assert.equal(claudeRunsFor(3, NaN).count, 3);
});

function phase(o: Partial<AgentsPhase>): AgentsPhase {
  return {
    phase: 'light × 64', agent: 'command', runs: 64, statuses: { succeeded: 64 }, unfinished: 0, postErrors: 0, firstFailure: null,
    postP50: 3, claimP50: 10, claimP99: 20, startP50: 40, startP99: 90, firstEventP50: 60, firstEventP99: 120, finishP50: 30, finishP99: 80, events: 768, eventDelayP50: 2, eventDelayP99: 12, eventDelayMax: 30,
    wallS: 6, weirCpuMsPerRun: 4, controlCpuMsPerRun: 2, lag: { p50: 1, p99: 9, max: 25 }, dataPlane: null, weirRssMB: 120, ...o,
  };
}

function results(scenarios: BenchResults['scenarios']): BenchResults {
  return { scenarios } as BenchResults;
}

test('checks: every fan-out against the targets; not measured without lag figures; absent when scenario 8 was not asked for', () => {
  const ok = agentsChecks(results([{ id: 8, key: 'agents', title: '', notes: [], agents: { phases: [phase({}), phase({ phase: 'light × 256', startP50: 140, lag: null })], notes: [] } }]));
  assert.deepEqual(ok.map((c) => [c.name.split(' ')[1], c.pass]), [['run', false], ['event', true], ['event-loop', true]]);
  assert.equal(ok[0]!.measured, 'light × 64: 40.0 ms; light × 256: 140.0 ms');
  assert.equal(ok[2]!.measured, 'light × 64: 9.000 ms', 'a fan-out without the figure is left out');
  const noLag = agentsChecks(results([{ id: 8, key: 'agents', title: '', notes: [], agents: { phases: [phase({ lag: null })], notes: [] } }]));
  assert.deepEqual([noLag[2]!.pass, noLag[2]!.measured], [null, 'not measured']);
  const skipped = agentsChecks(results([{ id: 8, key: 'agents', title: '', notes: [], skipped: 'failed: PostgreSQL did not start' }]));
  assert.ok(skipped.every((c) => c.pass === null && c.measured === 'failed: PostgreSQL did not start'));
  assert.deepEqual(agentsChecks(results([{ id: 1, key: 'chat', title: '', notes: [] }])), []);
});

test('tables: a row per fan-out, failures under the runs table, the data plane only where measured', () => {
  const dp = dataPlane({ weir: [1.2], direct: [1], errors: 0, weirCpuUs: 1000, controlCpuUs: 100, wallMs: 100 }, { weir: [1.5], direct: [1], errors: 0, weirCpuUs: 5000, controlCpuUs: 100, wallMs: 100 });
  const [runs, plane] = agentsTables([{ id: 8, key: 'agents', title: '', notes: [], agents: { phases: [phase({ dataPlane: dp }), phase({ phase: 'Claude Code × 16', agent: 'claude-code', statuses: { succeeded: 15, failed: 1 }, firstFailure: 'failed (agent_error): exit 1' })], notes: [] } }]);
  assert.equal(runs!.rows.length, 2);
  assert.equal(runs!.rows[1]![1], '15 ok, 1 failed');
  assert.ok(runs!.foot!.includes('Claude Code × 16: first failure: failed (agent_error): exit 1'));
  assert.deepEqual(plane!.rows, [['light × 64', '+0.200', '1', '1', '+0.500', '5', '1', '+0.300', '0']]);
});

test('the scenario config passes the config schema: a local sandbox cold and one warm, the Claude Code, light (on each) and one-call profiles', () => {
  const text = agentsConfig({ mockUrl: 'http://127.0.0.1:4010', masterKey: 'sk-m', databaseUrl: 'postgres://u:p@127.0.0.1:5432/db', maxConcurrentRuns: 256, localWarmPool: 64, light: { calls: 10, thinkMs: 500, deltas: 16 } });
  const parsed = agentSettingsSchema.safeParse((YAML.parse(text) as { agent_settings: unknown }).agent_settings);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  const s = parsed.data!;
  assert.equal(s.max_concurrent_runs, 256);
  assert.deepEqual(s.profiles.map((p) => [p.name, p.agent, p.model, p.sandbox]), [[CLAUDE_PROFILE, 'claude-code', 'bench-claude', 'bench-local'], [LIGHT_PROFILE, 'command', 'bench-gpt', 'bench-local'], [LIGHT_WARM_PROFILE, 'command', 'bench-gpt', 'bench-local-warm'], [SINGLE_PROFILE, 'command', 'bench-gpt', 'bench-local']]);
  assert.deepEqual(s.sandboxes.map((x: any) => [x.name, x.provider, x.warm_pool ?? 0]), [['bench-local', 'local', 0], ['bench-local-warm', 'local', 64]]);
  assert.equal(s.profiles[3]!.env?.BENCH_CALLS, '1', 'the one-at-a-time runs make one call');
  assert.deepEqual(s.profiles[2]!.command, s.profiles[1]!.command, 'the same agent cold and warm');
  const light = s.profiles[1]!;
  assert.deepEqual(light.command!.slice(0, 2), ['bash', '-c']);
  assert.match(light.command![2]!, /curl -sS -N/);
  assert.deepEqual(light.env, { BENCH_MODEL: 'bench-gpt', BENCH_CALLS: '10', BENCH_THINK_S: '0.500', BENCH_DELTAS: '16' });
});

test('options: --scenario 8 / agents, --agent-* flags, and their defaults in the plan', () => {
  const a = parseArgs(['--scenario', '8', '--agent-claude', '4', '--agent-light', '32,128', '--agent-calls', '5', '--agent-think-ms=100']);
  assert.deepEqual(a.scenarios, ['agents']);
  assert.deepEqual([a.agentClaude, a.agentLight, a.agentCalls, a.agentThinkMs], [4, [32, 128], 5, 100]);
  assert.deepEqual(makePlan(a).agents, { claude: 4, light: [32, 128], calls: 5, thinkMs: 100, deltas: 16, idleMs: 5000, startsOnly: false });
  const d = parseArgs(['--scenario', 'agents', '--quick']);
  assert.deepEqual(makePlan(d).agents, { claude: 16, light: [64, 256], calls: 3, thinkMs: 200, deltas: 16, idleMs: 2000, startsOnly: false });
  assert.ok(!parseArgs([]).scenarios.includes('agents'), 'not run unless asked for');
  assert.throws(() => parseArgs(['--agent-light', '0']), UsageError);
  assert.throws(() => parseArgs(['--agent-claude', '-1']), UsageError);
});

test('sandbox starts: the provider’s share is the union of its answering spans inside the window', () => {
  assert.equal(coveredMs([], 0, 100), 0);
  assert.equal(coveredMs([[10, 20], [15, 30], [40, 50], [42, 45]], 0, 100), 30);
  assert.equal(coveredMs([[-50, 10], [90, 200], [300, 400]], 0, 100), 20);
});

test('the agents config with the sandbox-start phase is a valid agent_settings: local, and each cloud cold and warm', () => {
  const yaml = agentsConfig({ mockUrl: 'http://127.0.0.1:1', masterKey: 'sk-m', databaseUrl: 'postgres://x', maxConcurrentRuns: 4, localWarmPool: 1, light: { calls: 1, thinkMs: 0, deltas: 1 }, cloud: { e2bUrl: 'http://127.0.0.1:2', e2bKey: 'e2b_k', daytonaApiUrl: 'http://127.0.0.1:3/api', daytonaKey: 'dtn_k', warmPool: 2 } });
  const s = agentSettingsSchema.parse(YAML.parse(yaml).agent_settings) as any;
  assert.deepEqual(s.sandboxes.map((x: any) => [x.name, x.provider, x.warm_pool ?? 0]), [['bench-local', 'local', 0], ['bench-local-warm', 'local', 1], ['bench-e2b', 'e2b', 0], ['bench-e2b-warm', 'e2b', 2], ['bench-daytona', 'daytona', 0], ['bench-daytona-warm', 'daytona', 2]]);
  for (const p of ['bench-start-local', 'bench-start-e2b', 'bench-start-e2b-warm', 'bench-start-daytona', 'bench-start-daytona-warm']) assert.ok(s.profiles.some((x: any) => x.name === p), p);
});
