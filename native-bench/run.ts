// npm run bench: starts the mock upstream, Weir, the minimal proxy and any comparator as separate
// processes, runs the chosen scenarios against each of them and against the mock directly
// (interleaved), then prints the tables and writes the JSON results and a Markdown block.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, USAGE, UsageError, type BenchArgs } from './args';
import { writeBenchConfig } from './bench-config';
import { MASTER_KEY } from './bodies';
import { evaluateChecks } from './checks';
import { GcTrace } from './gc-trace';
import { startGoverned, type Governed } from './governed';
import { startLitellm } from './litellm';
import { startNginx } from './nginx';
import { hasTaskset, pinPlan, pinSelf, type PinPlan } from './pin';
import { makePlan } from './plan';
import { throughputGenerator } from './generators';
import { NoCompilerError } from './loadgen';
import { installCleanup, ROOT, startGateway, startMinimalProxy, startMock, stopAll } from './processes';
import { readProfiles, topSelfTime } from './profile';
import { Progress } from './progress';
import { renderMarkdownBlock, renderTerminal } from './report';
import type { BenchResults, ProfileEntry, ScenarioResult } from './results';
import { runScenario, SCENARIO_INFO } from './scenarios';
import { cpuMicros, machineBusyMicros, processTree, sumOver } from './procfs';
import { makeTarget, targetCpu, targetRss, type Target } from './targets';

function setUpPinning(args: BenchArgs, notes: string[]): PinPlan | null {
  if (!args.pin) return null;
  if (!hasTaskset()) {
    notes.push('--pin: taskset not found, nothing pinned');
    return null;
  }
  const plan = pinPlan(os.availableParallelism());
  if (!plan) {
    notes.push('--pin: one CPU only, nothing pinned');
    return null;
  }
  if (!pinSelf(plan.load)) {
    notes.push('--pin: taskset failed on the bench process, nothing pinned');
    return null;
  }
  notes.push(plan.note);
  return plan;
}

/** RSS of every target before the first scenario (started, no call served yet), then its peak and at the end, sampled every second. */
function memorySampler(targets: Target[]) {
  const start = new Map<Target, number>(targets.map((t) => [t, targetRss(t) / 2 ** 20]));
  const peak = new Map<Target, number>(targets.map((t) => [t, NaN]));
  const sample = () => {
    for (const t of targets) {
      const v = targetRss(t) / 2 ** 20;
      if (!Number.isNaN(v) && !(v <= peak.get(t)!)) peak.set(t, v);
    }
  };
  const timer = setInterval(sample, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return targets.map((t) => ({ target: t.kind, label: t.label, startMB: start.get(t)!, peakMB: peak.get(t)!, endMB: targetRss(t) / 2 ** 20 }));
    },
  };
}

/**
 * CPU the rest of the machine used while the bench ran (% of one CPU): how noisy the run was. The
 * bench's own is every process it started (targets, PostgreSQL) and any target elsewhere it knows.
 */
