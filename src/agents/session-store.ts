// Session rows in Weir_AgentSession and the runs that are their messages (Weir_AgentSessionRun).
// A session is a conversation with an agent that outlives one run: each message is a run, queued
// like any other, that resumes what the session's last run left (session-state.ts). Status:
// `active` (messages taken), `idle` (reaped after idle_timeout: its state is kept and the next
// message makes it active again) and `ended` (DELETE: no more messages).
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from './store';
import type { ProfileDef } from './types';

const T = '"Weir_AgentSession"';
const LINKS = '"Weir_AgentSessionRun"';

export type SessionStatus = 'active' | 'idle' | 'ended';

export interface SessionRow {
  id: string;
  profile_name: string;
  profile: ProfileDef;
  job_name: string | null;
  session_key: string | null;
  status: SessionStatus;
  team_id: string | null;
  user_id: string | null;
  owner_token: string | null;
  max_budget: number | null;
  agent_session_id: string | null;
  state_run_id: string | null;
  state_error: string | null;
  created_at: Date;
  last_active_at: Date;
  ended_at: Date | null;
}

export interface NewSession {
  profile: ProfileDef;
  job_name: string | null;
  session_key: string | null;
  team_id: string | null;
  user_id: string | null;
  owner_token: string | null;
  max_budget: number | null;
}

export function newSessionId(): string {
  return `ses_${randomBytes(12).toString('hex')}`;
}

export async function insertSession(db: Queryable, s: NewSession, now: Date): Promise<SessionRow> {
  const r = await db.query<SessionRow>(
    `INSERT INTO ${T} (id, profile_name, profile, job_name, session_key, status, team_id, user_id, owner_token, max_budget, created_at, last_active_at)
     VALUES ($1,$2,$3,$4,$5,'active',$6,$7,$8,$9,$10,$10) RETURNING *`,
    [newSessionId(), s.profile.name, JSON.stringify(s.profile), s.job_name, s.session_key, s.team_id, s.user_id, s.owner_token, s.max_budget, now],
  );
  return r.rows[0]!;
}

export async function getSession(db: Queryable, id: string): Promise<SessionRow | null> {
  const r = await db.query<SessionRow>(`SELECT * FROM ${T} WHERE id = $1`, [id]);
  return r.rows[0] ?? null;
}

/** The job's session for this key that has not ended, if any (the caller holds the job's key lock). */
export async function sessionOfKey(db: Queryable, job: string, key: string): Promise<SessionRow | null> {
  const r = await db.query<SessionRow>(`SELECT * FROM ${T} WHERE job_name = $1 AND session_key = $2 AND status <> 'ended' ORDER BY created_at DESC LIMIT 1`, [job, key]);
  return r.rows[0] ?? null;
}

export async function listSessions(db: Queryable, f: { owner?: { team_id: string | null; user_id: string | null }; status?: string; limit: number }): Promise<SessionRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    args.push(v);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (f.status) add('status = ?', f.status);
  if (f.owner) {
    if (f.owner.team_id) add('team_id = ?', f.owner.team_id);
    else add('user_id = ?', f.owner.user_id ?? '');
  }
  args.push(f.limit);
  const r = await db.query<SessionRow>(`SELECT * FROM ${T} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${args.length}`, args);
  return r.rows;
}

