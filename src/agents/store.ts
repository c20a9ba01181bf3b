// Run rows in Weir_AgentRun: creating, reading, the state moves (each one conditional on the state it
// leaves, so two instances can never both move a run), claiming queued runs for an instance, and the
// leases an instance holds its runs by. Every instance on one database shares this queue.
import { randomBytes } from 'node:crypto';
import pg, { escapeLiteral } from 'pg';
import { withTx } from '../admin/db';
import { runKeyAlias } from './run-key';
import { FINAL_STATUSES, type ErrorKind, type ProfileDef, type RunStatus } from './types';

const T = '"Weir_AgentRun"';

export interface RunRow {
  id: string;
  job_name: string | null;
  profile_name: string;
  profile: ProfileDef;
  prompt: string;
  input: unknown;
  trigger: string;
  trigger_ref: string | null;
  idempotency_key: string | null;
  status: RunStatus;
  error_kind: ErrorKind | null;
  error_message: string | null;
  attempt: number;
  retry_of: string | null;
  team_id: string | null;
  user_id: string | null;
  starter_token: string | null;
  key_token: string | null;
  max_budget: number | null;
  cost: number | null;
  result: string | null;
  num_turns: number | null;
  session_id: string | null;
  exit_code: number | null;
  sandbox_id: string | null;
  /** cold | warm (a warm pool's sandbox), and the time the sandbox took to be had. */
  sandbox_start: string | null;
  sandbox_start_ms: number | null;
  instance_id: string | null;
  lease_until: Date | null;
  cancel_requested: boolean;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
}

export interface NewRun {
  job_name: string | null;
  profile: ProfileDef;
  prompt: string;
  input: unknown;
  trigger: 'api' | 'cron' | 'webhook' | 'retry';
  trigger_ref: string | null;
  idempotency_key: string | null;
  status: 'queued' | 'skipped';
  team_id: string | null;
  user_id: string | null;
  starter_token: string | null;
  max_budget: number | null;
  retry_of?: string | null;
  error_message?: string | null;
  expires_at?: Date | null;
  attempt?: number;
}

function newRunId(): string {
  return `run_${randomBytes(12).toString('hex')}`;
}

export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

const RUN_COLUMNS = `id, job_name, profile_name, profile, prompt, input, trigger, trigger_ref, idempotency_key, status,
        team_id, user_id, starter_token, max_budget, retry_of, error_message, queued_at, finished_at, expires_at, attempt`;
const COLUMNS_PER_RUN = 20;

function runValues(id: string, r: NewRun, now: Date): unknown[] {
  const final = FINAL_STATUSES.has(r.status);
  return [id, r.job_name, r.profile.name, JSON.stringify(r.profile), r.prompt, r.input === undefined ? null : JSON.stringify(r.input), r.trigger, r.trigger_ref,
    r.idempotency_key, r.status, r.team_id, r.user_id, r.starter_token, r.max_budget, r.retry_of ?? null, r.error_message ?? null, now, final ? now : null, r.expires_at ?? null, r.attempt ?? 1];
}

/** Inserts a run; with an idempotency key already used (same job/starter), returns that run instead. */
export async function insertRun(db: Queryable, r: NewRun, now: Date): Promise<{ run: RunRow; created: boolean }> {
  return (await insertRuns(db, [{ run: r, now }]))[0]!;
}

/**
 * Inserts runs arriving together in one statement (a fan-out's POSTs hold one connection, not one
 * each); a run whose idempotency key was used already (before, or earlier in the same batch)
 * returns that run instead.
 */
export async function insertRuns(db: Queryable, runs: { run: NewRun; now: Date }[]): Promise<{ run: RunRow; created: boolean }[]> {
  const ids = runs.map(() => newRunId());
  const values = runs.flatMap((r, i) => runValues(ids[i]!, r.run, r.now));
  const rows = runs.map((_, i) => `(${Array.from({ length: COLUMNS_PER_RUN }, (_, c) => `$${i * COLUMNS_PER_RUN + c + 1}`).join(',')})`);
  const res = await db.query<RunRow>(`INSERT INTO ${T} (${RUN_COLUMNS}) VALUES ${rows.join(',')} ON CONFLICT DO NOTHING RETURNING *`, values);
  const made = new Map(res.rows.map((row) => [row.id, row]));
  const out: { run: RunRow; created: boolean }[] = [];
  for (let i = 0; i < runs.length; i++) {
    const row = made.get(ids[i]!);
    out.push(row ? { run: row, created: true } : { run: await existingRun(db, runs[i]!.run), created: false });
  }
  return out;
}