function backgroundMeter(targets: Target[]) {
  const own = () => {
    const tree = processTree(process.pid);
    const mine = new Set(tree);
    const outside = targets.filter((t) => t.pid !== null && !mine.has(t.pid)).reduce((a, t) => a + (Number.isNaN(targetCpu(t)) ? 0 : targetCpu(t)), 0);
    return sumOver(tree, cpuMicros) + outside;
  };
  const m0 = machineBusyMicros();
  const o0 = own();
  const t0 = performance.now();
  return {
    stop: () => {
      const wallUs = (performance.now() - t0) * 1000;
      const other = machineBusyMicros() - m0 - (own() - o0);
      // Tick-granular counters say nothing useful about a run of a few seconds.
      return wallUs >= 5e6 && !Number.isNaN(other) ? Math.max(0, (100 * other) / wallUs) : NaN;
    },
  };
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.writeLitellmConfig) {
    const p = writeBenchConfig(path.join(ROOT, 'bench-results'), 'litellm-config.yaml', `http://127.0.0.1:${args.mockPort}`, args.litellmKey);
    process.stdout.write(`${p}\nstart LiteLLM with it (e.g. litellm --config ${p} --host 127.0.0.1 --port 4000), then: npm run bench -- --litellm http://127.0.0.1:4000 --mock-port ${args.mockPort}\n`);
    return 0;
  }
  const progress = new Progress();
  installCleanup(() => progress.clear());
  const t0 = performance.now();
  const notes: string[] = [];
  const workDir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(workDir, { recursive: true });
  const pin = setUpPinning(args, notes);
  const plan = makePlan(args);
  if (args.repeats < 3) notes.push(`--repeats ${args.repeats}: fewer than the 3 repeats the targets are stated for`);
  if (args.scenarios.some((s) => plan.cannonScenarios.includes(s))) {
    // Built before anything starts: a machine without a compiler is told so at once.
    try {
      notes.push(`max throughput: ${throughputGenerator(plan.generator).name}`);
    } catch (e) {
      if (!(e instanceof NoCompilerError)) throw e;
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
  }

  progress.set('starting', 'mock upstream');
  const mock = await startMock({ deltas: plan.deltas, port: args.mockPort, cpus: pin?.load });
  const configPath = writeBenchConfig(workDir, 'weir-config.yaml', mock.url, MASTER_KEY);
  const profileDir = args.profile ? path.join(workDir, 'prof', new Date().toISOString().replace(/[:.]/g, '-')) : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  // The tail and translated scenarios read the GC trace of Weir, and the tail scenario the governed
  // Weir's too; the other scenarios then run traced as well.
  const tail = args.scenarios.includes('tail');
  const traced = tail || args.scenarios.includes('translated');
  if (traced) notes.push(`${tail ? 'Weir and the governed Weir run' : 'Weir runs'} under node --trace-gc-nvp (scenarios 7 and 13): one stdout line per GC in every scenario of this run`);
  const weirGc = traced ? new GcTrace(() => performance.now()) : undefined;
  progress.set('starting', 'Weir');
  const weir = await startGateway({ configPath, workers: args.workers, cpus: pin?.target, profileDir, gcTrace: weirGc });
  const engine = weir.engine;
  progress.set('starting', 'minimal uWS proxy');
  const minimal = await startMinimalProxy({ upstream: mock.url, workers: args.workers, cpus: pin?.target });
  const targets: Target[] = [
    makeTarget('direct', mock.url, mock.child.pid),
    { ...makeTarget('weir', weir.url, weir.child.pid), gc: weirGc },
    makeTarget('minimal', minimal.url, minimal.child.pid),
  ];
  if (args.nginx) {
    progress.set('starting', 'nginx');
    const n = await startNginx({ upstreamPort: mock.port, workers: args.workers, dir: workDir, cpus: pin?.target });
    if (typeof n === 'string') notes.push(`--nginx: ${n}`);
    else targets.push(makeTarget('nginx', n.url, n.child.pid, true));
  }
  let governed: Governed | string = 'not selected';
  if (args.scenarios.includes('governed') || args.scenarios.includes('scaleout') || tail) {
    progress.set('starting', 'PostgreSQL and the governed Weir');
    try {
      governed = await startGoverned({ mockUrl: mock.url, workDir, workers: args.workers, cpus: pin?.target, profileDir: profileDir ? path.join(profileDir, 'governed') : undefined, gcTrace: tail ? new GcTrace(() => performance.now()) : undefined });
    } catch (e) {
      governed = `PostgreSQL or the governed Weir did not start: ${(e as Error).message.split('\n')[0]}`;
      notes.push(`scenario 4 not run: ${governed}`);
    }
  }
  if (args.litellmUrl || args.litellmCmd) {
    progress.set('starting', 'LiteLLM (waits for its first answer)');
    try {
      const l = await startLitellm({ url: args.litellmUrl, cmd: args.litellmCmd, key: args.litellmKey, mockUrl: mock.url, dir: workDir, cpus: pin?.target });
      targets.push(makeTarget('litellm', l.url, l.child?.pid ?? null, true));
      if (!l.child) notes.push(`LiteLLM at ${l.url}: CPU and RSS not measured (not started by the bench); its config must be ${l.configPath}`);
    } catch (e) {
      notes.push(`LiteLLM not measured: ${(e as Error).message.split('\n')[0]} (config for it: ${path.join(workDir, 'litellm-config.yaml')}, mock on port ${mock.port})`);
    }
  } else {
    notes.push('LiteLLM (Python) not run: not installed here; pass --litellm URL (with --mock-port) or --litellm-cmd CMD');
  }

  const measured = typeof governed === 'string' ? targets : [...targets, governed.target];
  const memory = memorySampler(measured);
  const noise = backgroundMeter(measured);
  const scenarios: ScenarioResult[] = [];
  for (const key of args.scenarios) {
    const info = SCENARIO_INFO[key];
    try {
      scenarios.push(await runScenario(key, { targets, plan, progress, soak: { requests: args.soakRequests, rate: args.soakRate }, governed, agentsEnv: { workDir, workers: args.workers, cpus: pin?.target, profileDir: profileDir ? path.join(profileDir, 'agents') : undefined } }));
    } catch (e) {
      progress.note(`scenario ${info.id} ${key} failed: ${(e as Error).stack ?? e}`);
      scenarios.push({ id: info.id, key, title: info.title, notes: [], skipped: `failed: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  const mem = memory.stop();
  const backgroundPct = noise.stop();
  if (backgroundPct > 15) {
    notes.push(`other processes on this machine used ${backgroundPct.toFixed(0)} % of a CPU on average during the run (outside the bench and its targets): figures are noisier than usual`);
  }

  progress.set('stopping', 'every process the bench started');
  await stopAll(5000);
  if (typeof governed !== 'string') {
    progress.set('stopping', 'PostgreSQL');
    await governed.stop();
  }
  let profile: ProfileEntry[] | null = null;
  let profileGoverned: ProfileEntry[] | null = null;
  if (profileDir) {
    const profiles = readProfiles(profileDir);
    if (profiles.length) profile = topSelfTime(profiles, 15);
    else notes.push(`--profile: no .cpuprofile written in ${profileDir} (Weir did not exit cleanly)`);
    if (typeof governed !== 'string' && governed.profileDir) {
      const g = readProfiles(governed.profileDir);
      if (g.length) profileGoverned = topSelfTime(g, 15);
      else notes.push(`--profile: no .cpuprofile written in ${governed.profileDir} (the governed Weir did not exit cleanly)`);
    }
  }
  progress.clear();

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.versions.node,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memGB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      workers: args.workers,
      mode: args.quick ? 'quick' : 'full',
      repeats: args.repeats,
      pin: pin ? `load ${pin.load}, proxies ${pin.target}${pin.meaningful ? '' : ' (not meaningful)'}` : 'off',
      weirEngine: engine,
      backgroundCpuPct: backgroundPct,
      elapsedS: (performance.now() - t0) / 1000,
    },
    targets: measured.map((t) => ({ kind: t.kind, label: t.label, url: t.url })),
    scenarios,
    memory: mem,
    checks: [],
    profile,
    profileGoverned,
    notes,
  };
  results.checks = evaluateChecks(results);

  const jsonPath = path.resolve(args.json);
  fs.mkdirSync(path.dirname(jsonPath), { recursive: true });
  fs.writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  const mdPath = jsonPath.replace(/\.json$/i, '') + '.md';
  fs.writeFileSync(mdPath, `${renderMarkdownBlock(results)}\n`);
  process.stdout.write(`${renderTerminal(results)}\n\nResults: ${path.relative(process.cwd(), jsonPath)} · Markdown for PERF.md: ${path.relative(process.cwd(), mdPath)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`\nbench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1); // the 'exit' handler kills every child still running
  },
);
