// Retention of run events and artifacts on a real PostgreSQL: only runs finished before the cutoff
// lose them (running runs, recent runs and rows of unknown runs stay), run rows stay, big runs go
// in several bounded statements, and more runs than one walk holds are all swept.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { sweepRetention } from '../../src/agents/retention';
import { stopTestPostgres } from '../support/postgres';
import { agentDb } from './agents-events-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

const NOW = new Date('2026-06-15T12:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

async function run(pool: pg.Pool, id: string, finishedAt: string | null): Promise<void> {
  await pool.query(
    `INSERT INTO "Weir_AgentRun" (id, profile_name, profile, prompt, trigger, status, finished_at) VALUES ($1, 'p', '{}', 'x', 'api', $2, $3::timestamp)`,
    [id, finishedAt ? 'succeeded' : 'running', finishedAt],
  );
}

async function events(pool: pg.Pool, runId: string, n: number): Promise<void> {
  await pool.query(`INSERT INTO "Weir_AgentRunEvent" (run_id, seq, ts, type, payload) SELECT $1, g, now(), 'stdout', to_jsonb(g) FROM generate_series(1, $2::int) g`, [runId, n]);
}

async function artifact(pool: pg.Pool, runId: string, name: string): Promise<void> {
  await pool.query(`INSERT INTO "Weir_AgentArtifact" (run_id, name, kind, size, sha256, content) VALUES ($1, $2, 'file', 1, 'x', '\\x00')`, [runId, name]);
}

async function count(pool: pg.Pool, table: string, runId: string): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${table}" WHERE run_id = $1`, [runId]);
  return rows[0].n;
}

test('events and artifacts of runs finished before the cutoff go; everything else stays', async () => {
  const { pool } = await agentDb('retention_basic', cleanups);
  await run(pool, 'old', daysAgo(10));
  await run(pool, 'edge', daysAgo(7.001));
  await run(pool, 'recent', daysAgo(6.999));
  await run(pool, 'running', null);
  // 25,000 rows: deleted in three statements of at most 10,000.
  await events(pool, 'old', 25_000);
  for (const id of ['edge', 'recent', 'running', 'unknown']) await events(pool, id, 3);
  for (const id of ['old', 'edge', 'recent', 'running']) {
    await artifact(pool, id, 'a');
    await artifact(pool, id, 'b');
  }
  assert.deepEqual(await sweepRetention(pool, 7, NOW), { events: 25_003, artifacts: 4 });
  for (const [id, ev, art] of [['old', 0, 0], ['edge', 0, 0], ['recent', 3, 2], ['running', 3, 2], ['unknown', 3, 0]] as const) {
    assert.equal(await count(pool, 'Weir_AgentRunEvent', id), ev, `events of ${id}`);
    assert.equal(await count(pool, 'Weir_AgentArtifact', id), art, `artifacts of ${id}`);
  }
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "Weir_AgentRun"`);
  assert.equal(rows[0].n, 4, 'run rows stay');
  assert.deepEqual(await sweepRetention(pool, 7, NOW), { events: 0, artifacts: 0 });
  // 0 days: everything finished before now.
  assert.deepEqual(await sweepRetention(pool, 0, NOW), { events: 3, artifacts: 2 });
});

test('more runs than one walk takes, expired and kept interleaved: every expired one is swept', async () => {
  const { pool } = await agentDb('retention_many', cleanups);
  await pool.query(
    `INSERT INTO "Weir_AgentRun" (id, profile_name, profile, prompt, trigger, status, finished_at)
     SELECT 'run-' || lpad(g::text, 5, '0'), 'p', '{}', 'x', 'api', 'succeeded', $1::timestamp - (CASE WHEN g % 3 = 0 THEN interval '1 day' ELSE interval '30 days' END)
     FROM generate_series(1, 1_300) g`,
    [NOW.toISOString()],
  );
  await pool.query(`INSERT INTO "Weir_AgentRunEvent" (run_id, seq, ts, type) SELECT id, s, now(), 'stdout' FROM "Weir_AgentRun", generate_series(1, 2) s`);
  const kept = 433; // g % 3 = 0 for g in 1…1300
  assert.deepEqual(await sweepRetention(pool, 7, NOW), { events: (1_300 - kept) * 2, artifacts: 0 });
  const { rows } = await pool.query(`SELECT count(DISTINCT run_id)::int AS n FROM "Weir_AgentRunEvent"`);
  assert.equal(rows[0].n, kept);
});

test('a negative or non-numeric number of days is refused', async () => {
  const { pool } = await agentDb('retention_bad', cleanups);
  await assert.rejects(sweepRetention(pool, -1, NOW), /retention days/);
  await assert.rejects(sweepRetention(pool, Number.NaN, NOW), /retention days/);
});