async function existingRun(db: Queryable, r: NewRun): Promise<RunRow> {
  const existing = await db.query<RunRow>(
    `SELECT * FROM ${T} WHERE idempotency_key = $1 AND COALESCE(job_name, '') = COALESCE($2, '') AND COALESCE(starter_token, '') = COALESCE($3, '')`,
    [r.idempotency_key, r.job_name, r.starter_token],
  );
  if (!existing.rows[0]) throw new Error('run insert conflicted on an id that is not there');
  return existing.rows[0];
}

export async function getRun(db: Queryable, id: string): Promise<RunRow | null> {
  const r = await db.query<RunRow>(`SELECT * FROM ${T} WHERE id = $1`, [id]);
  return r.rows[0] ?? null;
}

export interface RunFilter {
  job?: string;
  status?: string;
  /** Only runs of this team or user (a non-admin caller). */
  owner?: { team_id: string | null; user_id: string | null };
  limit: number;
  /** Runs to skip first (the pages after the first). */
  offset?: number;
}

export async function listRuns(db: Queryable, f: RunFilter): Promise<RunRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    args.push(v);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (f.job) add('job_name = ?', f.job);
  if (f.status) add('status = ?', f.status);
  if (f.owner) {
    if (f.owner.team_id) add('team_id = ?', f.owner.team_id);
    else add('user_id = ?', f.owner.user_id ?? '');
  }
  args.push(f.limit, f.offset ?? 0);
  const r = await db.query<RunRow>(
    `SELECT * FROM ${T} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY queued_at DESC, id DESC LIMIT $${args.length - 1} OFFSET $${args.length}`,
    args,
  );
  return r.rows;
}

/** Runs of a job not yet finished (queued, provisioning or running), oldest first. */
export async function activeRunsOfJob(db: Queryable, job: string): Promise<RunRow[]> {
  const r = await db.query<RunRow>(`SELECT * FROM ${T} WHERE job_name = $1 AND status IN ('queued','provisioning','running') ORDER BY queued_at`, [job]);
  return r.rows;
}

export interface ClaimLimits {
  instanceId: string;
  leaseMs: number;
  /** Runs this instance may still start (max_concurrent_runs minus what it runs). */
  room: number;
  /** Concurrency limit of a job (queue policy); null for runs without a job. */
  jobLimit(job: string): number;
  /** Runs a sandbox may hold at once, over every instance (Infinity when unset). */
  sandboxLimit(sandbox: string): number;
}

/**
 * Takes up to `room` queued runs for this instance. One transaction under an advisory lock, so the
 * per-job and per-sandbox counts it checks cannot change under it on another instance; a run is
 * claimed by exactly one instance (its status moves from queued only here). `drained` says the
 * queue held nothing this instance could take beyond what it took.
 */
