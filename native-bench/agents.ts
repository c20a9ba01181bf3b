// Scenario 8, agent runs: a Weir with a database (embedded PostgreSQL, as scenario 4) and an
// agent config (agents-config.ts), then fan-outs of real runs through its API: the real Claude
// Code (as many as memory allows, at most --agent-claude) and the light `command` agent at each
// --agent-light level. Per fan-out: start latency, event delay to a watcher, Weir's CPU per run,
// the control thread's event-loop lag (GET /v1/agent/stats), and ordinary chat requests' added
// p50 during the fan-out against a window without it, measured just before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FINAL_STATUSES } from '../src/agents/types';
import { agentsConfig, CLAUDE_PROFILE, LIGHT_PROFILE, LIGHT_WARM_PROFILE, LOCAL_WARM_SANDBOX, SINGLE_PROFILE } from './agents-config';
import { claudeRunsFor, dataPlane, parseLagStats, parseMemAvailable, summarizeRuns } from './agents-stats';
import { fanOut, Probe, probeAlone } from './agents-watch';
import { runsOnThread } from './agents-watch-thread';
import { chatSpec, MASTER_KEY, smallChat } from './bodies';
import { startGateway, type Server } from './processes';
import { sandboxStarts, WARM_POOL, type StartRow } from './agents-starts';
import { FakeDaytona } from '../test/support/fake-daytona';
import { FakeE2B } from '../test/support/fake-e2b';
import { Pool } from 'pg';
import { childrenNamed, cpuMicros, rssBytes, sumOver, threadCpuMicros } from './procfs';
import { readMainProfile, topSelfTimeIn } from './profile';
import type { Progress } from './progress';
import type { AgentsPhase, AgentsResult, LagStats } from './results';

export interface AgentsOptions {
  /** Claude Code runs asked for (fewer when memory is short); 0 skips them. */
  claude: number;
  /** Light-agent fan-outs, runs each. */
  light: number[];
  /** Calls per light run, and think time between them. */
  calls: number;
  thinkMs: number;
  /** Deltas per streamed answer of a light call. */
  deltas: number;
  /** The probe window without fan-out before each phase. */
  idleMs: number;
  /** Only the warm-up and the sandbox starts (`--agent-starts-only`). */
  startsOnly?: boolean;
}

