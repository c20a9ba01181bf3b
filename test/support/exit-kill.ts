// Child processes a test file started and has not stopped are killed when the file's process
// exits. The runner ends a file once its tests are done (`--test-force-exit`, test/run.ts) even if
// something it started is still running — a test that failed before its stop, an after() hook that
// threw — and without this a gateway, with its database connections and port, would outlive it.
import type { ChildProcess } from 'node:child_process';

const live = new Set<{ proc: ChildProcess; group: boolean }>();
let hooked = false;

/** `group`: the child leads a process group of its own (spawned detached): the whole group goes. */
export function killOnExit(proc: ChildProcess, group = false): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const p of live) kill(p.proc, p.group);
    });
  }
  const entry = { proc, group };
  live.add(entry);
  proc.once('exit', () => live.delete(entry));
}

/** SIGKILL to the child, or to its whole group. */
export function kill(proc: ChildProcess, group: boolean): void {
  if (proc.pid === undefined) return;
  try {
    if (group) process.kill(-proc.pid, 'SIGKILL');
    else proc.kill('SIGKILL');
  } catch {
    try {
      proc.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
}