export async function claimQueued(pool: pg.Pool, lim: ClaimLimits, now: Date): Promise<{ runs: RunRow[]; drained: boolean }> {
  if (lim.room <= 0) return { runs: [], drained: false };
  // Four round trips: BEGIN with the lock, what the choice needs, the claim, COMMIT. Three happen
  // under the lock, which serialises every instance's claims.
  return withTx(pool, async ({ client }) => {
    // One simple query of three statements (their values are constants and an escaped literal),
    // each with a snapshot taken after the lock. Only what the choice needs: a fan-out's claims
    // each look at every run still queued, and whole rows (profile, prompt, input) made that
    // quadratic in parsing. A session's messages run one at a time, in the order they came: a
    // session with a run in flight, or whose earlier queued run was not taken now, takes none.
    const [queued, busy, inFlight] = (await client.query(
      `SELECT r.id, r.job_name, r.profile->>'sandbox' AS sandbox, l.session_id AS session_ref FROM ${T} r LEFT JOIN "Weir_AgentSessionRun" l ON l.run_id = r.id
        WHERE r.status = 'queued' AND (r.expires_at IS NULL OR r.expires_at > ${escapeLiteral(wallTime(now))}::timestamp) ORDER BY r.queued_at, r.id LIMIT ${CLAIM_WINDOW};
       SELECT job_name, profile->>'sandbox' AS sandbox, count(*) AS n FROM ${T} WHERE status IN ('provisioning','running') GROUP BY 1, 2;
       SELECT DISTINCT l.session_id FROM ${T} r JOIN "Weir_AgentSessionRun" l ON l.run_id = r.id WHERE r.status IN ('provisioning','running')`,
    )) as unknown as [
      pg.QueryResult<{ id: string; job_name: string | null; sandbox: string; session_ref: string | null }>,
      pg.QueryResult<{ job_name: string | null; sandbox: string; n: string }>,
      pg.QueryResult<{ session_id: string }>,
    ];
    if (queued.rows.length === 0) return { runs: [], drained: true };
    const perJob = new Map<string, number>();
    const perSandbox = new Map<string, number>();
    const sessions = new Set(inFlight.rows.map((x) => x.session_id));
    for (const b of busy.rows) {
      if (b.job_name) perJob.set(b.job_name, (perJob.get(b.job_name) ?? 0) + Number(b.n));
      perSandbox.set(b.sandbox, (perSandbox.get(b.sandbox) ?? 0) + Number(b.n));
    }
    const take: string[] = [];
    for (const run of queued.rows) {
      if (take.length >= lim.room) break;
      if (run.session_ref) {
        if (sessions.has(run.session_ref)) continue;
        sessions.add(run.session_ref);
      }
      if (run.job_name && (perJob.get(run.job_name) ?? 0) >= lim.jobLimit(run.job_name)) continue;
      const sb = run.sandbox;
      if ((perSandbox.get(sb) ?? 0) >= lim.sandboxLimit(sb)) continue;
      take.push(run.id);
      if (run.job_name) perJob.set(run.job_name, (perJob.get(run.job_name) ?? 0) + 1);
      perSandbox.set(sb, (perSandbox.get(sb) ?? 0) + 1);
    }
    // Looked at past the runs that fit, so a job at its limit with a long queue does not hold up
    // the runs of other jobs behind it (up to CLAIM_WINDOW queued runs ahead).
    const drained = take.length === queued.rows.length && queued.rows.length < CLAIM_WINDOW;
    if (take.length === 0) return { runs: [], drained };
    const claimed = await client.query<RunRow>(
      `UPDATE ${T} SET status = 'provisioning', instance_id = $2, lease_until = $3, started_at = NULL
       WHERE id = ANY($1) AND status = 'queued' RETURNING *`,
      [take, lim.instanceId, new Date(now.getTime() + lim.leaseMs)],
    );
    return { runs: claimed.rows, drained };
  }, `SELECT pg_advisory_xact_lock(${CLAIM_LOCK})`);
}

/** A Date as the UTC wall time LiteLLM's TIMESTAMP columns hold (a literal of a simple query). */
function wallTime(d: Date): string {
  return d.toISOString().slice(0, 23).replace('T', ' ');
}

/** Queued runs one claim looks at, oldest first. */
const CLAIM_WINDOW = 1000;

/** Any fixed number: serialises claims across instances. */
const CLAIM_LOCK = 0x5745_4952_41; // "WEIRA"

/** Moves a run from one of `from` to `to`; false when it was not in one of them any more. */
export async function moveRun(db: Queryable, id: string, from: RunStatus[], to: RunStatus, set: Partial<Record<keyof RunRow, unknown>> = {}): Promise<RunRow | null> {
  const cols = Object.keys(set);
  const vals = Object.values(set).map((v) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v));
  const assigns = cols.map((c, i) => `${c} = $${i + 4}`);
  const r = await db.query<RunRow>(
    `UPDATE ${T} SET status = $2${assigns.length ? ', ' + assigns.join(', ') : ''} WHERE id = $1 AND status = ANY($3) RETURNING *`,
    [id, to, from, ...vals],
  );
  return r.rows[0] ?? null;
}

/** Sets fields of a run without moving it. */
export async function updateRun(db: Queryable, id: string, set: Partial<Record<keyof RunRow, unknown>>): Promise<void> {
  const cols = Object.keys(set);
  if (!cols.length) return;
  const vals = Object.values(set).map((v) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v));
  await db.query(`UPDATE ${T} SET ${cols.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`, [id, ...vals]);
}

export interface RunningMove {
  id: string;
  started_at: Date;
  sandbox_id: string;
  sandbox_start: 'cold' | 'warm' | null;
  sandbox_start_ms: number | null;
  /** The run key's hash, set here too: the start does not wait for its early recording. */
  key_token: string;
}

