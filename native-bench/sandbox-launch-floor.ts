// What this machine itself allows a fan-out's starts (issue 10), with no gateway, no database and
// no agent: `node dist/native-bench/sandbox-launch-floor.js [--runs 1,16,64] [--repeats 3]`.
// N local sandboxes launched at once from one small Node process, as Weir's spawner launches them:
// the same process chain (setpriv, nice, bwrap with its namespaces, prlimit, then `sh`), the same
// isolation and limits as a `local` sandbox of default options, each in folders of its own. A
// sandbox is up when its `sh` prints its first line. Reported per N, medians of the repeats: when
// the p50 and the last sandbox were up (from the first spawn call), and how long the spawn calls
// held the launching process's event loop in all (node's spawn returns once the child has exec'd;
// the loop turns between two spawns, so a line is read when it comes).
// Weir's own start of a run (POST → running) needs this launch and more: a start p50 under the
// p50 here is not to be had on this machine.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseMode, findOnPath, hostIds, launch, type Mode, type SandboxPaths, type Tools } from '../src/agents/sandbox/isolation';
import { localOptions, type LocalOptions } from '../src/agents/sandbox/local-options';
import { median, percentileSorted } from './stats';

interface Round {
  p50Ms: number;
  lastMs: number;
  spawnCallsMs: number;
}

function args(): { runs: number[]; repeats: number } {
  const out = { runs: [1, 16, 64], repeats: 3 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--runs') out.runs = (a[++i] ?? '').split(',').map(Number);
    else if (a[i] === '--repeats') out.repeats = Number(a[++i]);
    else throw new Error(`unknown argument ${a[i]}; usage: sandbox-launch-floor [--runs 1,16,64] [--repeats 3]`);
  }
  if (out.runs.some((n) => !Number.isInteger(n) || n < 1) || !(out.repeats >= 1)) throw new Error('--runs: positive integers; --repeats: at least 1');
  return out;
}

/** A sandbox's folders, owned by the host user its processes run as (as the local provider makes them). */
function folders(root: string, i: number, o: LocalOptions): SandboxPaths {
  const runDir = path.join(root, `run-${i}`);
  const p: SandboxPaths = { root, workdir: path.join(runDir, 'work'), home: path.join(runDir, 'home'), tmp: path.join(runDir, 'tmp') };
  const ids = hostIds(o);
  for (const d of [runDir, p.workdir, p.home, p.tmp]) {
    mkdirSync(d, { recursive: true });
    if (ids) chownSync(d, ids.uid, ids.gid);
  }
  return p;
}

async function round(n: number, mode: Mode, tools: Tools, o: LocalOptions): Promise<Round> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'weir-floor-'));
  chmodSync(root, 0o755);
  try {
    const launches = Array.from({ length: n }, (_, i) => {
      const p = folders(root, i, o);
      return { l: launch(mode, tools, o, p, ['sh', '-c', 'echo up; exec sleep 1'], p.workdir), p };
    });
    const ups: number[] = [];
    let spawnCallsMs = 0;
    const t0 = performance.now();
    const ended: Promise<void>[] = [];
    for (const { l, p } of launches) {
      ended.push(
        new Promise<void>((resolve, reject) => {
          const s = performance.now();
          const child = spawn(l.file, l.args, { cwd: p.workdir, env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: p.home }, stdio: ['ignore', 'pipe', 'inherit'], detached: true, uid: l.uid, gid: l.gid });
          spawnCallsMs += performance.now() - s;
          child.stdout.once('data', () => {
            ups.push(performance.now() - t0);
            child.kill('SIGKILL');
          });
          child.on('error', reject);
          child.on('close', () => resolve());
        }),
      );
      // A turn of the event loop between spawns, as the spawner takes one request per message:
      // the lines of the sandboxes already up are read when they come, not after the last spawn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(ended);
    if (ups.length !== n) throw new Error(`${n - ups.length} of ${n} sandboxes never printed their line`);
    ups.sort((a, b) => a - b);
    return { p50Ms: percentileSorted(ups, 50), lastMs: ups[n - 1]!, spawnCallsMs };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { runs, repeats } = args();
  const o = localOptions({});
  const tools: Tools = { bwrap: findOnPath('bwrap'), prlimit: findOnPath('prlimit'), nice: findOnPath('nice'), setpriv: findOnPath('setpriv') };
  const mode = await chooseMode(o, tools);
  console.log(`sandbox launches at once, no gateway (isolation ${mode}, nice ${o.nice}; ${os.cpus().length} cores; medians of ${repeats} repeats), ms`);
  console.log('launched at once  up p50  last up  spawn calls in all');
  // One launch first, not counted: the page cache and bwrap's first run.
  await round(1, mode, tools, o);
  for (const n of runs) {
    const rs: Round[] = [];
    for (let r = 0; r < repeats; r++) rs.push(await round(n, mode, tools, o));
    const m = (f: (r: Round) => number) => median(rs.map(f)).toFixed(1);
    console.log(`${String(n).padStart(16)}  ${m((r) => r.p50Ms).padStart(6)}  ${m((r) => r.lastMs).padStart(7)}  ${m((r) => r.spawnCallsMs).padStart(18)}`);
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
