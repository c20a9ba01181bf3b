// Paths Weir reads and writes in a sandbox's folders on the agent's behalf (the prompt, the
// transcript), kept inside them: `..` that climbs out is refused, and so is a symlink the agent
// planted that points outside (Weir may be root; a workspace symlink to /etc/shadow must not be
// read, one to /etc/passwd must not be written through). The agent can still race a check by
// swapping a folder for a link between the check and the open; the final component is opened
// without following links, which is what matters for the files Weir itself places.
//
// Synchronous: these run on the sandbox file thread (fs-thread.ts), where one blocking call is
// cheaper than a trip through the thread pool for each step.
import fs, { constants, openSync, realpathSync } from 'node:fs';
import path from 'node:path';

function within(base: string, p: string): boolean {
  return p === base || p.startsWith(base.endsWith('/') ? base : base + '/');
}

/**
 * The absolute host path of a sandbox path: relative ones are taken from `workdir`; the result
 * must lie inside one of `bases` (lexically: `..` is resolved first).
 */
export function confine(bases: string[], workdir: string, p: string): string {
  if (p.includes('\0')) throw new Error('path contains a NUL byte');
  const abs = path.resolve(workdir, p);
  if (!bases.some((b) => within(b, abs))) throw new Error(`path outside the sandbox: ${p}`);
  return abs;
}

/** Throws unless the real location of an existing path is inside one of the bases (links resolved). */
function assertRealInside(bases: string[], p: string): void {
  const real = realpathSync(p);
  if (!realBases(bases).some((b) => within(b, real))) throw new Error(`path leads outside the sandbox: ${p}`);
}

function realBases(bases: string[]): string[] {
  return bases.map((b) => {
    try {
      return realpathSync(b);
    } catch {
      return b;
    }
  });
}

function globPart(part: string): RegExp {
  return new RegExp('^' + part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
}

/**
 * A path whose components may hold `*` (any characters but `/`, as a shell glob), resolved to the
 * first match in name order, or undefined when nothing matches. Linear in the entries of the
 * folders the wildcards stand in.
 */
function expand(abs: string): string | undefined {
  if (!abs.includes('*')) return abs;
  const parts = abs.split('/').filter(Boolean);
  let found: string[] = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of found) {
      if (!part.includes('*')) {
        next.push(path.join(dir, part));
        continue;
      }
      const re = globPart(part);
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) next.push(path.join(dir, n));
    }
    found = next;
    if (found.length === 0) return undefined;
  }
  for (const f of found) {
    try {
      fs.lstatSync(f);
      return f;
    } catch {
      /* try the next match */
    }
  }
  return undefined;
}

/** Up to maxBytes of a file (its first bytes), or null when it does not exist. Paths may hold `*`. */
export function readConfined(bases: string[], workdir: string, p: string, maxBytes: number): Buffer | null {
  const abs = expand(confine(bases, workdir, p));
  if (abs === undefined) return null;
  let fd: number;
  try {
    assertRealInside(bases, abs);
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`not a regular file: ${p}`);
    const want = Math.max(0, Math.min(maxBytes, st.size));
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a file (creating its folders), owned by `owner` when given so the agent can change it.
 * Never follows a link, neither in the folders (checked) nor at the file (O_NOFOLLOW).
 */
export function writeConfined(bases: string[], workdir: string, p: string, data: string | Uint8Array, owner?: { uid: number; gid: number }): void {
  const abs = confine(bases, workdir, p);
  const dir = path.dirname(abs);
  const base = bases.find((b) => within(b, abs))!;
  // Create the folders one by one from the base, checking each is a real folder inside.
  const rel = path.relative(base, dir);
  let cur = base;
  for (const part of rel ? rel.split('/') : []) {
    cur = path.join(cur, part);
    try {
      fs.mkdirSync(cur, { mode: 0o755 });
      if (owner) fs.chownSync(cur, owner.uid, owner.gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  assertRealInside(bases, dir);
  const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  try {
    // Truncated only once known to be a file of its own (a hard link could name one outside).
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) throw new Error(`not a regular file of the sandbox: ${p}`);
    fs.ftruncateSync(fd, 0);
    fs.writeFileSync(fd, data);
    if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Opens a sandbox file for reading, now (an exec's standard input): links are resolved and the
 * real file must be inside, so a planted `.weir -> /root` does not feed a root-only file to the agent.
 */
export function openConfinedSync(bases: string[], workdir: string, p: string): number {
  const real = realpathSync(confine(bases, workdir, p));
  if (!realBases(bases).some((b) => within(b, real))) throw new Error(`path leads outside the sandbox: ${p}`);
  return openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
}