/**
 * Moves runs from provisioning to running, with their sandbox: one statement for the runs that
 * start together. Answers, in order, whether each moved (false: the run was taken from this
 * instance, or canceled, meanwhile).
 */
export async function markRunning(db: Queryable, runs: RunningMove[]): Promise<boolean[]> {
  if (!runs.length) return [];
  const r = await db.query<{ id: string }>(
    `UPDATE ${T} AS r SET status = 'running', started_at = (d.started_at AT TIME ZONE 'UTC'), sandbox_id = d.sandbox_id, sandbox_start = d.sandbox_start, sandbox_start_ms = d.sandbox_start_ms, key_token = d.key_token
       FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::text[]) AS d(id, started_at, sandbox_id, sandbox_start, sandbox_start_ms, key_token)
      WHERE r.id = d.id AND r.status = 'provisioning' RETURNING r.id`,
    [runs.map((m) => m.id), runs.map((m) => m.started_at.toISOString()), runs.map((m) => m.sandbox_id), runs.map((m) => m.sandbox_start), runs.map((m) => m.sandbox_start_ms), runs.map((m) => m.key_token)],
  );
  const moved = new Set(r.rows.map((x) => x.id));
  return runs.map((m) => moved.has(m.id));
}

export interface FinishMove {
  id: string;
  status: RunStatus;
  /** What the agent left; null when it never ran (the row keeps what it has, e.g. an earlier attempt's). */
  agent: { exit_code: number | null; result: string | null; num_turns: number | null; session_id: string | null } | null;
  cost: number | null;
  error_kind: ErrorKind | null;
  error_message: string | null;
  finished_at: Date;
}

/**
 * Moves runs from provisioning or running to their final status, with their outcome: one statement
 * for the runs that end together (each moved only from a state in flight, as moveRun does).
 * Answers, in order, each run's row as moved, or null when it was not in flight any more.
 */
export async function markFinished(db: Queryable, moves: FinishMove[]): Promise<(RunRow | null)[]> {
  if (!moves.length) return [];
  const col = <T>(f: (m: FinishMove) => T) => moves.map(f);
  const r = await db.query<RunRow>(
    `UPDATE ${T} AS r SET status = d.status,
            exit_code = CASE WHEN d.agent THEN d.exit_code ELSE r.exit_code END, result = CASE WHEN d.agent THEN d.result ELSE r.result END,
            num_turns = CASE WHEN d.agent THEN d.num_turns ELSE r.num_turns END, session_id = CASE WHEN d.agent THEN d.session_id ELSE r.session_id END,
            cost = d.cost, error_kind = d.error_kind, error_message = d.error_message, finished_at = (d.finished_at AT TIME ZONE 'UTC'), lease_until = NULL
       FROM unnest($1::text[], $2::text[], $3::bool[], $4::int[], $5::text[], $6::int[], $7::text[], $8::float8[], $9::text[], $10::text[], $11::timestamptz[])
            AS d(id, status, agent, exit_code, result, num_turns, session_id, cost, error_kind, error_message, finished_at)
      WHERE r.id = d.id AND r.status IN ('provisioning','running') RETURNING r.*`,
    [
      col((m) => m.id), col((m) => m.status), col((m) => m.agent !== null), col((m) => m.agent?.exit_code ?? null), col((m) => m.agent?.result ?? null),
      col((m) => m.agent?.num_turns ?? null), col((m) => m.agent?.session_id ?? null), col((m) => m.cost), col((m) => m.error_kind), col((m) => m.error_message),
      col((m) => m.finished_at.toISOString()),
    ],
  );
  const moved = new Map(r.rows.map((row) => [row.id, row]));
  return moves.map((m) => moved.get(m.id) ?? null);
}

/** What the run keys spent, as the spend writer committed it: one statement for the runs ending together. */
export async function keySpends(db: Queryable, tokens: string[]): Promise<number[]> {
  if (!tokens.length) return [];
  const r = await db.query<{ token: string; spend: number }>(`SELECT token, spend FROM "LiteLLM_VerificationToken" WHERE token = ANY($1)`, [tokens]);
  const by = new Map(r.rows.map((x) => [x.token, Number(x.spend ?? 0)]));
  return tokens.map((t) => by.get(t) ?? 0);
}

