// What a fan-out's claims and artifact saves cost the control thread, build against build (issue
// 10): `node dist/native-bench/agent-statements-cpu.js [--rounds R] NAME=DIST [NAME=DIST …]`.
// One PostgreSQL and one database with Weir's schema; every build's `store` and `artifacts`
// modules loaded side by side in this process. Per round and build, in an order that rotates every
// round: 64 queued runs, claimed one per call (as a fan-out's dispatcher rounds take them), then 128
// artifact saves of 2 KB. Per step: this process's CPU time (getrusage: what the control thread pays
// for building, sending and reading the statements; PostgreSQL's own time is not in it) and the
// wall time. Medians over the rounds after the first four (warm-up), builds side by side.
import path from 'node:path';
import { createPool } from '../src/db/pool';
import { ensureSchema } from '../src/db/schema';
import { freshDatabase, stopTestPostgres } from '../test/support/postgres';
import { median } from './stats';

type Store = typeof import('../src/agents/store');
type Artifacts = typeof import('../src/agents/artifacts');

const WARM_UP = 4;
const RUNS = 64;
const SAVES = 128;

interface Step {
  cpuMs: number;
  wallMs: number;
}

async function timed(fn: () => Promise<void>): Promise<Step> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let rounds = 20;
  const builds: Array<{ name: string; store: Store; artifacts: Artifacts }> = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else {
      const [name, dist] = args[i]!.split('=');
      const at = path.resolve(dist ?? path.resolve(__dirname, '..'));
      builds.push({ name: name!, store: require(path.join(at, 'src/agents/store.js')), artifacts: require(path.join(at, 'src/agents/artifacts.js')) });
    }
  }
  if (!builds.length || !(rounds > WARM_UP)) throw new Error(`usage: agent-statements-cpu.js [--rounds R>${WARM_UP}] NAME=DIST [NAME=DIST …]`);
  const pool = createPool(await freshDatabase('agent_statements_cpu'));
  await ensureSchema(pool);
  const profile = { name: 'p', agent: 'command', sandbox: 'local', timeout_ms: 60_000 } as never;
  const samples = new Map(builds.map((b) => [b.name, { claims: [] as Step[], saves: [] as Step[] }]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < builds.length; k++) {
        const b = builds[(round + k) % builds.length]!;
        await pool.query('DELETE FROM "Weir_AgentRun"; DELETE FROM "Weir_AgentArtifact"');
        const runs = Array.from({ length: RUNS }, (_, i) => ({
          run: { job_name: null, profile, prompt: `run ${i}`, input: {}, trigger: 'api', trigger_ref: null, idempotency_key: null, status: 'queued', team_id: null, user_id: null, starter_token: null, max_budget: null },
          now: new Date(),
        }));
        await builds[0]!.store.insertRuns(pool, runs as never);
        const limits = { instanceId: 'bench', leaseMs: 60_000, room: 1, jobLimit: () => RUNS, sandboxLimit: () => Infinity };
        const claims = await timed(async () => {
          for (let i = 0; i < RUNS; i++) await b.store.claimQueued(pool, limits, new Date());
        });
        const saves = await timed(async () => {
          for (let i = 0; i < SAVES; i++) await b.artifacts.saveArtifact(pool, `run${i % RUNS}`, `a${i}`, 'file', Buffer.alloc(2048, i), 1 << 20);
        });
        if (round >= WARM_UP) {
          samples.get(b.name)!.claims.push(claims);
          samples.get(b.name)!.saves.push(saves);
        }
      }
    }
  } finally {
    await pool.end();
    await stopTestPostgres();
  }
  console.log(`${rounds - WARM_UP} rounds (after ${WARM_UP} of warm-up), medians`);
  console.log('build         64 claims: CPU ms   wall ms    128 saves: CPU ms   wall ms');
  for (const b of builds) {
    const s = samples.get(b.name)!;
    const col = (xs: Step[], f: (x: Step) => number) => median(xs.map(f)).toFixed(1).padStart(8);
    console.log(`${b.name.padEnd(12)}  ${col(s.claims, (x) => x.cpuMs)}         ${col(s.claims, (x) => x.wallMs)}   ${col(s.saves, (x) => x.cpuMs)}         ${col(s.saves, (x) => x.wallMs)}`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
