// The moves of runs on a real PostgreSQL. Their claim: four round trips whatever the queue holds
// (three under the claim lock), within the room, the job and sandbox limits, with expired runs
// left out. Their end, for runs that end together: their keys' spend read and their final moves
// made in one statement each for the whole batch (a 64-run fan-out's ends were 64 UPDATEs and 64
// SELECTs), each run moved only from a state in flight, and a run whose agent never ran keeping
// what an earlier attempt left on its row.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { Batched } from '../../src/agents/batch';
import { claimQueued, insertRuns, keySpends, markFinished, type FinishMove, type NewRun, type RunRow } from '../../src/agents/store';
import type { ProfileDef } from '../../src/agents/types';
import { recordStatements } from '../support/pool-statements';
import { stopTestPostgres } from '../support/postgres';
import { agentDb } from './agents-events-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

const PROFILE = { name: 'p', agent: 'command', sandbox: 'local', timeout_ms: 60_000 } as unknown as ProfileDef;

function newRun(i: number): NewRun {
  return { job_name: null, profile: PROFILE, prompt: `run ${i}`, input: {}, trigger: 'api', trigger_ref: null, idempotency_key: null, status: 'queued', team_id: null, user_id: null, starter_token: null, max_budget: null };
}

/** The statements a pool is asked to run, counted. */
function counted(pool: pg.Pool): { db: Pick<pg.Pool, 'query'>; statements: () => number } {
  let n = 0;
  const db = { query: ((...args: Parameters<pg.Pool['query']>) => (n++, (pool.query as (...a: unknown[]) => unknown)(...args))) as pg.Pool['query'] };
  return { db, statements: () => n };
}

test('a claim: four round trips (BEGIN with the lock, one for the choice, the claim, COMMIT), within its room and limits, expired runs left out', async () => {
  const { pool } = await agentDb('agent_run_claims', cleanups);
  const now = new Date('2026-12-05T15:00:00.000Z');
  const made = await insertRuns(pool, Array.from({ length: 12 }, (_, i) => ({ run: { ...newRun(i), job_name: i < 6 ? 'nightly' : null }, now: new Date(now.getTime() + i) })));
  const ids = made.map((r) => r.run.id);
  // One of the job's runs is in flight already; one run's ttl has passed.
  await pool.query(`UPDATE "Weir_AgentRun" SET status = 'running' WHERE id = $1`, [ids[0]]);
  await pool.query(`UPDATE "Weir_AgentRun" SET expires_at = $2 WHERE id = $1`, [ids[7], new Date(now.getTime() - 1)]);
  const sent = await recordStatements(pool);
  const limits = { instanceId: 'i1', leaseMs: 60_000, room: 5, jobLimit: () => 2, sandboxLimit: () => Infinity };
  const { runs, drained } = await claimQueued(pool, limits, now);
  assert.equal(sent.length, 4, sent.join('\n---\n'));
  assert.match(sent[0]!, /^BEGIN; SELECT pg_advisory_xact_lock/);
  assert.equal(sent[3], 'COMMIT');
  // The job's limit of 2 leaves it one more (ids[1]); then the runs without a job, oldest first, but the expired one.
  assert.deepEqual(runs.map((r) => r.id), [ids[1], ids[6], ids[8], ids[9], ids[10]]);
  assert.ok(runs.every((r) => r.status === 'provisioning' && r.instance_id === 'i1'));
  assert.equal(drained, false, 'runs it could not take are still queued');
});

test('64 runs ending together: one statement for their keys\' spend and one for their final moves, each its own outcome', async () => {
  const { pool } = await agentDb('agent_run_moves', cleanups);
  const runs = (await insertRuns(pool, Array.from({ length: 64 }, (_, i) => ({ run: newRun(i), now: new Date() })))).map((r) => r.run);
  // 62 in flight; one still queued and one already canceled: neither may move.
  await pool.query(`UPDATE "Weir_AgentRun" SET status = CASE WHEN id = ANY($1) THEN 'running' ELSE 'provisioning' END WHERE id <> ALL($2)`, [runs.slice(0, 31).map((r) => r.id), [runs[62]!.id, runs[63]!.id]]);
  await pool.query(`UPDATE "Weir_AgentRun" SET status = 'canceled' WHERE id = $1`, [runs[63]!.id]);
  await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, spend) SELECT 'tok-' || g, g / 100.0 FROM generate_series(0, 63) g`);

  const { db, statements } = counted(pool);
  const spends = new Batched<string, number>((tokens) => keySpends(db, tokens));
  const finishes = new Batched<FinishMove, RunRow | null>((moves) => markFinished(db, moves));
  const at = new Date('2026-12-05T15:00:00.123Z');
  // Asked in one turn, as runs passing the end gate together do (the runtime's Batched).
  const costs = await Promise.all(runs.map((_, i) => spends.one(`tok-${i}`)));
  const out = await Promise.all(
    runs.map((r, i) =>
      finishes.one({ id: r.id, status: i % 2 ? 'failed' : 'succeeded', agent: { exit_code: i % 2, result: `result ${i}`, num_turns: i, session_id: null }, cost: costs[i]!, error_kind: i % 2 ? 'agent_error' : null, error_message: i % 2 ? `exit ${i}` : null, finished_at: at }),
    ),
  );
  assert.equal(statements(), 2, 'one SELECT of the spends, one UPDATE of the moves');
  assert.equal(out[62], null, 'a queued run is not in flight');
  assert.equal(out[63], null, 'an ended run is not moved again');
  for (let i = 0; i < 62; i++) {
    const row = out[i]!;
    assert.equal(row.id, runs[i]!.id);
    assert.equal(row.status, i % 2 ? 'failed' : 'succeeded');
    assert.equal(row.exit_code, i % 2);
    assert.equal(row.result, `result ${i}`);
    assert.equal(row.num_turns, i);
    assert.ok(Math.abs(row.cost! - i / 100) < 1e-9, `cost of ${i}: ${row.cost}`);
    assert.equal(row.error_message, i % 2 ? `exit ${i}` : null);
    assert.equal(row.lease_until, null);
    assert.equal(row.finished_at?.toISOString(), at.toISOString());
  }
  const canceled = await pool.query<{ status: string }>(`SELECT status FROM "Weir_AgentRun" WHERE id = $1`, [runs[63]!.id]);
  assert.equal(canceled.rows[0]!.status, 'canceled');
});

test("a run whose agent never ran keeps the outcome an earlier attempt left on its row; a key with no row spent 0", async () => {
  const { pool } = await agentDb('agent_run_moves_kept', cleanups);
  const [{ run }] = await insertRuns(pool, [{ run: newRun(0), now: new Date() }]);
  await pool.query(`UPDATE "Weir_AgentRun" SET status = 'provisioning', exit_code = 3, result = 'first attempt', num_turns = 2 WHERE id = $1`, [run!.id]);
  const [row] = await markFinished(pool, [{ id: run!.id, status: 'failed', agent: null, cost: null, error_kind: 'sandbox_error', error_message: 'no sandbox', finished_at: new Date() }]);
  assert.equal(row!.status, 'failed');
  assert.equal(row!.exit_code, 3);
  assert.equal(row!.result, 'first attempt');
  assert.equal(row!.num_turns, 2);
  assert.equal(row!.error_kind, 'sandbox_error');
  assert.deepEqual(await keySpends(pool, ['no-such-token']), [0]);
});
