// The spawner process (see spawner.ts): a small Node process of its own that forks the agents Weir
// asks for, each in its own session, and sends back its pid, its output and its end. It ends when
// Weir does: its IPC channel closes (and setpriv's parent-death signal covers a kill -9), and the
// agents it started carry a parent-death signal of their own.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { AutogroupQueue } from './autogroup';
import { FanoutNiceness } from './fanout-nice';
import type { SpawnInput, SpawnMessage, SpawnReply, SpawnRequest } from './spawn-protocol';

/** Replies of this turn (every agent's output read in it), sent as one message at the next. */
let outbox: SpawnReply[] = [];

const send = (m: SpawnReply): void => {
  outbox.push(m);
  if (outbox.length === 1) setImmediate(flush);
};

function flush(): void {
  const out = outbox;
  outbox = [];
  process.send?.(out.length === 1 ? out[0] : out);
}

/** The agents' autogroups' niceness (see autogroup.ts), scaled with how many run (fanout-nice.ts). */
const autogroups = new AutogroupQueue();
const niceness = new FanoutNiceness((pid, nice) => autogroups.set(pid, nice));
/** The pid of each child that waits for its command (stdinPipe), by request id. */
const launchers = new Map<number, number>();

/** Children whose stdin pipe waits for its SpawnInput. */
const waitingInput = new Map<number, NodeJS.WritableStream>();

function input(m: SpawnInput): void {
  const stdin = waitingInput.get(m.id);
  waitingInput.delete(m.id);
  const pid = launchers.get(m.id);
  launchers.delete(m.id);
  if (pid !== undefined) niceness.count(pid);
  stdin?.end(Buffer.from(m.input.buffer, m.input.byteOffset, m.input.byteLength));
}

function start(r: SpawnRequest): void {
  let stdin: number | 'ignore' | 'pipe' = r.stdinPipe ? 'pipe' : 'ignore';
  if (r.stdinPath !== undefined) {
    try {
      stdin = openSync(r.stdinPath, 'r');
    } catch (e) {
      send({ type: 'failed', id: r.id, message: `stdin: ${(e as Error).message}` });
      return;
    }
  }
  let failed = false;
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(r.file, r.args, {
      cwd: r.cwd,
      env: r.env,
      stdio: [stdin, 'pipe', 'pipe'],
      detached: true, // its own session and process group
      uid: r.uid,
      gid: r.gid,
    });
  } catch (e) {
    // What node refuses before any process exists (a NUL byte in an argument or the environment)
    // fails this child alone: uncaught, it would end the spawner and every agent's relay with it.
    send({ type: 'failed', id: r.id, message: (e as Error).message });
    return;
  } finally {
    if (typeof stdin === 'number') closeSync(stdin);
  }
  child.on('error', (e) => {
    if (failed) return;
    failed = true;
    send({ type: 'failed', id: r.id, message: e.message });
  });
  if (child.pid === undefined) return; // 'error' follows
  const pid = child.pid;
  if (r.autogroupNice !== undefined) niceness.add(pid, r.autogroupNice, !r.stdinPipe);
  if (child.stdin) {
    launchers.set(r.id, pid);
    // A child gone before its input came: the write fails with EPIPE, its end is reported anyway.
    child.stdin.on('error', () => {});
    waitingInput.set(r.id, child.stdin);
  }
  send({ type: 'started', id: r.id, pid: child.pid });
  child.stdout!.on('data', (data: Buffer) => send({ type: 'stdout', id: r.id, data, at: Date.now() }));
  child.stderr!.on('data', (data: Buffer) => send({ type: 'stderr', id: r.id, data, at: Date.now() }));
  child.on('exit', () => {
    niceness.remove(pid);
    launchers.delete(r.id);
    send({ type: 'exited', id: r.id });
  });
  child.on('close', (code, signal) => {
    waitingInput.delete(r.id);
    if (!failed) send({ type: 'closed', id: r.id, code, signal });
  });
}

const handle = (m: SpawnMessage): void => ('input' in m ? input(m) : start(m));
process.on('message', (m: SpawnMessage | SpawnMessage[]) => {
  if (Array.isArray(m)) for (const one of m) handle(one);
  else handle(m);
});
// Weir is gone: so is this process (the agents follow through their parent-death signal).
process.on('disconnect', () => process.exit(0));
