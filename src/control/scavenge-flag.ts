// Weir's threads collect their young generation on their own, without V8's helper tasks.
//
// Why: a worker's scavenge keeps a few KB (the calls in flight), so there is nothing for helper
// tasks to share, and the main thread pays for starting them and waiting for them to join — on a
// busy host, for a core to run them. Measured on 2 cores at concurrency 1 (PERF.md, 2026-12-07):
// a scavenge of the translated path paused its worker 0.67 ms on average with V8's parallel
// scavenge and 0.30 ms without, for the same 4 KB kept.
//
// The flag is the process's (V8 has one set of flags): set before the workers start, it holds for
// every thread. An operator who wants V8's default back starts Node with --parallel-scavenge
// (`node --parallel-scavenge dist/src/cli.js …`; Node refuses it in NODE_OPTIONS).
import v8 from 'node:v8';

/** Whether Node was started with --parallel-scavenge, either spelling (NODE_OPTIONS may not carry it). */
export function parallelScavengeAsked(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => /^--parallel[-_]scavenge$/.test(a));
}

/** Turns V8's parallel scavenge off unless it was asked for; true when it did. */
export function scavengeAlone(execArgv: readonly string[]): boolean {
  if (parallelScavengeAsked(execArgv)) return false;
  v8.setFlagsFromString('--no-parallel-scavenge');
  return true;
}
