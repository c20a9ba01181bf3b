// A fan-out's starts crossing threads and processes in batches: the requests made in one turn go
// to the sandbox file thread, and to the spawner process, as one message, and come back as one;
// inside a batch each request is its own (one that fails fails alone, the others are answered).
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { FilesReply, FilesRequest } from '../../src/agents/sandbox/fs-thread';
import { files } from '../../src/agents/sandbox/files';
import type { SpawnReply, SpawnRequest } from '../../src/agents/spawn/spawn-protocol';
import { spawnDetached } from '../../src/agents/spawn/spawner';

const SANDBOX_DIR = path.join(__dirname, '../../src/agents/sandbox');
const SPAWN_DIR = path.join(__dirname, '../../src/agents/spawn');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-fanout-batches-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function runFolders(n: number): { runDir: string; work: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const runDir = path.join(tmp, `run-${i}`);
    return { runDir, work: path.join(runDir, 'work') };
  });
}

test('the file thread takes an array of requests as one message and answers them as one array, a failing one failing alone', async () => {
  const w = new Worker(path.join(SANDBOX_DIR, 'fs-thread.js'));
  try {
    const replies: (FilesReply | FilesReply[])[] = [];
    const got = new Promise<void>((resolve) => w.on('message', (m: FilesReply | FilesReply[]) => (replies.push(m), resolve())));
    const root = path.join(tmp, 'thread');
    const runs = runFolders(3).map((r) => ({ runDir: path.join(root, path.basename(r.runDir)), work: path.join(root, path.basename(r.runDir), 'work') }));
    const batch: FilesRequest[] = [
      ...runs.map((r, i): FilesRequest => ({ id: i + 1, op: 'prepare', root, runDir: r.runDir, labels: '{}\n', dirs: [r.work], owner: undefined })),
      // Outside its folders: refused, on its own.
      { id: 10, op: 'write', bases: [runs[0]!.work], workdir: runs[0]!.work, path: '../../escaped.txt', data: 'x', owner: undefined },
      { id: 11, op: 'write', bases: [runs[1]!.work], workdir: runs[1]!.work, path: 'prompt.txt', data: 'one', owner: undefined },
    ];
    w.postMessage(batch);
    await got;
    assert.equal(replies.length, 1, 'one message back');
    const [all] = replies;
    assert.ok(Array.isArray(all), 'an array of replies');
    assert.deepEqual(all.map((r) => [r.id, r.ok]), [[1, true], [2, true], [3, true], [10, false], [11, true]]);
    assert.match((all[3] as { message: string }).message, /outside the sandbox/);
    for (const r of runs) assert.ok(fs.statSync(r.work).isDirectory(), `${r.work} made`);
    assert.equal(fs.readFileSync(path.join(runs[1]!.work, 'prompt.txt'), 'utf8'), 'one');
    assert.ok(!fs.existsSync(path.join(root, 'escaped.txt')));
  } finally {
    await w.terminate();
  }
});

