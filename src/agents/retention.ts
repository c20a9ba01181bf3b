// Retention of run events and artifacts: once a run finished more than `retention_days` ago its
// events and artifacts go (the run row stays: it is small and the spend and history point at it),
// except the run a session that has not ended resumes from (session-state.ts): its artifacts hold
// the session's state, and stay (one run's worth per live session) until the session ends.
// Everything is bounded: the runs that still have rows are found by walking the primary key's
// leading column (one index probe per run, not a scan of the table), at most WALK of them per
// query, and rows are deleted at most BATCH per statement, so a big table is never locked for long.
import type pg from 'pg';

const WALK = 500;
const BATCH = 10_000;
const DAY_MS = 86_400_000;

/** The tables swept, both keyed by (run_id, …). */
const TABLES = { events: '"Weir_AgentRunEvent"', artifacts: '"Weir_AgentArtifact"' } as const;

export async function sweepRetention(pool: pg.Pool, days: number, now: Date): Promise<{ events: number; artifacts: number }> {
  if (!Number.isFinite(days) || days < 0) throw new Error(`retention days must be a number ≥ 0 (got ${days})`);
  // TIMESTAMP columns hold UTC: compare with the UTC text (a Date would be sent in local time).
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  return {
    events: await sweepTable(pool, TABLES.events, cutoff),
    artifacts: await sweepTable(pool, TABLES.artifacts, cutoff),
  };
}

async function sweepTable(pool: pg.Pool, table: string, cutoff: string): Promise<number> {
  let deleted = 0;
  let after = '';
  for (;;) {
    // The next WALK run ids that have rows here (a skip scan: each step one probe of the index),
    // with whether their run finished before the cutoff.
    const { rows } = await pool.query<{ run_id: string; expired: boolean | null }>(
      `WITH RECURSIVE walk(run_id) AS (
         (SELECT run_id FROM ${table} WHERE run_id > $1 ORDER BY run_id LIMIT 1)
         UNION ALL
         SELECT (SELECT t.run_id FROM ${table} t WHERE t.run_id > walk.run_id ORDER BY t.run_id LIMIT 1)
         FROM walk WHERE walk.run_id IS NOT NULL
       )
       SELECT w.run_id, r.finished_at < $2::timestamp
              -- The state a live session resumes from stays until the session ends.
              AND NOT EXISTS (SELECT 1 FROM "Weir_AgentSession" s WHERE s.state_run_id = w.run_id AND s.status <> 'ended') AS expired
       FROM (SELECT run_id FROM walk WHERE run_id IS NOT NULL LIMIT ${WALK}) w
       LEFT JOIN "Weir_AgentRun" r ON r.id = w.run_id
       ORDER BY w.run_id`,
      [after, cutoff],
    );
    const expired = rows.filter((r) => r.expired === true).map((r) => r.run_id);
    if (expired.length) deleted += await deleteRows(pool, table, expired);
    if (rows.length < WALK) return deleted;
    after = rows[rows.length - 1]!.run_id;
  }
}

async function deleteRows(pool: pg.Pool, table: string, runIds: string[]): Promise<number> {
  let deleted = 0;
  for (;;) {
    const r = await pool.query(`DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE run_id = ANY($1::text[]) LIMIT ${BATCH}))`, [runIds]);
    deleted += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) < BATCH) return deleted;
  }
}
