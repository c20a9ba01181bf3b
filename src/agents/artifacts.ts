// A run's artifacts (transcripts, files the agent left) in Weir_AgentArtifact, under one cap per
// run: an artifact gets what its run's other artifacts left of `maxBytes`, and is cut (and marked
// truncated) beyond that. Saving under an existing name replaces it. Saves of one run take an
// advisory lock for their transaction, so two at once cannot both spend the same room.
import { createHash } from 'node:crypto';
import { escapeLiteral, type Pool } from 'pg';
import { withTx } from '../admin/db';

export interface ArtifactInfo {
  name: string;
  kind: string;
  size: number;
  /** Of the bytes stored (what a client downloads). */
  sha256: string;
  truncated: boolean;
}

/** The first key of the two-key advisory lock: "artifacts of a run" (the second is the run's hash). */
const LOCK_SPACE = 0x57a1;
const MAX_NAME_CHARS = 255;

function checkText(what: string, v: string): void {
  if (v.length === 0 || v.length > MAX_NAME_CHARS || v.includes('\u0000')) {
    throw new Error(`artifact ${what} must be 1 to ${MAX_NAME_CHARS} characters without NUL`);
  }
}

/**
 * Four round trips: BEGIN with the run's lock, the room, the row, COMMIT. (One statement for the
 * room, the cut and the row made three, but PostgreSQL plans it slower than these two take together.)
 */
export async function saveArtifact(pool: Pool, runId: string, name: string, kind: string, content: Buffer, maxBytes: number): Promise<{ size: number; sha256: string; truncated: boolean }> {
  checkText('name', name);
  checkText('kind', kind);
  // BEGIN and the lock as one simple query (the run id goes as an escaped literal): one round trip.
  const lock = `SELECT pg_advisory_xact_lock(${LOCK_SPACE}, hashtext(${escapeLiteral(runId)}))`;
  return withTx(pool, async ({ client }) => {
    // After the lock, in a statement of its own: its snapshot sees every save the lock waited for.
    const { rows } = await client.query<{ used: string | null }>('SELECT sum(size) AS used FROM "Weir_AgentArtifact" WHERE run_id = $1 AND name <> $2', [runId, name]);
    const room = Math.max(0, Math.floor(maxBytes) - Number(rows[0]?.used ?? 0));
    const truncated = content.length > room;
    const stored = truncated ? content.subarray(0, room) : content;
    const sha256 = createHash('sha256').update(stored).digest('hex');
    await client.query(
      `INSERT INTO "Weir_AgentArtifact" (run_id, name, kind, size, sha256, truncated, content) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (run_id, name) DO UPDATE SET kind = EXCLUDED.kind, size = EXCLUDED.size, sha256 = EXCLUDED.sha256,
         truncated = EXCLUDED.truncated, content = EXCLUDED.content, created_at = CURRENT_TIMESTAMP`,
      [runId, name, kind, stored.length, sha256, truncated, stored],
    );
    return { size: stored.length, sha256, truncated };
  }, lock);
}

/** The run's artifacts without their bytes, oldest first. */
export async function listArtifacts(pool: Pool, runId: string): Promise<ArtifactInfo[]> {
  const { rows } = await pool.query<ArtifactInfo>(
    'SELECT name, kind, size, sha256, truncated FROM "Weir_AgentArtifact" WHERE run_id = $1 ORDER BY created_at, name',
    [runId],
  );
  return rows;
}

export async function getArtifact(pool: Pool, runId: string, name: string): Promise<{ kind: string; content: Buffer } | null> {
  const { rows } = await pool.query<{ kind: string; content: Buffer }>('SELECT kind, content FROM "Weir_AgentArtifact" WHERE run_id = $1 AND name = $2', [runId, name]);
  return rows[0] ?? null;
}
