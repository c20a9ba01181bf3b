// The per-build A/B rigs (body-path-cpu, stream-translate-cpu, spend-writer-cpu) measure each build
// in a child process of its own, so two builds' modules and heaps never share one: the child prints
// its figures as one JSON value on stdout, read here.
import { spawn } from 'node:child_process';
import path from 'node:path';

/** Runs `node [...nodeArgs] script --child ...args` and resolves with the JSON it printed. */
export function runBuildChild<T>(script: string, args: string[], nodeArgs: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...nodeArgs, script, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`child for ${args[0]} exited with ${code}`))));
  });
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
    if (a.startsWith('--') && key in opts) opts[key] = Number(args[++i]);
    else if (a.includes('=')) builds.push([a.slice(0, a.indexOf('=')), path.resolve(a.slice(a.indexOf('=') + 1))]);
    else throw new Error(`usage: ${usage} (got ${a})`);
  }
  if (builds.length === 0) builds.push(['this', here]);
  return { opts, builds };
}
