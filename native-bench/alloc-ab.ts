// Allocation A/B of Weir builds (issue 15): `node dist/native-bench/alloc-ab.js ROUNDS PER_ROUND
// NAME=DIST [NAME=DIST …]` starts the mock and one Weir (2 workers, master key, --trace-gc-nvp) per
// build directory (a `dist` with the repository's package.json and node_modules beside it), then
// sends the scenario 1 chat at concurrency 1 to each in turn, the order flipping every round. Per
// build: bytes allocated per request in its worker isolates (gc-trace.ts, ± one GC per worker at
// each end) and CPU µs per request (/proc). The bytes are what to compare: they do not follow the
// machine's load, which CPU per request does.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { writeBenchConfig } from './bench-config';
import { chatSpec, MASTER_KEY, smallChat } from './bodies';
import { GcTrace, type GcWindow } from './gc-trace';
import { closedLoop } from './load';
import { freePort, installCleanup, ROOT, spawnReady, startMock, stopAll } from './processes';
import { cpuMicros } from './procfs';

interface Build {
  name: string;
  dist: string;
  gc: GcTrace;
  pid: number;
  client: Client;
  windows: GcWindow[];
  cpuUs: number;
  cpuPerRound: number[];
}

async function main(): Promise<number> {
  const [roundsArg, perRoundArg, ...specs] = process.argv.slice(2);
  const rounds = Number(roundsArg);
  const perRound = Number(perRoundArg);
  if (!(rounds >= 1) || !(perRound >= 1) || specs.length === 0 || specs.some((s) => !s.includes('='))) {
    process.stderr.write('usage: node dist/native-bench/alloc-ab.js ROUNDS PER_ROUND NAME=DIST [NAME=DIST …]\n');
    return 2;
  }
  installCleanup();
  const mock = await startMock({ deltas: 64, port: 0 });
  const config = writeBenchConfig(path.join(ROOT, 'bench-results'), 'alloc-ab-config.yaml', mock.url, MASTER_KEY);
  const builds: Build[] = [];
  for (const s of specs) {
    const [name, dist] = [s.slice(0, s.indexOf('=')), path.resolve(s.slice(s.indexOf('=') + 1))];
    const gc = new GcTrace(() => performance.now());
    const port = await freePort();
    const args = ['--trace-gc-nvp', path.join(dist, 'src', 'cli.js'), '--config', config, '--port', String(port), '--host', '127.0.0.1', '--num_workers', '2'];
    const { child } = await spawnReady(name, process.execPath, args, { ready: /http engine: [^\n]+\n/, env: { ...process.env, WEIR_SHUTDOWN_GRACE_MS: '2000' }, onStdout: (d) => gc.push(d.toString('utf8')) });
    builds.push({ name, dist, gc, pid: child.pid, client: new Client(`http://127.0.0.1:${port}`, { pipelining: 1 }), windows: [], cpuUs: 0, cpuPerRound: [] });
  }
  const spec = chatSpec(smallChat());
  for (const b of builds) await closedLoop(b.client, spec, 2000, false);
  for (let r = 0; r < rounds; r++) {
    for (const b of r % 2 ? [...builds].reverse() : builds) {
      process.stderr.write(`\rround ${r + 1}/${rounds} ${b.name}    `);
      const c0 = cpuMicros(b.pid);
      const startMs = performance.now();
      const s = await closedLoop(b.client, spec, perRound, false);
      const endMs = performance.now();
      const used = cpuMicros(b.pid) - c0;
      if (s.errors) process.stderr.write(`\n${b.name}: ${s.errors} errors (${s.firstError})\n`);
      b.windows.push({ startMs, endMs, requests: perRound });
      b.cpuUs += used;
      b.cpuPerRound.push(used / perRound);
    }
  }
  process.stderr.write('\n');
  for (const b of builds) {
    const s = b.gc.summary(b.windows);
    const scavenges = s.kinds.find((k) => k.kind === 'scavenge')?.count ?? 0;
    process.stdout.write(
      `${b.name.padEnd(12)} worker B/req ${s.workerBytesPerReq.toFixed(0)} ± ${s.workerBytesErrPerReq.toFixed(0)}  control B/req ${s.controlBytesPerReq.toFixed(0)}  ` +
        `scavenges/10k ${((scavenges * 1e4) / s.requests).toFixed(1)}  CPU µs/req ${(b.cpuUs / s.requests).toFixed(1)} (rounds ${b.cpuPerRound.map((x) => x.toFixed(0)).join(' ')})\n`,
    );
    await b.client.close();
  }
  await stopAll(3000);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`alloc-ab failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
