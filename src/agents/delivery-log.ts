// Webhook deliveries seen, by the id the sender gives each one (X-GitHub-Delivery, webhook-id), so
// that a sender's retry or a replayed request starts no second run — on any instance, because the
// primary key (job_name, delivery_id) decides, not memory.
import type pg from 'pg';

/** Records a delivery: true the first time, false for a replay (already recorded). */
export async function recordDelivery(pool: pg.Pool, jobName: string, deliveryId: string, receivedAt: Date = new Date()): Promise<boolean> {
  const r = await pool.query(
    `INSERT INTO "Weir_AgentDelivery" (job_name, delivery_id, received_at) VALUES ($1, $2, $3)
     ON CONFLICT (job_name, delivery_id) DO NOTHING`,
    [jobName, deliveryId, receivedAt.toISOString()],
  );
  return r.rowCount === 1;
}

/** The run a recorded delivery started (shown for a replay, and kept for audits). */
export async function attachRun(pool: pg.Pool, jobName: string, deliveryId: string, runId: string): Promise<void> {
  await pool.query(`UPDATE "Weir_AgentDelivery" SET run_id = $3 WHERE job_name = $1 AND delivery_id = $2`, [jobName, deliveryId, runId]);
}

/** The run a delivery started, or null (not recorded, or recorded and no run attached yet). */
export async function deliveryRun(pool: pg.Pool, jobName: string, deliveryId: string): Promise<string | null> {
  const r = await pool.query<{ run_id: string | null }>(`SELECT run_id FROM "Weir_AgentDelivery" WHERE job_name = $1 AND delivery_id = $2`, [jobName, deliveryId]);
  return r.rows[0]?.run_id ?? null;
}

/**
 * Forgets a delivery whose run could not be created (the answer was an error), so the sender's
 * redelivery is served instead of being taken for a replay.
 */
export async function forgetDelivery(pool: pg.Pool, jobName: string, deliveryId: string): Promise<void> {
  await pool.query(`DELETE FROM "Weir_AgentDelivery" WHERE job_name = $1 AND delivery_id = $2 AND run_id IS NULL`, [jobName, deliveryId]);
}

/** Deletes deliveries received before `olderThan` (senders do not redeliver after days); how many. */
export async function pruneDeliveries(pool: pg.Pool, olderThan: Date): Promise<number> {
  const r = await pool.query(`DELETE FROM "Weir_AgentDelivery" WHERE received_at < $1`, [olderThan.toISOString()]);
  return r.rowCount ?? 0;
}