test('files() made in one turn each get their own answer: the folders of N runs made together, one bad write refused alone', async () => {
  const root = path.join(tmp, 'files');
  const runs = runFolders(6).map((r) => ({ runDir: path.join(root, path.basename(r.runDir)), work: path.join(root, path.basename(r.runDir), 'work') }));
  const made = await Promise.all(runs.map((r) => files<string>({ op: 'prepare', root, runDir: r.runDir, labels: '{}\n', dirs: [r.work], owner: undefined })));
  assert.deepEqual(made, runs.map(() => 'made'));
  const writes = await Promise.allSettled(
    runs.map((r, i) => files({ op: 'write', bases: [r.work], workdir: r.work, path: i === 2 ? '../../../outside.txt' : 'prompt.txt', data: `prompt ${i}`, owner: undefined })),
  );
  assert.deepEqual(writes.map((w) => w.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  const reads = await Promise.all(runs.map((r) => files<Uint8Array | null>({ op: 'read', bases: [r.work], workdir: r.work, path: 'prompt.txt', maxBytes: 100 })));
  assert.deepEqual(reads.map((b) => (b ? Buffer.from(b).toString() : null)), ['prompt 0', 'prompt 1', null, 'prompt 3', 'prompt 4', 'prompt 5'], 'each run its own file');
  // Made again: each one says so, none is touched.
  assert.deepEqual(await Promise.all(runs.map((r) => files<string>({ op: 'prepare', root, runDir: r.runDir, labels: '{}\n', dirs: [r.work], owner: undefined }))), runs.map(() => 'exists'));
});

test('the spawner process starts an array of requests, one failing alone, and sends what one turn produced as one message', async () => {
  const child = fork(path.join(SPAWN_DIR, 'spawner-process.js'), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const messages: (SpawnReply | SpawnReply[])[] = [];
    const closed = new Set<number>();
    const done = new Promise<void>((resolve) =>
      child.on('message', (m: SpawnReply | SpawnReply[]) => {
        messages.push(m);
        for (const r of Array.isArray(m) ? m : [m]) if (r.type === 'closed' || r.type === 'failed') closed.add(r.id);
        if (closed.size === 4) resolve();
      }),
    );
    const req = (id: number, cwd = tmp): SpawnRequest => ({ id, file: '/bin/sh', args: ['-c', `echo out-${id}`], cwd, env: { PATH: '/usr/bin:/bin' } });
    const sent = Date.now();
    child.send([req(1), req(2), req(3, path.join(tmp, 'no-such-folder')), req(4)]);
    await done;
    const received = Date.now();
    const replies = messages.flatMap((m) => (Array.isArray(m) ? m : [m]));
    const byId = (id: number) => replies.filter((r) => r.id === id);
    for (const id of [1, 2, 4]) {
      const own = byId(id);
      assert.equal(own[0]?.type, 'started', `run ${id} started first`);
      const out = own.filter((r) => r.type === 'stdout').map((r) => Buffer.from((r as { data: Uint8Array }).data).toString()).join('');
      assert.equal(out, `out-${id}\n`, `run ${id}: its own output`);
      // Stamped where it was read (the agent's events take it as their ts), so between the request and the reply.
      for (const r of own) if (r.type === 'stdout') assert.ok(r.at >= sent && r.at <= received, `read at ${r.at}, sent ${sent}, received ${received}`);
      assert.deepEqual(own.at(-1), { type: 'closed', id, code: 0, signal: null });
    }
    const bad = byId(3);
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.type, 'failed');
    assert.ok(messages.some((m) => Array.isArray(m) && m.length > 1), 'replies of one turn travel together');
    assert.ok(messages.length < replies.length, `${messages.length} messages for ${replies.length} replies`);
  } finally {
    child.kill();
  }
});

test('spawnDetached: processes asked for together each start with their own output; one that cannot start fails alone', async () => {
  const results = await Promise.all(
    [0, 1, 2, 3, 4].map(
      (i) =>
        new Promise<string>((resolve) => {
          let out = '';
          spawnDetached(i === 3 ? '/no/such/program' : '/bin/sh', ['-c', `echo run-${i}`], { cwd: tmp, env: { PATH: '/usr/bin:/bin' } }, {
            started: () => {},
            stdout: (c) => (out += c.toString()),
            stderr: () => {},
            exited: () => {},
            closed: (code) => resolve(`${code}:${out}`),
            failed: (message) => resolve(`failed:${/ENOENT/.test(message)}`),
          });
        }),
    ),
  );
  assert.deepEqual(results, ['0:run-0\n', '0:run-1\n', '0:run-2\n', 'failed:true', '0:run-4\n']);
});

test('spawnDetached: a command node refuses outright (a NUL byte in its argv or env) fails alone; the spawner lives on', async () => {
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<string>((resolve) => {
      let out = '';
      spawnDetached('/bin/sh', args, { cwd: tmp, env: { PATH: '/usr/bin:/bin', ...env } }, {
        started: () => {},
        stdout: (c) => (out += c.toString()),
        stderr: () => {},
        exited: () => {},
        closed: (code) => resolve(`${code}:${out}`),
        failed: (message) => resolve(`failed:${/null bytes|\\0|NUL/i.test(message)}`),
      });
    });
  const results = await Promise.all([run(['-c', 'echo before'], {}), run(['-c', 'echo a\u0000b'], {}), run(['-c', 'echo env'], { X: 'a\u0000b' }), run(['-c', 'echo after'], {})]);
  assert.deepEqual(results, ['0:before\n', 'failed:true', 'failed:true', '0:after\n']);
  // The same spawner still starts what comes next.
  assert.equal(await run(['-c', 'echo later'], {}), '0:later\n');
});
