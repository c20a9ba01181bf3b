// The local sandboxes' file work, done on a thread of its own (fs-thread.ts). Making a run's
// folders, writing its prompt, reading its transcript, removing its folder and measuring its disk
// use are dozens of small calls per run; made here they were a trip through the thread pool and
// back onto the control thread each, and with dozens of runs starting or ending together every
// event and API answer waited behind them (a 64-run fan-out: the disk walks alone were 4.2 s of
// the control thread's CPU). Here each is one message each way, and the requests made in one turn
// of the control thread (a fan-out's runs making their folders, writing their prompts) go as one
// message, answered by one: a fan-out of N costs each thread a few messages, not N.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FilesReply, FilesRequest } from './fs-thread';

const WORKER_FILE = path.join(__dirname, 'fs-thread.js');

type Body<R = FilesRequest> = R extends unknown ? Omit<R, 'id'> : never;

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_FILE);
  w.on('message', (m: FilesReply | FilesReply[]) => {
    if (Array.isArray(m)) for (const one of m) answer(one);
    else answer(m);
  });
  // A thread that dies fails what it was doing; the next call starts another.
  const fail = (why: string) => {
    worker = null;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new Error(`the sandbox file thread stopped: ${why}`));
    }
  };
  w.on('error', (e) => fail(e.message));
  w.on('exit', (code) => fail(`exit ${code}`));
  w.unref();
  worker = w;
  return w;
}

function answer(m: FilesReply): void {
  const p = pending.get(m.id);
  if (!p) return;
  settle(m.id);
  if (m.ok) p.resolve(m.value);
  else p.reject(Object.assign(new Error(m.message), { code: m.code }));
}

function settle(id: number): void {
  pending.delete(id);
  if (pending.size === 0) worker?.unref();
}

/** Requests of this turn, posted together at the next (see the header). */
let outbox: FilesRequest[] = [];

function send(body: Body, id: number, p: { resolve(v: unknown): void; reject(e: Error): void }): void {
  pending.set(id, p);
  thread().ref();
  queue({ ...body, id } as FilesRequest);
}

function queue(r: FilesRequest): void {
  outbox.push(r);
  if (outbox.length === 1) setImmediate(post);
}

function post(): void {
  // Not what was settled meanwhile (a watch stopped at once, requests a dead thread failed).
  const out = outbox.filter((r) => r.op === 'unwatch' || pending.has(r.id));
  outbox = [];
  // Only unwatches for a thread that is gone: nothing to do.
  const w = out.some((r) => r.op !== 'unwatch') ? thread() : worker;
  if (!w || out.length === 0) return;
  w.postMessage(out.length === 1 ? out[0] : out);
}

/** One file operation on the file thread. */
export function files<T>(body: Body<Exclude<FilesRequest, { op: 'watch' | 'unwatch' }>>): Promise<T> {
  return new Promise<T>((resolve, reject) => send(body, nextId++, { resolve: resolve as (v: unknown) => void, reject }));
}

/** Measures every `everyMs` until stopped; calls `over(bytes)` once when the cap is passed. */
export function watchSize(dirs: string[], cap: number, everyMs: number, over: (bytes: number) => void): () => void {
  const id = nextId++;
  send({ op: 'watch', dirs, cap, everyMs }, id, { resolve: (bytes) => over(bytes as number), reject: () => {} });
  return () => {
    if (!pending.has(id)) return;
    settle(id);
    // Through the queue: the watch itself may not have gone yet.
    if (worker) queue({ op: 'unwatch', id });
  };
}
