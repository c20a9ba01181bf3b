// The governed path's worker cost, A/B across builds (issue 15): `node dist/native-bench/governed-ab.js
// [--seconds S] [--rounds R] [--connections C] [--warmup S] [--profile DIR] [--perf DIR] NAME=DIST [NAME=DIST …]`.
//
// Per build directory (a `dist` with the repository's package.json and node_modules beside it) it
// starts two Weirs of 2 workers against one mock: the master-key Weir of scenario 1 (no database)
// and the governed Weir of scenario 4 (a database of its own on one embedded PostgreSQL, priced
// deployments, spend logs every second). Each round sends the scenario 1 chat with the C load
// generator, closed loop at C connections for S seconds, to three targets per build in a rotating
// order: the master-key Weir, the governed Weir with its master key (journal, usage and cost, no
// admission), and the governed Weir with a virtual key (everything scenario 4 measures).
//
// Every target first serves --warmup seconds (default 8) at C connections: a fresh Weir takes 6-8 s
// of such load before its CPU per request settles (native-bench/throughput.ts).
//
// Per target: CPU µs per request of the whole process and of its worker threads (the process less
// its main thread, which is the control thread: V8's and libuv's helper threads count with the
// workers), over its own runs only. The spend writer's flushes run on the control thread, so the
// worker figure is not disturbed by when they fall. Per process, its peak resident set (VmHWM) at
// the end: the governed Weir's includes what its spend writer held. Under other load the absolute
// figures move; the builds are interleaved round by round so that load hits them alike.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeBenchConfig } from './bench-config';
import { chatSpec, MASTER_KEY, smallChat } from './bodies';
import { GcTrace, type GcWindow } from './gc-trace';
import { governedConfig, keyHash, KEY_LIMITS } from './governed';
import { buildLoadgen, runLoadgen } from './loadgen';
import { freePort, installCleanup, ROOT, spawnReady, startMock, stopAll, type Child } from './processes';
import { cpuMicros, rssBytes, threadCpuMicros } from './procfs';
import { median } from './stats';
import { createDatabase } from '../test/support/postgres';

interface Target {
  build: string;
  kind: 'master' | 'gov-master' | 'gov-key';
  url: string;
  pid: number;
  key: string;
  cpu: number[];
  workers: number[];
  rps: number[];
  errors: number;
  /** The process's GC trace (--trace-gc-nvp), shared by the targets of one process. */
  gc: GcTrace;
  windows: GcWindow[];
}

async function startWeir(name: string, dist: string, config: string, env: NodeJS.ProcessEnv, profileDir: string | undefined, perfMap: boolean): Promise<{ child: Child; url: string; gc: GcTrace }> {
  const port = await freePort();
  const gc = new GcTrace(() => performance.now());
  const prof = ['--trace-gc-nvp', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...(perfMap ? ['--perf-basic-prof-only-functions'] : [])];
  const args = [...prof, path.join(dist, 'src', 'cli.js'), '--config', config, '--port', String(port), '--host', '127.0.0.1', '--num_workers', '2'];
  const { child } = await spawnReady(name, process.execPath, args, {
    ready: /http engine: [^\n]+\n/,
    env: { ...process.env, WEIR_SHUTDOWN_GRACE_MS: '2000', ...env },
    timeoutMs: 60_000,
    onStdout: (d) => gc.push(d.toString('utf8')),
  });
  return { child, url: `http://127.0.0.1:${port}`, gc };
}

/** `perf record` of a process's on-CPU time until the function it returns is called (and awaited). */
function startPerf(pid: number, out: string): () => Promise<void> {
  const p = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '1999', '-g', '-p', String(pid), '-o', out], { stdio: 'ignore' });
  const done = new Promise<void>((ok) => {
    p.once('close', () => ok());
    // No perf on this machine: the run stands without its samples.
    p.once('error', (e) => {
      process.stderr.write(`\nperf: ${e.message}\n`);
      ok();
    });
  });
  return async () => {
    if (p.exitCode === null && p.pid !== undefined) p.kill('SIGINT');
    await done;
  };
}

