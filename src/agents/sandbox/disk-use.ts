// The disk a sandbox uses: its workspace, home and tmp measured together by walking them.
// Allocated blocks are counted (a sparse file costs what it holds); symlinks are not followed; the
// walk is linear in the entries and stops as soon as the total passes the cap. Synchronous: it runs
// on the size-watch thread (size-thread.ts), where blocking is the cheapest way to walk.
import fs from 'node:fs';
import path from 'node:path';

/** Bytes allocated under the folders, or a number above `cap` as soon as it is certain. */
export function diskUseSync(dirs: string[], cap = Infinity): number {
  let total = 0;
  const stack = [...dirs];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // removed while we walked, or unreadable
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      try {
        total += fs.lstatSync(p).blocks * 512;
      } catch {
        continue;
      }
      if (total > cap) return total;
      if (e.isDirectory()) stack.push(p);
    }
  }
  return total;
}
