// The per-build A/B rigs (body-path-cpu, stream-translate-cpu, spend-writer-cpu) measure each build
// in a child process of its own, so two builds' modules and heaps never share one: the child prints
// its figures as one JSON value on stdout, read here.
//
// Each child runs pinned to one CPU (the last) when `taskset` is there: unpinned, on this 2-vCPU
// VM the same build's loop ran at one of two speeds from one process to the next (27 or 55 µs a
// call, every function alike), which no median of a few repeats smooths out; pinned, repeats
// agree within a few percent (PERF.md, 2026-12-06 07:15).
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

let pinCpu: string | null | undefined;

/** The CPU the children run on, or null without taskset. */
export function childCpu(): string | null {
  if (pinCpu === undefined) pinCpu = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0 ? String(os.cpus().length - 1) : null;
  return pinCpu;
}

/** How the children ran, for a rig's footer. */
export function pinNote(): string {
  const cpu = childCpu();
  return cpu === null ? 'children not pinned (no taskset)' : `each child pinned to CPU ${cpu}`;
}

/** Runs `node [...nodeArgs] script --child ...args` and resolves with the JSON it printed. */
export function runBuildChild<T>(script: string, args: string[], nodeArgs: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const argv = [...nodeArgs, script, '--child', ...args];
    const cpu = childCpu();
    const p = cpu === null ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn('taskset', ['-c', cpu, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`child for ${args[0]} exited with ${code}`))));
  });
}

/**
 * In a child: runs `script` on a worker thread with `data`, as Weir's workers run (glibc serves a
 * worker thread from an arena of its own), and prints the one message it posts back as JSON.
 */
export async function printFromWorker(script: string, data: unknown): Promise<void> {
  const w = new Worker(script, { workerData: data });
  const got = await new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  process.stdout.write(JSON.stringify(got));
}

/**
 * A rig's arguments: `--name N` numeric options (their defaults in `defaults`) and NAME=DIST builds;
 * with no build named, this one (`here`) as "this".
 */
export function rigArgs<K extends string>(args: string[], defaults: Record<K, number>, here: string, usage: string): { opts: Record<K, number>; builds: [string, string][] } {
  const opts = { ...defaults };
  const builds: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const key = a.slice(2) as K;
    if (a.startsWith('--') && key in opts) {
      // A count or a size: `--evict abc` or a missing value would otherwise be NaN, and a rig
      // would fail later with a RangeError from deep inside, or measure nothing.
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`usage: ${usage} (${a} needs a number ≥ 0, got ${args[i] ?? 'nothing'})`);
      opts[key] = v;
    } else if (a.includes('=')) builds.push([a.slice(0, a.indexOf('=')), path.resolve(a.slice(a.indexOf('=') + 1))]);
    else throw new Error(`usage: ${usage} (got ${a})`);
  }
  if (builds.length === 0) builds.push(['this', here]);
  return { opts, builds };
}
