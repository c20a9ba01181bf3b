// Starts agent processes from a small process of its own (spawner-process.ts), never from Weir.
// A fork copies the forking process's page tables and makes all its memory copy-on-write: after
// each fork of Weir (hundreds of MB, several threads), every page any of its threads writes next
// faults once, with a TLB flush on every core. A 64-run fan-out spent 28 % of the control thread's
// CPU in those faults, and the workers paid them too. The spawner is forked once, while it is
// needed, and forks the agents from its own few tens of MB; Weir only posts requests to it and
// reads the output it relays. Killing stays on the caller's side (by process group, see proc-tree).
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { SpawnMessage, SpawnReply, SpawnRequest } from './spawn-protocol';

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
  /** A file descriptor of this process for the child's stdin, or undefined for none. It must stay
   *  open until `started` or `failed` (the spawner opens the same file through /proc). */
  stdinFd?: number;
  uid?: number;
  gid?: number;
  /** The niceness of the child's session (its autogroup), as its `nice`; undefined: left alone. */
  nice?: number;
  /** stdin is a pipe, written once by `writeInput` (instead of stdinFd). */
  stdinPipe?: boolean;
}

export interface SpawnEvents {
  /** The process started (its pid is its process group: it leads its own session). */
  started(pid: number): void;
  /** `at`: when the spawner read it (ms since the epoch), not when it arrived here. */
  stdout(chunk: Buffer, at: number): void;
  stderr(chunk: Buffer, at: number): void;
  /** The process is gone but its output may still come (what it left holds the pipes). */
  exited(): void;
  /** Every pipe closed: the end, with the code or the signal. */
  closed(code: number | null, signal: NodeJS.Signals | null): void;
  /** It did not start. */
  failed(message: string): void;
}

const PROCESS_FILE = path.join(__dirname, 'spawner-process.js');

let child: ChildProcess | null = null;
let nextId = 1;
const pending = new Map<number, SpawnEvents>();

function onReply(m: SpawnReply): void {
  const ev = pending.get(m.id);
  if (!ev) return;
  switch (m.type) {
    case 'started':
      return ev.started(m.pid);
    case 'stdout':
      return ev.stdout(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), m.at);
    case 'stderr':
      return ev.stderr(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), m.at);
    case 'exited':
      return ev.exited();
    case 'closed':
      settle(m.id);
      return ev.closed(m.code, m.signal);
    case 'failed':
      settle(m.id);
      return ev.failed(m.message);
  }
}

/** setpriv, when util-linux has it: the spawner then dies with Weir even after a kill -9. */
function setprivPath(): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', 'setpriv');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

function spawner(): ChildProcess {
  if (child) return child;
  const setpriv = setprivPath();
  const node = [process.execPath, '--max-old-space-size=64', PROCESS_FILE];
  const argv = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', ...node] : node;
  const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', env: { PATH: process.env.PATH ?? '' } });
  c.on('message', (m: SpawnReply | SpawnReply[]) => {
    if (Array.isArray(m)) for (const one of m) onReply(one);
    else onReply(m);
  });
  // A spawner that dies fails what it was running (their processes are killed by their groups);
  // the next start forks a new one.
  const fail = (why: string) => {
    if (child !== c) return;
    child = null;
    for (const [id, ev] of pending) {
      pending.delete(id);
      ev.failed(`the spawner process stopped: ${why}`);
    }
  };
  c.on('error', (e) => fail(e.message));
  c.on('exit', (code, signal) => fail(signal ? `signal ${signal}` : `exit ${code}`));
  // The spawner keeps Weir alive only while a child it started runs.
  c.unref();
  (c.channel as { unref?: () => void } | undefined)?.unref?.();
  child = c;
  return c;
}

function settle(id: number): void {
  pending.delete(id);
  if (pending.size === 0) {
    child?.unref();
    (child?.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}

/** Starts `file args…` in its own session from the spawner process; events arrive on this thread.
 *  Returns the request's id (for writeInput). */
export function spawnDetached(file: string, args: string[], opts: SpawnOptions, events: SpawnEvents): number {
  const id = nextId++;
  pending.set(id, events);
  const { stdinFd, nice, ...rest } = opts;
  const req: SpawnRequest = { id, file, args, ...rest };
  if (stdinFd !== undefined) req.stdinPath = `/proc/${process.pid}/fd/${stdinFd}`;
  if (nice !== undefined) req.autogroupNice = nice;
  const c = spawner();
  c.ref();
  (c.channel as { ref?: () => void } | undefined)?.ref?.();
  queue(req);
  return id;
}

/** Writes `data` to the stdin of a child started with stdinPipe, and closes it. */
export function writeInput(id: number, data: Uint8Array): void {
  if (pending.has(id)) queue({ id, input: data });
}

function queue(m: SpawnMessage): void {
  outbox.push(m);
  if (outbox.length === 1) setImmediate(post);
}

/** Messages of this turn, sent as one message at the next (see spawn-protocol.ts). */
let outbox: SpawnMessage[] = [];

function post(): void {
  // A spawner that died since failed these already (their ids are no longer pending).
  const out = outbox.filter((r) => pending.has(r.id));
  outbox = [];
  if (out.length === 0) return;
  spawner().send(out.length === 1 ? out[0] : out);
}