async function newKey(url: string): Promise<string> {
  const res = await fetch(`${url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(KEY_LIMITS) });
  const body = (await res.json()) as { key?: string };
  if (!body.key) throw new Error(`POST /key/generate: HTTP ${res.status}`);
  return body.key;
}

/** Bytes the worker isolates allocated per request over the target's runs (± one GC per worker at each end), and scavenges. */
function gcLine(t: Target): string {
  const s = t.gc.summary(t.windows);
  const per10k = (kind: string) => (((s.kinds.find((k) => k.kind === kind)?.count ?? 0) * 1e4) / Math.max(1, s.requests)).toFixed(1);
  return `${s.workerBytesPerReq.toFixed(0).padStart(6)} ± ${s.workerBytesErrPerReq.toFixed(0).padEnd(5)} ${s.controlBytesPerReq.toFixed(0).padStart(6)}  ${per10k('scavenge').padStart(5)} ${per10k('mark-compact').padStart(5)}`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const v = Number(argv[i + 1]);
    argv.splice(i, 2);
    return v;
  };
  const seconds = opt('--seconds', 3);
  const rounds = opt('--rounds', 4);
  const connections = opt('--connections', 32);
  const warmupS = opt('--warmup', 8);
  const pi = argv.indexOf('--profile');
  const profileRoot = pi >= 0 ? path.resolve(argv[pi + 1]!) : undefined;
  if (pi >= 0) argv.splice(pi, 2);
  // --perf DIR: Linux perf samples of on-CPU time (cpu-clock: unaffected by time spent waiting for
  // a core, unlike V8's sampler) of each target's process over each of its runs.
  const fi = argv.indexOf('--perf');
  const perfRoot = fi >= 0 ? path.resolve(argv[fi + 1]!) : undefined;
  if (fi >= 0) argv.splice(fi, 2);
  if (perfRoot) fs.mkdirSync(perfRoot, { recursive: true });
  if (argv.length === 0 || argv.some((s) => !s.includes('='))) {
    process.stderr.write('usage: node dist/native-bench/governed-ab.js [--seconds S] [--rounds R] [--connections C] [--warmup S] [--profile DIR] [--perf DIR] NAME=DIST [NAME=DIST …]\n');
    return 2;
  }
  installCleanup();
  const bin = buildLoadgen();
  const mock = await startMock({ deltas: 64, port: 0 });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startPostgres } = require('../test/support/postgres') as typeof import('../test/support/postgres');
  const pg = await startPostgres();
  const work = fs.mkdtempSync(path.join(ROOT, 'bench-results', 'governed-ab-'));
  const targets: Target[] = [];
  try {
    const masterConfig = writeBenchConfig(work, 'master.yaml', mock.url, MASTER_KEY);
    for (const [i, spec] of argv.entries()) {
      const name = spec.slice(0, spec.indexOf('='));
      const dist = path.resolve(spec.slice(spec.indexOf('=') + 1));
      const prof = (kind: string): string | undefined => {
        if (!profileRoot) return undefined;
        const dir = path.join(profileRoot, name, kind);
        fs.mkdirSync(dir, { recursive: true });
        return dir;
      };
      const m = await startWeir(`${name} master`, dist, masterConfig, {}, prof('master'), perfRoot !== undefined);
      const db = await createDatabase(pg.url, `governed_ab_${i}`);
      const govConfig = path.join(work, `governed-${i}.yaml`);
      fs.writeFileSync(govConfig, governedConfig(mock.url, MASTER_KEY, db));
      const journal = fs.mkdtempSync(path.join(work, 'journal-'));
      const g = await startWeir(`${name} governed`, dist, govConfig, { WEIR_JOURNAL_DIR: journal }, prof('governed'), perfRoot !== undefined);
      const key = await newKey(g.url);
      const t = (kind: Target['kind'], w: { url: string; child: Child; gc: GcTrace }, k: string): Target => ({ build: name, kind, url: w.url, pid: w.child.pid, key: k, cpu: [], workers: [], rps: [], errors: 0, gc: w.gc, windows: [] });
      targets.push(t('master', m, MASTER_KEY), t('gov-master', g, MASTER_KEY), t('gov-key', g, key));
    }
    const body = smallChat();
    // Warm-up: every target's JIT and pools, then the rounds.
    for (const t of targets) await runLoadgen(bin, t.url, chatSpec(body, t.key), { connections, durationS: warmupS });
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...targets].reverse() : targets;
      const rotated = [...order.slice(r % order.length), ...order.slice(0, r % order.length)];
      for (const t of rotated) {
        process.stderr.write(`\rround ${r + 1}/${rounds} ${t.build} ${t.kind}        `);
        const c0 = cpuMicros(t.pid);
        const m0 = threadCpuMicros(t.pid, t.pid);
        const startMs = performance.now();
        const perf = perfRoot ? startPerf(t.pid, path.join(perfRoot, `${t.build}-${t.kind}-r${r + 1}.data`)) : null;
        const res = await runLoadgen(bin, t.url, chatSpec(body, t.key), { connections, durationS: seconds });
        t.windows.push({ startMs, endMs: performance.now(), requests: res.completed });
        if (perf) {
          await perf();
          process.stdout.write(`${t.build} ${t.kind} r${r + 1}: ${res.completed} requests\n`);
        }
        const cpu = cpuMicros(t.pid) - c0;
        const main = threadCpuMicros(t.pid, t.pid) - m0;
        const n = res.completed;
        t.cpu.push(cpu / n);
        t.workers.push((cpu - main) / n);
        t.rps.push(res.rps);
        t.errors += res.errors + res.non2xx + res.timeouts;
      }
    }
    process.stderr.write('\n');
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    process.stdout.write(`${rounds} rounds × ${seconds} s at ${connections} connections; load average at the end ${load}\n`);
    process.stdout.write('build        target       workers µs/req (median [rounds])          process µs/req   req/s   errors  worker B/req   control B/req  per 10k: scavenges, mark-compacts (all threads)  peak RSS MB (process)\n');
    for (const t of targets) {
      process.stdout.write(
        `${t.build.padEnd(12)} ${t.kind.padEnd(12)} ${median(t.workers).toFixed(1).padStart(7)} [${t.workers.map((x) => x.toFixed(0)).join(' ')}]`.padEnd(70) +
          `${median(t.cpu).toFixed(1).padStart(8)}  ${median(t.rps).toFixed(0).padStart(7)}  ${String(t.errors).padStart(6)}  ${gcLine(t)}  ${(rssBytes(t.pid, true) / 2 ** 20).toFixed(1).padStart(8)}\n`,
      );
    }
    for (const t of targets.filter((x) => x.kind === 'gov-key')) process.stdout.write(`${t.build}: key ${keyHash(t.key).slice(0, 12)}…\n`);
  } finally {
    await stopAll(3000);
    await pg.stop().catch(() => {});
    fs.rmSync(work, { recursive: true, force: true });
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
