// --pin: CPU sets for taskset. The load generator (this process) and the mock share one set, the
// proxies under test get the other, so the target's CPU is not shared with what drives it.
import { spawnSync } from 'node:child_process';

export interface PinPlan {
  /** taskset list for the bench process and the mock. */
  load: string;
  /** taskset list for Weir, the minimal proxy and the comparators. */
  target: string;
  /** False when the split cannot be fair (fewer than 4 CPUs). */
  meaningful: boolean;
  note: string;
}

/** Splits `cpus` CPUs (numbered 0..cpus-1) into two halves; on 2–3 CPUs: cpu0 load, cpu1 target. */
export function pinPlan(cpus: number): PinPlan | null {
  if (cpus < 2) return null;
  if (cpus < 4) {
    return {
      load: '0',
      target: '1',
      meaningful: false,
      note: `--pin on ${cpus} CPUs is not meaningful (each side needs ≥ 2); pinned anyway: load generator + mock on cpu0, proxies on cpu1`,
    };
  }
  const half = Math.floor(cpus / 2);
  const list = (from: number, to: number) => (to - from === 1 ? String(from) : `${from}-${to - 1}`);
  return {
    load: list(0, half),
    target: list(half, cpus),
    meaningful: true,
    note: `pinned: load generator + mock on cpus ${list(0, half)}, proxies on cpus ${list(half, cpus)}`,
  };
}

/** Pins every thread of this process (taskset -a); false when taskset is missing or fails. */
export function pinSelf(cpus: string): boolean {
  const r = spawnSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { encoding: 'utf8' });
  return r.status === 0;
}

export function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version'], { encoding: 'utf8' }).status === 0;
}
