// The disk a sandbox uses: its workspace, home and tmp measured together by walking them, and a
// watcher that measures every few seconds while a process runs and calls `over` once the cap is
// passed. RLIMIT_FSIZE stops one big file at once; many files need this walk, which has to poll
// (there is no portable notice of "this folder tree grew": inotify watches cost one per folder and
// quota/cgroup limits need setup outside Weir), so a process can overshoot the cap by what it
// writes in one interval.
//
// Allocated blocks are counted (a sparse file costs what it holds); symlinks are not followed; the
// walk is linear in the entries and stops as soon as the total passes the cap.
import fs from 'node:fs/promises';
import path from 'node:path';

/** Bytes allocated under the folders, or a number above `cap` as soon as it is certain. */
export async function diskUse(dirs: string[], cap = Infinity): Promise<number> {
  let total = 0;
  const stack = [...dirs];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue; // removed while we walked, or unreadable
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      try {
        const st = await fs.lstat(p);
        total += st.blocks * 512;
      } catch {
        continue;
      }
      if (total > cap) return total;
      if (e.isDirectory()) stack.push(p);
    }
  }
  return total;
}

/** Measures every `everyMs` until stopped; calls `over(bytes)` once when the cap is passed. */
export function watchSize(dirs: string[], cap: number, everyMs: number, over: (bytes: number) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const used = await diskUse(dirs, cap);
    if (stopped) return;
    if (used > cap) {
      stopped = true;
      over(used);
      return;
    }
    timer = setTimeout(tick, everyMs);
    timer.unref();
  };
  timer = setTimeout(tick, everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
