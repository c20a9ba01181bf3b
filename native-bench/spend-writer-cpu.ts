// The spend writer's cost per row, measured so a busy machine cannot spoil it (issue 15):
// `node dist/native-bench/spend-writer-cpu.js [--records N] [--repeats R] [NAME=DIST …]`.
// One PostgreSQL (startPostgres(), as the bench runs it); per repeat and build, in an order that
// rotates every repeat, a fresh database and a child process that loads THAT build's journal writer,
// reader and spend writer (a `dist` with the repository's package.json and node_modules beside
// it; default: this build), journals N records of the governed bench's shape, and times one
// flushNow() that commits them all: the same reader, rows and SQL the control thread runs.
//
// Per row: the child's main thread on-CPU time (/proc/thread-self/schedstat, ns: what the control
// thread pays), the whole process (getrusage: V8's GC helper threads too), and the JS heap
// allocated (v8.GCProfiler: the heap's growth between GCs, summed). On-CPU time does not count
// the time the thread waits for PostgreSQL or for a core, so it moves far less with the machine's
// load than latency does; the medians of the repeats are reported, old and new side by side.
// PostgreSQL's own CPU over the same flush (the postmaster and every backend, /proc) is reported
// beside it: the statements' cost on the server's side.
// WEIR_SWCPU_PROFILE=FILE writes a CPU profile of each child's timed flush (the last child's stays).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import type { SpendRecord } from '../src/accounting/spend-record';
import { rec } from '../test/support/journal-record';
import { createDatabase } from '../test/support/postgres';
import { pinNote, runBuildChild } from './build-child';
import { median } from './stats';
import { childrenNamed, threadNs, treeCpuMicros } from './procfs';

interface Sample {
  rows: number;
  transactions: number;
  threadNs: number;
  processUs: number;
  /** CPU of PostgreSQL's processes over the timed flush, µs. */
  postgresUs: number;
  heapBytes: number;
  gcs: number;
  peakHeapBytes: number;
  /** The child's resident-memory high-water mark (VmHWM), warm-up included. */
  peakRssBytes: number;
}

const HERE_DIST = path.resolve(__dirname, '..');

/** A record as the governed bench's calls journal it: a virtual key, a priced deployment, ~8 calls per ms. */
function benchRecord(i: number, key: string, t0: number): SpendRecord {
  const start = t0 + Math.floor(i / 8);
  return rec(i, {
    request_id: `chatcmpl-${crypto.randomBytes(12).toString('hex')}`,
    call_id: crypto.randomUUID(),
    api_key: key,
    spend_nanos: 21_000 + (i % 7) * 1000,
    prompt_tokens: 13,
    completion_tokens: 4 + (i % 5),
    start_ms: start,
    end_ms: start + 1,
    completion_start_ms: start + 1,
    model: 'bench-gpt',
    model_id: 'c1f5e0d2a9b84e7f',
    model_group: 'bench-gpt',
    api_base: 'http://127.0.0.1:40123/v1',
    session_id: crypto.randomUUID(),
    overhead_ms: 0.05 + (i % 10) / 100,
  });
}

/** Starts V8's CPU profiler (WEIR_SWCPU_PROFILE=FILE: the flush alone, for finding where its time goes). */
async function startCpuProfile(): Promise<() => Promise<object>> {
  const { Session } = require('node:inspector') as typeof import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r as Record<string, unknown>))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  return async () => {
    const r = await post('Profiler.stop');
    session.disconnect();
    return r.profile as object;
  };
}

