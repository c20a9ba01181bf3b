// Watches a sandbox's disk use while a process runs and calls `over` once the cap is passed.
// RLIMIT_FSIZE stops one big file at once; many files need a walk of the folders, which has to poll
// (there is no portable notice of "this folder tree grew": inotify watches cost one per folder and
// quota/cgroup limits need setup outside Weir), so a process can overshoot the cap by what it writes
// in one interval. The walks run on a thread of their own (size-thread.ts): with dozens of runs
// they were the largest part of the control thread's work (a 64-run fan-out: 4.2 s of CPU), and
// every event and API answer waited behind them.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SizeReply, SizeRequest } from './size-thread';

const WORKER_FILE = path.join(__dirname, 'size-thread.js');

let worker: Worker | null = null;
let nextId = 1;
const watching = new Map<number, (bytes: number) => void>();

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_FILE);
  w.on('message', (m: SizeReply) => {
    const over = watching.get(m.id);
    if (!over) return;
    settle(m.id);
    over(m.bytes);
  });
  // A thread that dies takes its watches with it; the next watch starts a new one.
  w.on('error', () => (worker = null));
  w.on('exit', () => {
    worker = null;
    watching.clear();
  });
  w.unref();
  worker = w;
  return w;
}

function post(r: SizeRequest): void {
  thread().postMessage(r);
}

function settle(id: number): void {
  watching.delete(id);
  if (watching.size === 0) worker?.unref();
}

/** Measures every `everyMs` until stopped; calls `over(bytes)` once when the cap is passed. */
export function watchSize(dirs: string[], cap: number, everyMs: number, over: (bytes: number) => void): () => void {
  const id = nextId++;
  watching.set(id, over);
  post({ type: 'watch', id, dirs, cap, everyMs });
  worker!.ref();
  return () => {
    if (!watching.has(id)) return;
    settle(id);
    post({ type: 'stop', id });
  };
}