interface AgentsWeir {
  server: Server;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** Keys of the bench's E2B and Daytona fakes (they accept these and nothing else). */
const FAKE_E2B_KEY = 'e2b_bench_fake';
const FAKE_DAYTONA_KEY = 'dtn_bench_fake';

async function startAgentsWeir(o: { mockUrl: string; workDir: string; workers: number; cpus?: string; profileDir?: string; opts: AgentsOptions; fakes: { e2b: FakeE2B; daytona: FakeDaytona } }): Promise<AgentsWeir> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startPostgres } = require('../test/support/postgres') as typeof import('../test/support/postgres');
  const pg = await startPostgres();
  const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-bench-agents-journal-'));
  const cleanup = async () => {
    await pg.stop().catch(() => {});
    fs.rmSync(journalDir, { recursive: true, force: true });
  };
  try {
    const configPath = path.join(o.workDir, 'weir-agents-config.yaml');
    const most = Math.max(o.opts.claude, ...o.opts.light, 1);
    const cloud = { e2bUrl: o.fakes.e2b.url, e2bKey: FAKE_E2B_KEY, daytonaApiUrl: o.fakes.daytona.apiUrl, daytonaKey: FAKE_DAYTONA_KEY, warmPool: WARM_POOL };
    fs.writeFileSync(configPath, agentsConfig({ mockUrl: o.mockUrl, masterKey: MASTER_KEY, databaseUrl: pg.url, maxConcurrentRuns: most, localWarmPool: localPoolSize(o.opts.light), light: { calls: o.opts.calls, thinkMs: o.opts.thinkMs, deltas: o.opts.deltas }, cloud }));
    const server = await startGateway({ configPath, workers: o.workers, cpus: o.cpus, name: 'agents weir', env: { WEIR_JOURNAL_DIR: journalDir }, profileDir: o.profileDir });
    return {
      server,
      databaseUrl: pg.url,
      async stop() {
        await server.child.stop(5000);
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The warm local sandbox's pool: the largest light fan-out, at most 100 (warm_pool's bound). */
function localPoolSize(light: number[]): number {
  return Math.min(100, Math.max(...light, 1));
}

/** Waits (bounded) until the local warm pool has `n` sandboxes ready (GET /v1/agent/stats). */
async function localPoolReady(url: string, n: number, deadlineMs: number): Promise<number> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    let ready = 0;
    try {
      const res = await fetch(`${url}/v1/agent/stats`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
      const body = res.ok ? ((await res.json()) as { local_pools?: Record<string, number> }) : (await res.body?.cancel(), {});
      ready = body.local_pools?.[LOCAL_WARM_SANDBOX] ?? 0;
    } catch {
      /* asked again */
    }
    if (ready >= n || Date.now() > end) return ready;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function loadAvg(): [number, number, number] | undefined {
  try {
    const [a, b, c] = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [a!, b!, c!];
  } catch {
    return undefined;
  }
}

async function agentStats(url: string, reset: boolean): Promise<LagStats | null> {
  try {
    const res = await fetch(`${url}/v1/agent/stats${reset ? '?reset=1' : ''}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    return res.ok ? parseLagStats(await res.json()) : (await res.body?.cancel(), null);
  } catch {
    return null;
  }
}

function memAvailable(): number {
  try {
    return parseMemAvailable(fs.readFileSync('/proc/meminfo', 'utf8'));
  } catch {
    return NaN;
  }
}

interface PhaseSpec {
  phase: string;
  agent: AgentsPhase['agent'];
  runs: number;
  body: (i: number) => object;
  deadlineMs: number;
  /** Started one after the other instead of all at once. */
  oneByOne?: boolean;
  /** Runs on the warm local sandbox: its pool is waited for (this many ready) before the phase. */
  warmPool?: number;
}

async function runPhase(weir: Server, directUrl: string, p: PhaseSpec, o: AgentsOptions, progress: Progress): Promise<AgentsPhase> {
  const pid = weir.child.pid;
  const probe = new Probe({ url: weir.url, pid }, directUrl, chatSpec(smallChat()));
  progress.set(`8 agents: ${p.phase}`, `data plane alone for ${(o.idleMs / 1000).toFixed(0)} s`);
  if (p.warmPool) {
    progress.set(`8 agents: ${p.phase}`, `the local warm pool filling to ${p.warmPool}`);
    await localPoolReady(weir.url, p.warmPool, 300_000);
  }
  const idle = await probeAlone(probe, o.idleMs);
  await agentStats(weir.url, true);
  const c0 = weirCpuMicros(pid);
  const m0 = threadCpuMicros(pid, pid);
  const from = hrUs();
  probe.start();
  progress.set(`8 agents: ${p.phase}`, `${p.runs} runs at once`);
  // The runs and their watchers on a thread of their own (see agents-watch-thread.ts).
  const { traces, wallMs, watcherLag } = await runsOnThread({ url: weir.url, key: MASTER_KEY, bodies: Array.from({ length: p.runs }, (_, i) => p.body(i)), deadlineMs: p.deadlineMs, oneByOne: p.oneByOne === true });
  const during = await probe.stop();
  const to = hrUs();
  const weirUs = weirCpuMicros(pid) - c0;
  const controlUs = threadCpuMicros(pid, pid) - m0;
  const lag = await agentStats(weir.url, false);
  // The probe's own cost, at what a probe request cost Weir when alone, is not the runs'.
  const probeUs = idle.weir.length > 0 ? (idle.weirCpuUs / idle.weir.length) * during.weir.length : 0;
  // Its control-thread share too: the probe's spend rows are the control thread's work (a one-at-a-
  // time phase had ~1,400 probe requests per run, most of the control thread's CPU "per run").
  const probeControlUs = idle.weir.length > 0 ? (idle.controlCpuUs / idle.weir.length) * during.weir.length : 0;
  return {
    phase: p.phase,
    agent: p.agent,
    ...summarizeRuns(traces, FINAL_STATUSES),
    wallS: wallMs / 1000,
    weirCpuMsPerRun: (weirUs - probeUs) / p.runs / 1000,
    controlCpuMsPerRun: (controlUs - probeControlUs) / p.runs / 1000,
    controlWithProbeMsPerRun: controlUs / p.runs / 1000,
    lag,
    watcherLag,
    dataPlane: dataPlane(idle, during),
    weirRssMB: rssBytes(pid) / 2 ** 20,
    loadAvg: loadAvg(),
    windowUs: [from, to],
  };
}

const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** `--profile`: each phase's slice of the control thread's profile (written once Weir has exited). */
function profilePhases(dir: string, phases: AgentsPhase[], notes: string[]): void {
  const main = readMainProfile(dir);
  if (!main) return void notes.push(`--profile: no profile of the control thread in ${dir}`);
  for (const p of phases) if (p.windowUs) p.controlProfile = topSelfTimeIn(main, p.windowUs[0], p.windowUs[1], 15);
}

/**
 * Weir's own CPU: its threads and its spawner process (a child named node, which forks the agents
 * and relays their output), not the agents themselves nor PostgreSQL.
 */
function weirCpuMicros(pid: number): number {
  const spawner = sumOver(childrenNamed(pid, 'node'), cpuMicros);
  return cpuMicros(pid) + (Number.isNaN(spawner) ? 0 : spawner);
}

/** Runs of the one-at-a-time phase. */
const SINGLE_RUNS = 20;

export async function agentsScenario(o: {
  mockUrl: string;
  directUrl: string;
  workDir: string;
  workers: number;
  cpus?: string;
  /** `--profile`: the agents Weir runs under node --cpu-prof, its profiles written here. */
  profileDir?: string;
  opts: AgentsOptions;
  progress: Progress;
}): Promise<AgentsResult> {
  const notes: string[] = [];
  const claude = claudeRunsFor(o.opts.claude, memAvailable());
  if (claude.note) notes.push(claude.note);
  o.progress.set('8 agents: starting', 'PostgreSQL, the E2B and Daytona fakes, the agents Weir');
  const fakes = { e2b: await FakeE2B.start({ apiKey: FAKE_E2B_KEY }), daytona: await FakeDaytona.start({ apiKey: FAKE_DAYTONA_KEY }) };
  const weir = await startAgentsWeir({ ...o, fakes }).catch(async (e: unknown) => {
    await fakes.e2b.close();
    await fakes.daytona.close();
    throw e;
  });
  const phases: AgentsPhase[] = [];
  let starts: StartRow[] | undefined;
  try {
    const light = (i: number) => ({ profile: LIGHT_PROFILE, prompt: `bench light agent ${i}` });
    // Generous: the deadline only stops a fan-out that would not end (starts queue behind each other).
    const lightDeadline = (runs: number) => o.opts.calls * (o.opts.thinkMs + 2000) + 120_000 + runs * 1000;
    // The local warm pool fills in the background from Weir's start (a bwrap per sandbox): no phase,
    // the sandbox starts included, may be measured while it does.
    const localPool = localPoolSize(o.opts.light);
    o.progress.set('8 agents: starting', `the local warm pool filling to ${localPool}`);
    const filled = await localPoolReady(weir.server.url, localPool, 300_000);
    if (filled < localPool) notes.push(`the local warm pool had ${filled}/${localPool} sandboxes ready after 300 s`);
    // Warm-up (not measured): the runtime's first runs pay for JIT, connections and sandbox folders.
    o.progress.set('8 agents: warm-up', '4 light runs');
    const warm = await fanOut({ url: weir.server.url, key: MASTER_KEY, count: 4, body: light, deadlineMs: lightDeadline(4) });
    const warmOk = warm.traces.filter((t) => t.finalStatus === 'succeeded').length;
    if (warmOk < 4) {
      const s = summarizeRuns(warm.traces, FINAL_STATUSES);
      notes.push(`warm-up: ${warmOk}/4 light runs succeeded (${s.firstFailure ?? 'no failure recorded'})`);
    }
    // A start with nothing else going on: one-call runs, each started once the one before has ended.
    const specs: PhaseSpec[] = [
      { phase: `light × ${SINGLE_RUNS}, one at a time`, agent: 'command', runs: SINGLE_RUNS, body: (i) => ({ profile: SINGLE_PROFILE, prompt: `bench single run ${i}` }), deadlineMs: 300_000, oneByOne: true },
    ];
    if (claude.count > 0) {
      specs.push({
        phase: `Claude Code × ${claude.count}`,
        agent: 'claude-code',
        runs: claude.count,
        body: (i) => ({ profile: CLAUDE_PROFILE, prompt: `Say hello (bench run ${i}).` }),
        deadlineMs: 300_000,
      });
    } else notes.push('no Claude Code runs: --agent-claude 0 or no memory for one');
    for (const n of o.opts.light) {
      specs.push({ phase: `light × ${n}`, agent: 'command', runs: n, body: light, deadlineMs: lightDeadline(n) });
      // The same fan-out on the local sandbox with a warm pool (its size: the largest fan-out).
      const warm = (i: number) => ({ profile: LIGHT_WARM_PROFILE, prompt: `bench light agent ${i} (warm pool)` });
      specs.push({ phase: `light × ${n}, warm pool`, agent: 'command', runs: n, body: warm, deadlineMs: lightDeadline(n), warmPool: Math.min(n, 100) });
    }
    if (o.opts.startsOnly) notes.push('--agent-starts-only: the sandbox starts alone, no fan-outs');
    else for (const spec of specs) phases.push(await runPhase(weir.server, o.directUrl, spec, o.opts, o.progress));
    // Sandbox starts, one run at a time, per provider, cold and warm (the clouds on their fakes).
    const db = new Pool({ connectionString: weir.databaseUrl, max: 1 });
    try {
      starts = await sandboxStarts({ url: weir.server.url, key: MASTER_KEY, runs: SINGLE_RUNS, e2b: fakes.e2b, daytona: fakes.daytona, db, progress: (w) => o.progress.set('8 agents: sandbox starts', w) });
    } finally {
      await db.end();
    }
    if (phases.some((p) => p.lag === null)) notes.push('control-thread event-loop lag not measured: GET /v1/agent/stats did not answer {event_loop_lag_ms: {p50, p99, max}}');
  } finally {
    o.progress.set('8 agents: stopping', 'the agents Weir and its PostgreSQL');
    await weir.stop();
    await fakes.e2b.close();
    await fakes.daytona.close();
  }
  if (o.profileDir) profilePhases(o.profileDir, phases, notes);
  return { phases, notes, starts };
}