/** Records that a run is this session's message (in the transaction that queues the run). */
export async function linkRun(db: Queryable, runId: string, sessionId: string): Promise<void> {
  await db.query(`INSERT INTO ${LINKS} (run_id, session_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [runId, sessionId]);
}

/** The session a run belongs to, if it is a session's message. */
export async function sessionOfRun(db: Queryable, runId: string): Promise<SessionRow | null> {
  const r = await db.query<SessionRow>(`SELECT s.* FROM ${LINKS} l JOIN ${T} s ON s.id = l.session_id WHERE l.run_id = $1`, [runId]);
  return r.rows[0] ?? null;
}

/** The sessions of many runs (null for a run that is no session's message), in order: one query. */
export async function sessionsOfRuns(db: Queryable, runIds: string[]): Promise<(SessionRow | null)[]> {
  if (!runIds.length) return [];
  const r = await db.query<SessionRow & { run_id: string }>(`SELECT l.run_id, s.* FROM ${LINKS} l JOIN ${T} s ON s.id = l.session_id WHERE l.run_id = ANY($1)`, [runIds]);
  const by = new Map<string, SessionRow>();
  for (const { run_id, ...s } of r.rows) by.set(run_id, s as SessionRow);
  return runIds.map((id) => by.get(id) ?? null);
}

export interface SessionRunSummary {
  id: string;
  status: string;
  prompt: string;
  result: string | null;
  cost: number | null;
  error_kind: string | null;
  error_message: string | null;
  queued_at: Date;
  finished_at: Date | null;
}

/** A session's runs, oldest first (at most `limit`, the latest ones). */
export async function runsOfSession(db: Queryable, sessionId: string, limit: number): Promise<SessionRunSummary[]> {
  const r = await db.query<SessionRunSummary>(
    `SELECT * FROM (
       SELECT r.id, r.status, r.prompt, r.result, r.cost, r.error_kind, r.error_message, r.queued_at, r.finished_at
         FROM ${LINKS} l JOIN "Weir_AgentRun" r ON r.id = l.run_id
        WHERE l.session_id = $1 ORDER BY r.queued_at DESC, r.id DESC LIMIT $2) x
     ORDER BY queued_at, id`,
    [sessionId, limit],
  );
  return r.rows;
}

/** Runs and spend of a session, over all its runs. */
export async function sessionTotals(db: Queryable, sessionId: string): Promise<{ runs: number; cost: number; active: number }> {
  const r = await db.query<{ runs: string; cost: number | null; active: string }>(
    `SELECT count(*) AS runs, sum(r.cost) AS cost, count(*) FILTER (WHERE r.status IN ('queued','provisioning','running')) AS active
       FROM ${LINKS} l JOIN "Weir_AgentRun" r ON r.id = l.run_id WHERE l.session_id = $1`,
    [sessionId],
  );
  const row = r.rows[0];
  return { runs: Number(row?.runs ?? 0), cost: Number(row?.cost ?? 0), active: Number(row?.active ?? 0) };
}

/** Runs of the session not finished yet (queued first in order, then the one in flight). */
export async function openRunsOfSession(db: Queryable, sessionId: string): Promise<{ id: string; status: string }[]> {
  const r = await db.query<{ id: string; status: string }>(
    `SELECT r.id, r.status FROM ${LINKS} l JOIN "Weir_AgentRun" r ON r.id = l.run_id
      WHERE l.session_id = $1 AND r.status IN ('queued','provisioning','running') ORDER BY r.queued_at, r.id`,
    [sessionId],
  );
  return r.rows;
}

/** After a run of the session: what the next one resumes (or why it cannot). */
export async function recordState(db: Queryable, sessionId: string, set: { agent_session_id?: string | null; state_run_id?: string | null; state_error: string | null }, now: Date): Promise<void> {
  await db.query(
    `UPDATE ${T} SET agent_session_id = COALESCE($2, agent_session_id), state_run_id = COALESCE($3, state_run_id), state_error = $4, last_active_at = $5 WHERE id = $1`,
    [sessionId, set.agent_session_id ?? null, set.state_run_id ?? null, set.state_error, now],
  );
}

/** A message arrived: the session is active again (an idle one wakes up); false when it has ended. */
export async function touchSession(db: Queryable, sessionId: string, now: Date): Promise<boolean> {
  const r = await db.query(`UPDATE ${T} SET status = 'active', last_active_at = $2 WHERE id = $1 AND status <> 'ended'`, [sessionId, now]);
  return (r.rowCount ?? 0) > 0;
}

export async function endSession(db: Queryable, sessionId: string, now: Date): Promise<SessionRow | null> {
  const r = await db.query<SessionRow>(`UPDATE ${T} SET status = 'ended', ended_at = $2 WHERE id = $1 AND status <> 'ended' RETURNING *`, [sessionId, now]);
  return r.rows[0] ?? null;
}

/**
 * Active sessions idle since before `cutoff` with no run in flight or queued become `idle`;
 * returns them (at most `limit` per call, oldest first).
 */
export async function reapIdle(pool: pg.Pool, cutoff: Date, limit: number): Promise<SessionRow[]> {
  const r = await pool.query<SessionRow>(
    `UPDATE ${T} s SET status = 'idle'
      WHERE s.id IN (
        SELECT id FROM ${T} WHERE status = 'active' AND last_active_at < $1 ORDER BY last_active_at LIMIT $2)
        AND NOT EXISTS (SELECT 1 FROM ${LINKS} l JOIN "Weir_AgentRun" r ON r.id = l.run_id
                         WHERE l.session_id = s.id AND r.status IN ('queued','provisioning','running'))
      RETURNING s.*`,
    [cutoff, limit],
  );
  return r.rows;
}

/** A session as the API shows it. */
export function sessionView(s: SessionRow, totals: { runs: number; cost: number; active: number }, publicUrl: string | null): Record<string, unknown> {
  const base = publicUrl ? publicUrl.replace(/\/+$/, '') : '';
  return {
    id: s.id,
    object: 'agent.session',
    profile: s.profile_name,
    agent: s.profile.agent,
    model: s.profile.model ?? null,
    job: s.job_name,
    session_key: s.session_key,
    status: s.status,
    busy: totals.active > 0,
    agent_session_id: s.agent_session_id,
    state_error: s.state_error,
    runs: totals.runs,
    cost: totals.cost,
    max_budget: s.max_budget,
    team_id: s.team_id,
    user_id: s.user_id,
    created_at: s.created_at.toISOString(),
    last_active_at: s.last_active_at.toISOString(),
    ended_at: s.ended_at?.toISOString() ?? null,
    links: {
      self: `${base}/v1/agent/sessions/${s.id}`,
      messages: `${base}/v1/agent/sessions/${s.id}/messages`,
      transcript: `${base}/v1/agent/sessions/${s.id}/transcript`,
    },
  };
}
