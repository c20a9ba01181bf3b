// Starts agent processes from a thread of their own. Starting a process forks Weir, and the thread
// that calls spawn() waits until the child has exec'd: with dozens of runs starting at once on a
// busy machine that was most of the control thread's time (a profile of 64 runs: 4.6 s of 14 s in
// ChildProcess.spawn), and every event, API answer and database write of every run waited behind
// it. Here the control thread only posts a request; the spawner thread forks and relays the
// process's output and end. Killing stays on the caller's side (by process group, see proc-tree).
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SpawnReply, SpawnRequest } from './spawn-protocol';

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
  /** A file descriptor of this process for the child's stdin, or undefined for none. */
  stdinFd?: number;
  uid?: number;
  gid?: number;
}

export interface SpawnEvents {
  /** The process started (its pid is its process group: it leads its own session). */
  started(pid: number): void;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** The process is gone but its output may still come (what it left holds the pipes). */
  exited(): void;
  /** Every pipe closed: the end, with the code or the signal. */
  closed(code: number | null, signal: NodeJS.Signals | null): void;
  /** It did not start. */
  failed(message: string): void;
}

const WORKER_FILE = path.join(__dirname, 'spawner-thread.js');

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, SpawnEvents>();

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_FILE);
  w.on('message', (m: SpawnReply) => {
    const ev = pending.get(m.id);
    if (!ev) return;
    switch (m.type) {
      case 'started':
        return ev.started(m.pid);
      case 'stdout':
        return ev.stdout(Buffer.from(m.data));
      case 'stderr':
        return ev.stderr(Buffer.from(m.data));
      case 'exited':
        return ev.exited();
      case 'closed':
        settle(m.id);
        return ev.closed(m.code, m.signal);
      case 'failed':
        settle(m.id);
        return ev.failed(m.message);
    }
  });
  // A spawner that dies fails what it was running (their processes are killed by their groups).
  const fail = (why: string) => {
    worker = null;
    for (const [id, ev] of pending) {
      pending.delete(id);
      ev.failed(`the spawner thread stopped: ${why}`);
    }
  };
  w.on('error', (e) => fail(e.message));
  w.on('exit', (code) => fail(`exit ${code}`));
  // After the listeners (adding a 'message' listener refs the thread again): the spawner keeps the
  // process alive only while a child it started runs.
  w.unref();
  worker = w;
  return w;
}

function settle(id: number): void {
  pending.delete(id);
  if (pending.size === 0) worker?.unref();
}

/** Starts `file args…` in its own session on the spawner thread; events arrive on this thread. */
export function spawnDetached(file: string, args: string[], opts: SpawnOptions, events: SpawnEvents): void {
  const id = nextId++;
  pending.set(id, events);
  const req: SpawnRequest = { id, file, args, ...opts };
  const w = thread();
  w.ref();
  w.postMessage(req);
}
