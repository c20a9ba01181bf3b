// The per-build A/B rigs (body-path-cpu, stream-translate-cpu, spend-writer-cpu) measure each build
// in a child process of its own, so two builds' modules and heaps never share one: the child prints
// its figures as one JSON value on stdout, read here.
import { spawn } from 'node:child_process';

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