/** Records the keys of runs minted together: one statement for the batch. */
export async function setKeyTokens(db: Queryable, runs: { id: string; token: string }[]): Promise<void> {
  if (!runs.length) return;
  await db.query(`UPDATE ${T} AS r SET key_token = d.token FROM unnest($1::text[], $2::text[]) AS d(id, token) WHERE r.id = d.id`, [runs.map((r) => r.id), runs.map((r) => r.token)]);
}

/** Extends the leases of the runs this instance holds; answers which of them were asked to cancel. */
export async function renewLeases(db: Queryable, instanceId: string, ids: string[], until: Date): Promise<{ id: string; cancel_requested: boolean }[]> {
  if (!ids.length) return [];
  const r = await db.query<{ id: string; cancel_requested: boolean }>(
    `UPDATE ${T} SET lease_until = $3 WHERE id = ANY($1) AND instance_id = $2 AND status IN ('provisioning','running') RETURNING id, cancel_requested`,
    [ids, instanceId, until],
  );
  return r.rows;
}

/**
 * Runs in flight that nobody holds any more: this instance's own after a restart (whatever their
 * lease says: the process that held them is gone), and any instance's whose lease ran out.
 */
export async function orphanedRuns(db: Queryable, instanceId: string, now: Date): Promise<RunRow[]> {
  const r = await db.query<RunRow>(
    `SELECT * FROM ${T} WHERE status IN ('provisioning','running') AND (instance_id = $1 OR lease_until IS NULL OR lease_until < $2)`,
    [instanceId, now],
  );
  return r.rows;
}

/**
 * Takes a run another instance (or this one before a restart) held: only if its holder and lease are
 * still what was read, so of two instances cleaning up at once exactly one gets it.
 */
export async function takeOver(db: Queryable, run: RunRow, instanceId: string, until: Date): Promise<RunRow | null> {
  const r = await db.query<RunRow>(
    `UPDATE ${T} SET instance_id = $2, lease_until = $3
      WHERE id = $1 AND status IN ('provisioning','running') AND instance_id IS NOT DISTINCT FROM $4 AND lease_until IS NOT DISTINCT FROM $5
      RETURNING *`,
    [run.id, instanceId, until, run.instance_id, run.lease_until],
  );
  return r.rows[0] ?? null;
}

/** Queued runs past their expiry end as `expired`. */
export async function expireQueued(db: Queryable, now: Date): Promise<RunRow[]> {
  const r = await db.query<RunRow>(
    `UPDATE ${T} SET status = 'expired', finished_at = $1, error_message = 'not started before it expired' WHERE status = 'queued' AND expires_at IS NOT NULL AND expires_at < $1 RETURNING *`,
    [now],
  );
  return r.rows;
}

/** A run as the API shows it. */
export function runView(r: RunRow, publicUrl: string | null): Record<string, unknown> {
  const base = publicUrl ? publicUrl.replace(/\/+$/, '') : '';
  return {
    id: r.id,
    object: 'agent.run',
    job: r.job_name,
    profile: r.profile_name,
    agent: r.profile.agent,
    model: r.profile.model ?? null,
    status: r.status,
    error: r.error_kind || (r.error_message && r.status !== 'succeeded') ? { kind: r.error_kind, message: r.error_message } : null,
    cost: r.cost,
    max_budget: r.max_budget,
    result: r.result,
    num_turns: r.num_turns,
    session_id: r.session_id,
    exit_code: r.exit_code,
    sandbox: r.sandbox_id ? { id: r.sandbox_id, start: r.sandbox_start ?? null, start_ms: r.sandbox_start_ms ?? null } : null,
    trigger: r.trigger,
    trigger_ref: r.trigger_ref,
    attempt: r.attempt,
    retry_of: r.retry_of,
    team_id: r.team_id,
    user_id: r.user_id,
    key_alias: r.key_token ? runKeyAlias(r.id, r.attempt) : null,
    queued_at: r.queued_at?.toISOString() ?? null,
    expires_at: r.expires_at?.toISOString() ?? null,
    started_at: r.started_at?.toISOString() ?? null,
    finished_at: r.finished_at?.toISOString() ?? null,
    links: {
      self: `${base}/v1/agent/runs/${r.id}`,
      events: `${base}/v1/agent/runs/${r.id}/events`,
      artifacts: `${base}/v1/agent/runs/${r.id}/artifacts`,
    },
  };
}
