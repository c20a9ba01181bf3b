// The spawner thread (see spawner.ts): forks the processes the control thread asks for, each in its
// own session, and sends back its pid, its output (the chunks moved, not copied) and its end.
import { spawn } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import type { SpawnReply, SpawnRequest } from './spawn-protocol';

const port = parentPort!;
const send = (m: SpawnReply, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

/** A chunk in a buffer of its own, so its memory can be moved to the other thread. */
function movable(c: Buffer): Uint8Array {
  const copy = new Uint8Array(c.length);
  copy.set(c);
  return copy;
}

port.on('message', (r: SpawnRequest) => {
  let failed = false;
  const child = spawn(r.file, r.args, {
    cwd: r.cwd,
    env: r.env,
    stdio: [r.stdinFd ?? 'ignore', 'pipe', 'pipe'],
    detached: true, // its own session and process group
    uid: r.uid,
    gid: r.gid,
  });
  child.on('error', (e) => {
    if (failed) return;
    failed = true;
    send({ type: 'failed', id: r.id, message: e.message });
  });
  if (child.pid === undefined) return; // 'error' follows
  send({ type: 'started', id: r.id, pid: child.pid });
  child.stdout!.on('data', (c: Buffer) => {
    const data = movable(c);
    send({ type: 'stdout', id: r.id, data }, [data.buffer as ArrayBuffer]);
  });
  child.stderr!.on('data', (c: Buffer) => {
    const data = movable(c);
    send({ type: 'stderr', id: r.id, data }, [data.buffer as ArrayBuffer]);
  });
  child.on('exit', () => send({ type: 'exited', id: r.id }));
  child.on('close', (code, signal) => {
    if (!failed) send({ type: 'closed', id: r.id, code, signal });
  });
});
