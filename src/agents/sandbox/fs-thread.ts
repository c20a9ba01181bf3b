// The sandbox file thread (see files.ts): every file operation of the local sandboxes, done with
// blocking calls on this thread — making a run's folders, writing the prompt, reading transcripts,
// removing a run's folder, and measuring each running sandbox's disk use on a timer. Requests made
// in the same turn of the control thread come as one message, and their replies go back as one.
import fs from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { readConfined, writeConfined } from './confine';
import { diskUseSync } from './disk-use';

type Owner = { uid: number; gid: number } | undefined;

export type FilesRequest = { id: number } & (
  | { op: 'prepare'; root: string; runDir: string; labels: string; dirs: string[]; owner: Owner }
  | { op: 'write'; bases: string[]; workdir: string; path: string; data: string | Uint8Array; owner: Owner }
  | { op: 'read'; bases: string[]; workdir: string; path: string; maxBytes: number }
  | { op: 'remove'; dir: string }
  | { op: 'link'; path: string; target: string }
  | { op: 'watch'; dirs: string[]; cap: number; everyMs: number }
  | { op: 'unwatch' }
);

/** The answer to a request; a watch is answered once, when its sandbox passes its cap. */
export type FilesReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string; code?: string };

const LABELS = 'labels.json';
const port = parentPort;
const watches = new Map<number, NodeJS.Timeout>();

/** The run's folder and its workspace, home and tmp; 'exists' when an earlier attempt left one. */
function prepare(r: Extract<FilesRequest, { op: 'prepare' }>): 'made' | 'exists' {
  // Traversable by the sandbox user, not listable: one run cannot look up another's folder.
  fs.mkdirSync(r.root, { recursive: true, mode: 0o711 });
  try {
    fs.mkdirSync(r.runDir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw e;
  }
  fs.writeFileSync(path.join(r.runDir, LABELS), r.labels, { mode: 0o600 });
  for (const d of r.dirs) {
    fs.mkdirSync(d, { mode: 0o700 });
    if (r.owner) fs.chownSync(d, r.owner.uid, r.owner.gid);
  }
  return 'made';
}

/** rm -rf that also gets through folders the agent made unreadable (chmod 000) when Weir is not root. */
function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
    openUp(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function openUp(dir: string): void {
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    try {
      fs.chmodSync(d, 0o700);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(path.join(d, e.name));
    } catch {
      /* not ours: rm will say */
    }
  }
}

/**
 * Measures a running sandbox every `everyMs` and answers once it passes its cap. RLIMIT_FSIZE
 * stops one big file at once; many files need this walk, which has to poll (there is no portable
 * notice of "this folder tree grew": inotify watches cost one per folder, quota and cgroup limits
 * need setup outside Weir), so a process can overshoot the cap by what it writes in one interval.
 */
function watch(r: Extract<FilesRequest, { op: 'watch' }>): void {
  const tick = () => {
    if (!watches.has(r.id)) return;
    const used = diskUseSync(r.dirs, r.cap);
    if (used > r.cap) {
      watches.delete(r.id);
      reply({ id: r.id, ok: true, value: used });
      return;
    }
    watches.set(r.id, setTimeout(tick, r.everyMs));
  };
  watches.set(r.id, setTimeout(tick, r.everyMs));
}

/** Replies of the batch being handled: sent together as one message when it is done. */
let batch: { replies: FilesReply[]; transfer: ArrayBuffer[] } | null = null;

function reply(m: FilesReply, transfer?: ArrayBuffer[]): void {
  if (batch) {
    batch.replies.push(m);
    if (transfer) batch.transfer.push(...transfer);
  } else port!.postMessage(m, transfer);
}

function handle(r: FilesRequest): void {
  switch (r.op) {
    case 'prepare':
      return reply({ id: r.id, ok: true, value: prepare(r) });
    case 'write':
      writeConfined(r.bases, r.workdir, r.path, r.data, r.owner);
      return reply({ id: r.id, ok: true, value: null });
    case 'read': {
      const b = readConfined(r.bases, r.workdir, r.path, r.maxBytes);
      // The bytes are moved to the other thread, not copied.
      const value = b ? new Uint8Array(b) : null;
      return reply({ id: r.id, ok: true, value }, value ? [value.buffer as ArrayBuffer] : undefined);
    }
    case 'remove':
      removeTree(r.dir);
      return reply({ id: r.id, ok: true, value: null });
    case 'link':
      fs.symlinkSync(r.target, r.path);
      return reply({ id: r.id, ok: true, value: null });
    case 'watch':
      return watch(r);
    case 'unwatch':
      clearTimeout(watches.get(r.id));
      watches.delete(r.id);
      return;
  }
}

function handleOne(r: FilesRequest): void {
  try {
    handle(r);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    reply({ id: r.id, ok: false, message: err.message, code: err.code });
  }
}

// Requests made together arrive as one array (files.ts): each is handled on its own (one failing
// fails only itself), and their replies go back as one array.
port?.on('message', (m: FilesRequest | FilesRequest[]) => {
  if (!Array.isArray(m)) return handleOne(m);
  batch = { replies: [], transfer: [] };
  try {
    for (const r of m) handleOne(r);
  } finally {
    const { replies, transfer } = batch;
    batch = null;
    if (replies.length) port!.postMessage(replies, transfer);
  }
});
