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

/** The cap as the statement takes it: whole bytes, within an int (a BYTEA holds at most 1 GB anyway). */
function roomOf(maxBytes: number): number {
  return Number.isNaN(maxBytes) ? 0 : Math.min(2 ** 31 - 1, Math.max(0, Math.floor(maxBytes)));
}

/**
 * Three round trips: BEGIN with the run's lock, the save, COMMIT. The save is one statement after
 * the lock (its snapshot sees every save the lock waited for): the run's room, the cut, the row and
 * what was stored, computed by PostgreSQL. The hash of the whole content is Weir's (what fits is
 * stored whole, the usual case); a cut one's is PostgreSQL's `sha256`.
 */
export async function saveArtifact(pool: Pool, runId: string, name: string, kind: string, content: Buffer, maxBytes: number): Promise<{ size: number; sha256: string; truncated: boolean }> {
  checkText('name', name);
  checkText('kind', kind);
  const whole = createHash('sha256').update(content).digest('hex');
  // BEGIN and the lock as one simple query (the run id goes as an escaped literal): one round trip.
  const lock = `SELECT pg_advisory_xact_lock(${LOCK_SPACE}, hashtext(${escapeLiteral(runId)}))`;
  return withTx(pool, async ({ client }) => {
    const { rows } = await client.query<{ size: number; sha256: string; truncated: boolean }>(
      `WITH room AS (
         SELECT greatest(0, $6::bigint - coalesce(sum(size), 0))::int AS n FROM "Weir_AgentArtifact" WHERE run_id = $1 AND name <> $2
       ), cut AS (
         SELECT length($4::bytea) > n AS truncated, CASE WHEN length($4::bytea) > n THEN substring($4::bytea from 1 for n) ELSE $4::bytea END AS content FROM room
       )
       INSERT INTO "Weir_AgentArtifact" (run_id, name, kind, size, sha256, truncated, content)
       SELECT $1, $2, $3, length(content), CASE WHEN truncated THEN encode(sha256(content), 'hex') ELSE $5 END, truncated, content FROM cut
       ON CONFLICT (run_id, name) DO UPDATE SET kind = EXCLUDED.kind, size = EXCLUDED.size, sha256 = EXCLUDED.sha256,
         truncated = EXCLUDED.truncated, content = EXCLUDED.content, created_at = CURRENT_TIMESTAMP
       RETURNING size, sha256, truncated`,
      [runId, name, kind, content, whole, roomOf(maxBytes)],
    );
    const saved = rows[0]!;
    return { size: Number(saved.size), sha256: saved.sha256, truncated: saved.truncated };
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
