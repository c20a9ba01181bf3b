// Finds and kills every process tied to a run's folder, on Linux through /proc: a process whose
// working directory is inside the folder, or whose command line names it (bwrap carries the run's
// paths in its arguments, each one an argument of its own). This is what catches a process that left its process group (setsid,
// a daemonizing double fork) and what `sweep` uses after a crash, when the handles are gone.
// Only processes of the given host uid are touched, never Weir itself.
//
// Linear in the number of processes per pass; passes repeat while they still find something
// (a process may fork while we kill, and a killed one is listed until the kernel has run its
// exit), a bounded number of times.
import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const PASSES = 40;
/**
 * From the third pass on, a pause before looking again (growing to this, ms): on a busy machine a
 * SIGKILLed process can take longer to exit than a pass over /proc takes, and twenty quick passes
 * could end with it still listed. The passes then span about 1.8 s at most.
 */
const PAUSE_MAX_MS = 50;

async function tiedTo(pid: string, runDir: string): Promise<boolean> {
  try {
    const cwd = await fs.readlink(`/proc/${pid}/cwd`);
    if (cwd === runDir || cwd.startsWith(runDir + '/')) return true;
  } catch {
    /* gone, or not ours to read */
  }
  try {
    // The folder itself or a path under it, as a whole argument's start: run-1 is not run-10.
    const args = (await fs.readFile(`/proc/${pid}/cmdline`)).toString('utf8').split('\0');
    return args.some((a) => a === runDir || a.startsWith(runDir + '/'));
  } catch {
    return false;
  }
}

/** The process group of a pid (field 5 of its stat), or undefined once it is gone. */
async function groupOf(pid: string): Promise<number | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/**
 * The pids of the processes tied to runDir that run as uid (Weir's own excluded). `spare`: a process
 * group left out (a warm sandbox's pooled chain, still waiting for its exec).
 */
export async function tiedPids(runDir: string, uid: number, spare?: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return []; // no procfs: nothing we can find
  }
  const pids: number[] = [];
  for (const pid of entries) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if ((await fs.stat(`/proc/${pid}`)).uid !== uid) continue;
    } catch {
      continue;
    }
    if (!(await tiedTo(pid, runDir))) continue;
    if (spare !== undefined && (await groupOf(pid)) === spare) continue;
    pids.push(Number(pid));
  }
  return pids;
}

/**
 * Kills (SIGKILL) the processes tied to runDir that run as uid (but group `spare`); resolves once a
 * pass finds none left (they have exited), with how many distinct processes it killed.
 */
export async function killTied(runDir: string, uid: number, spare?: number): Promise<number> {
  const killed = new Set<number>();
  for (let pass = 0; pass < PASSES; pass++) {
    let found = 0;
    for (const pid of await tiedPids(runDir, uid, spare)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
        found++;
      } catch {
        /* already gone */
      }
    }
    if (found === 0) break;
    if (pass >= 2 && pass + 1 < PASSES) await sleep(Math.min(PAUSE_MAX_MS, 5 * pass));
  }
  return killed.size;
}

/** Kills a process group; no error when it is gone. */
export function killGroup(pgid: number | undefined): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* gone */
  }
}