/** In the child: journal, warm up, then time one flush of `records` rows with `dist`'s code. */
async function child(dist: string, url: string, records: number): Promise<Sample> {
  const req = (p: string) => require(path.join(dist, p)) as Record<string, unknown>;
  const { createPool } = req('src/db/pool.js') as { createPool(url: string): import('pg').Pool };
  const { ensureSchema } = req('src/db/schema.js') as { ensureSchema(p: import('pg').Pool): Promise<void> };
  const { SpendWriter } = req('src/db/spend-writer.js') as unknown as { SpendWriter: typeof import('../src/db/spend-writer').SpendWriter };
  const { JournalWriter } = req('src/accounting/journal.js') as unknown as { JournalWriter: typeof import('../src/accounting/journal').JournalWriter };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-swcpu-'));
  const pool = createPool(url);
  try {
    await ensureSchema(pool);
    const key = crypto.createHash('sha256').update('sk-bench').digest('hex');
    await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, models, spend, max_budget) VALUES ($1, '{}', 0, 1000)`, [key]);
    const sw = new SpendWriter(pool, dir);
    const journal = new JournalWriter(dir, 'worker_1');
    const t0 = Date.now() - 60_000;
    // Warm-up: the first flush reads the schema and gets the code optimised.
    for (let i = 0; i < 3000; i++) journal.append(benchRecord(i, key, t0));
    const warm = await sw.flushNow();
    if (!warm.ok) throw new Error(`warm-up flush failed: ${warm.error}`);
    for (let i = 0; i < records; i++) journal.append(benchRecord(3000 + i, key, t0));
    journal.rotate();
    (globalThis as { gc?: () => void }).gc?.();

    // The parent started PostgreSQL: its postmaster is a sibling of this child.
    const postmaster = childrenNamed(process.ppid, 'postgres')[0];
    const pgCpu = () => (postmaster === undefined ? NaN : treeCpuMicros(postmaster));
    const profiler = new v8.GCProfiler();
    const heap0 = v8.getHeapStatistics().used_heap_size;
    const pg0 = pgCpu();
    const cpu0 = process.cpuUsage();
    const ns0 = threadNs();
    const cpuProfile = process.env.WEIR_SWCPU_PROFILE ? await startCpuProfile() : null;
    profiler.start();
    const res = await sw.flushNow();
    const stats = profiler.stop();
    if (cpuProfile) fs.writeFileSync(process.env.WEIR_SWCPU_PROFILE!, JSON.stringify(await cpuProfile()));
    const ns1 = threadNs();
    const cpu1 = process.cpuUsage(cpu0);
    const pg1 = pgCpu();
    const heap1 = v8.getHeapStatistics().used_heap_size;
    if (!res.ok) throw new Error(`flush failed: ${res.error}`);

    // Allocated = what the heap grew by between collections, summed (plus the tail after the last).
    let allocated = 0;
    let after = heap0;
    let peak = heap0;
    for (const g of stats.statistics) {
      const before = g.beforeGC.heapStatistics.usedHeapSize;
      allocated += Math.max(0, before - after);
      peak = Math.max(peak, before);
      after = g.afterGC.heapStatistics.usedHeapSize;
    }
    allocated += Math.max(0, heap1 - after);
    peak = Math.max(peak, heap1);

    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "LiteLLM_SpendLogs"`);
    if (Number(rows[0]!.n) !== records + 3000) throw new Error(`expected ${records + 3000} rows, found ${rows[0]!.n}`);
    return {
      rows: res.records,
      transactions: res.transactions,
      threadNs: ns1 - ns0,
      processUs: cpu1.user + cpu1.system,
      postgresUs: pg1 - pg0,
      heapBytes: allocated,
      gcs: stats.statistics.length,
      peakHeapBytes: peak,
      peakRssBytes: Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024,
    };
  } finally {
    await pool.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(dist: string, url: string, records: number): Promise<Sample> {
  return runBuildChild<Sample>(__filename, [dist, url, String(records)], ['--expose-gc']);
}

async function main(argv: string[]): Promise<number> {
  let records = 20_000;
  let repeats = 5;
  const builds: { name: string; dist: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--records') records = Number(argv[++i]);
    else if (a === '--repeats') repeats = Number(argv[++i]);
    else if (a.includes('=')) builds.push({ name: a.slice(0, a.indexOf('=')), dist: path.resolve(a.slice(a.indexOf('=') + 1)) });
    else {
      process.stderr.write('usage: node dist/native-bench/spend-writer-cpu.js [--records N] [--repeats R] [NAME=DIST …]\n');
      return 2;
    }
  }
  if (!(records >= 1) || !(repeats >= 1)) throw new Error('--records and --repeats must be ≥ 1');
  if (builds.length === 0) builds.push({ name: 'this', dist: HERE_DIST });
  const { startPostgres } = require('../test/support/postgres') as typeof import('../test/support/postgres');
  const server = await startPostgres();
  const samples = new Map<string, Sample[]>(builds.map((b) => [b.name, []]));
  try {
    for (let r = 0; r < repeats; r++) {
      for (let k = 0; k < builds.length; k++) {
        const b = builds[(r + k) % builds.length]!;
        const url = await createDatabase(server.url, `swcpu_${b.name.replace(/\W/g, '_')}_${r}`, true);
        const s = await runChild(b.dist, url, records);
        samples.get(b.name)!.push(s);
        process.stderr.write(
          `repeat ${r + 1} ${b.name}: ${(s.threadNs / 1000 / s.rows).toFixed(2)} µs/row thread, ${(s.processUs / s.rows).toFixed(2)} µs/row process, ${(s.postgresUs / s.rows).toFixed(2)} µs/row PostgreSQL, ` +
            `${(s.heapBytes / s.rows).toFixed(0)} B/row heap, ${s.gcs} GCs, ${s.transactions} transactions, load ${os.loadavg()[0]!.toFixed(1)}\n`,
        );
      }
    }
  } finally {
    await server.stop();
  }
  const lines = [
    `${records} rows a flush, ${repeats} repeats, ${pinNote()}, medians [min…max]`,
    '| build | control thread µs/row | process µs/row | PostgreSQL µs/row | heap allocated B/row | peak heap MB | peak RSS MB | GCs |',
    '| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const fmt = (xs: number[], d: number) => `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}…${Math.max(...xs).toFixed(d)}]`;
  for (const b of builds) {
    const ss = samples.get(b.name)!;
    lines.push(
      `| ${b.name} | ${fmt(ss.map((s) => s.threadNs / 1000 / s.rows), 2)} | ${fmt(ss.map((s) => s.processUs / s.rows), 2)} | ${fmt(ss.map((s) => s.postgresUs / s.rows), 2)} | ${fmt(ss.map((s) => s.heapBytes / s.rows), 0)} | ${fmt(ss.map((s) => s.peakHeapBytes / 1e6), 1)} | ${fmt(ss.map((s) => s.peakRssBytes / 1e6), 1)} | ${median(ss.map((s) => s.gcs))} |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

if (process.argv[2] === '--child') {
  const [, , , dist, url, n] = process.argv;
  child(dist!, url!, Number(n)).then(
    (s) => {
      process.stdout.write(JSON.stringify(s));
      process.exit(0);
    },
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
} else {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
