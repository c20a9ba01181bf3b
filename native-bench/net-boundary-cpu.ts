// What a fenced run's streamed bytes cost the thread that forwards them across the local sandbox's
// network boundary (sandbox/net-boundary.ts, net-forward.ts):
//   node dist/native-bench/net-boundary-cpu.js [--mb N] [--rounds R]
// A source on a thread of its own streams N MB down one connection; a client in a bwrap sandbox
// under the boundary (its own network namespace, net-relay.js inside) reads it to the end. Once with
// the forwarding on this thread (as it was, on the control thread) and once on the egress proxy's
// thread (as Weir does now), alternating R rounds of each. For each it prints the throughput and
// this thread's busy time per MB (event loop utilization: the time this loop was not idle), which
// is what the control thread's scheduling, SSE and Postgres work competed with. Needs bwrap.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { chooseMode, findOnPath, hostIds, launch, type SandboxPaths } from '../src/agents/sandbox/isolation';
import { localOptions } from '../src/agents/sandbox/local-options';
import { NetBoundary } from '../src/agents/sandbox/net-boundary';
import { makeCa } from '../src/agents/vault/ca';
import { Egress } from '../src/agents/vault/egress';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(v > 0)) throw new Error(`${name} needs a positive number`);
  return v;
}

/** A TCP server on a thread of its own that sends `mb` MB to each connection, then ends it. */
function startSource(mb: number): Promise<{ port: number; worker: Worker }> {
  const code = `
    const net = require('node:net');
    const { parentPort, workerData } = require('node:worker_threads');
    const chunk = Buffer.alloc(64 * 1024, 120);
    const s = net.createServer((c) => {
      let left = workerData * 16;
      const more = () => { while (left > 0) { left--; if (!c.write(chunk)) return c.once('drain', more); } c.end(); };
      c.on('error', () => {});
      more();
    });
    s.listen(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));`;
  const worker = new Worker(code, { eval: true, workerData: mb });
  return new Promise((resolve) => worker.once('message', (port: number) => resolve({ port, worker })));
}

/** The client inside: reads one connection to its end, prints the bytes. */
const CLIENT = `
  const c = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
  let n = 0;
  c.on('data', (d) => (n += d.length));
  c.on('end', () => { process.stdout.write(String(n)); process.exit(0); });`;

function readInside(paths: SandboxPaths, port: number, net: NetBoundary): Promise<number> {
  const o = localOptions({ nice: 0 });
  const tools = { bwrap: findOnPath('bwrap'), prlimit: findOnPath('prlimit'), nice: findOnPath('nice'), setpriv: findOnPath('setpriv') };
  const l = launch('bwrap', tools, o, paths, [process.execPath, '-e', CLIENT, String(port)], paths.workdir, net.spec());
  return new Promise((resolve, reject) => {
    const child = spawn(l.file, l.args, { uid: l.uid, gid: l.gid, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`client exited ${code}`))));
  });
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

async function main(): Promise<void> {
  const mb = arg('--mb', 256);
  const rounds = arg('--rounds', 5);
  const o = localOptions({});
  if ((await chooseMode({ ...o, isolation: 'auto' }, { bwrap: findOnPath('bwrap'), prlimit: findOnPath('prlimit') })) !== 'bwrap') throw new Error('bwrap cannot make namespaces here');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-bcpu-'));
  fs.chmodSync(root, 0o755);
  const source = await startSource(mb);
  const egress = new Egress({ ca: async () => makeCa('bench-boundary'), host: '127.0.0.1', port: 0, log: () => {} });
  const ways = { 'this thread (was: the control thread)': undefined, "the egress proxy's thread (now)": egress } as const;
  const results = new Map<string, { mbps: number[]; msPerMb: number[] }>();
  console.log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} cores); ${mb} MB a stream, ${rounds} rounds each, alternated`);
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const [name, forwarder] of Object.entries(ways)) {
      const run = path.join(root, `r${n++}`);
      const paths: SandboxPaths = { root, workdir: path.join(run, 'work'), home: path.join(run, 'home'), tmp: path.join(run, 'tmp') };
      fs.mkdirSync(run, { mode: 0o755 });
      for (const d of [paths.workdir, paths.home, paths.tmp]) fs.mkdirSync(d, { mode: 0o777 }), fs.chmodSync(d, 0o777);
      const boundary = new NetBoundary(path.join(run, 'n'), hostIds(o), forwarder);
      const inside = await boundary.reach('127.0.0.1', source.port);
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      const bytes = await readInside(paths, inside.port, boundary);
      const ms = performance.now() - t0;
      const busy = performance.eventLoopUtilization(elu0).active;
      if (bytes !== mb * 1024 * 1024) throw new Error(`read ${bytes} bytes, not ${mb} MB`);
      const got = results.get(name) ?? { mbps: [], msPerMb: [] };
      got.mbps.push(mb / (ms / 1000));
      got.msPerMb.push(busy / mb);
      results.set(name, got);
      await boundary.close();
    }
  }
  for (const [name, r] of results)
    console.log(`forwarding on ${name}: ${median(r.mbps).toFixed(0)} MB/s [${r.mbps.map((x) => x.toFixed(0)).join(' ')}], this thread busy ${median(r.msPerMb).toFixed(3)} ms per MB [${r.msPerMb.map((x) => x.toFixed(3)).join(' ')}]`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await egress.stop();
  await source.worker.terminate();
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
