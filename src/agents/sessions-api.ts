// /v1/agent/sessions: make a session (`{"profile"}`), list and read them (runs, cost, transcript),
// send one a message (`{"prompt"}`: a run that resumes it, 202), end one (DELETE). A session
// belongs to the key that made it, as a run does: its team's keys (a key without a team: its
// user's) see it and may message it; any other caller gets a 404, as for an unknown session.
import type pg from 'pg';
import type { AgentCall } from '../gateway/agent-relay';
import { AgentApiError } from './api-error';
import { parseJson } from './api-body';
import { intParam, str, type ApiAnswer, type Who } from './api';
import type { Catalog } from './catalog';
import { listSessions, runsOfSession, sessionTotals, sessionView, type SessionRow } from './session-store';
import type { Sessions } from './sessions';
import { runView } from './store';
import { TerminalSizeError, sizeFromQuery } from './terminal-size';

export interface SessionsApiDeps {
  pool: pg.Pool;
  catalog: Catalog;
  sessions: Sessions;
  publicUrl(): string | null;
}

const STATUSES = ['active', 'idle', 'ended'];
/** Runs listed with a session (the latest ones). */
const RUNS_SHOWN = 100;

function ownsSession(who: Who, s: SessionRow): boolean {
  if (who.admin) return true;
  if (who.team_id) return s.team_id === who.team_id;
  return s.team_id === null && s.user_id !== null && s.user_id === who.user_id;
}

async function view(d: SessionsApiDeps, s: SessionRow, withRuns: boolean): Promise<Record<string, unknown>> {
  const v = sessionView(s, await sessionTotals(d.pool, s.id), d.publicUrl());
  if (!withRuns) return v;
  const runs = await runsOfSession(d.pool, s.id, RUNS_SHOWN);
  return {
    ...v,
    messages: runs.map((r) => ({
      run_id: r.id, status: r.status, prompt: r.prompt, result: r.result, cost: r.cost,
      error: r.error_kind || (r.error_message && r.status !== 'succeeded') ? { kind: r.error_kind, message: r.error_message } : null,
      queued_at: r.queued_at.toISOString(), finished_at: r.finished_at?.toISOString() ?? null,
    })),
  };
}

/** The transcript the agent keeps for the whole conversation: the latest one a run of the session saved. */
async function transcript(pool: pg.Pool, sessionId: string): Promise<Buffer | null> {
  const r = await pool.query<{ content: Buffer }>(
    `SELECT a.content FROM "Weir_AgentSessionRun" l JOIN "Weir_AgentRun" r ON r.id = l.run_id
       JOIN "Weir_AgentArtifact" a ON a.run_id = l.run_id AND a.kind = 'transcript'
      WHERE l.session_id = $1 ORDER BY r.queued_at DESC, r.id DESC LIMIT 1`,
    [sessionId],
  );
  return r.rows[0]?.content ?? null;
}

export async function sessionsApi(d: SessionsApiDeps, who: Who, call: AgentCall, rest: string[], q: URLSearchParams): Promise<ApiAnswer> {
  const m = call.method;
  if (rest.length === 0) {
    if (m === 'POST') {
      const body = parseJson(call);
      const name = str(body.profile, 'profile', true) as string;
      const maxBudget = body.max_budget;
      if (maxBudget !== undefined && (typeof maxBudget !== 'number' || !(maxBudget > 0) || maxBudget > 1e9)) throw new AgentApiError(400, '"max_budget" must be a number of USD > 0', 'max_budget');
      const profile = await d.catalog.find('profile', name);
      if (!profile) throw new AgentApiError(404, `unknown profile "${name}"`, 'profile');
      const s = await d.sessions.create(profile, who.keyHash, (maxBudget as number | undefined) ?? profile.max_budget);
      return { status: 201, body: await view(d, s, false) };
    }
    if (m === 'GET') {
      const status = q.get('status') ?? undefined;
      if (status && !STATUSES.includes(status)) throw new AgentApiError(400, `"status" must be one of ${STATUSES.join(', ')}`, 'status');
      const rows = await listSessions(d.pool, { status, limit: intParam(q, 'limit', 50, 100), owner: who.admin ? undefined : { team_id: who.team_id, user_id: who.user_id } });
      return { status: 200, body: { object: 'list', data: await Promise.all(rows.map((s) => view(d, s, false))) } };
    }
    throw new AgentApiError(405, `${m} is not served on /v1/agent/sessions; use GET or POST`);
  }
  const id = decodeURIComponent(rest[0]!);
  const s = await d.sessions.get(id);
  if (!s || !ownsSession(who, s)) throw new AgentApiError(404, `unknown session "${id}"`, 'id');
  const sub = rest.slice(1);
  if (sub.length === 0) {
    if (m === 'GET') return { status: 200, body: await view(d, s, true) };
    if (m === 'DELETE') {
      const ended = await d.sessions.end(s);
      if (!ended) throw new AgentApiError(409, `session ${s.id} has already ended`, 'id');
      return { status: 200, body: { deleted: true, ...(await view(d, ended, false)) } };
    }
    throw new AgentApiError(405, `${m} is not served on a session; use GET or DELETE`);
  }
  if (sub.length === 1 && sub[0] === 'messages') {
    if (m !== 'POST') throw new AgentApiError(405, 'messages are POSTed');
    const body = parseJson(call);
    const prompt = str(body.prompt, 'prompt', true) as string;
    const idem = call.headers['idempotency-key'] ?? null;
    if (idem !== null && (idem.length === 0 || idem.length > 255)) throw new AgentApiError(400, 'Idempotency-Key must be 1 to 255 characters', 'Idempotency-Key');
    const { run, created } = await d.sessions.message(s, prompt, who.keyHash, idem);
    return { status: created ? 202 : 200, body: { ...runView(run, d.publicUrl()), session: s.id }, headers: created ? [] : ['idempotent-replayed', 'true'] };
  }
  if (sub.length === 1 && sub[0] === 'attach' && m === 'GET') {
    // The worker asks before it upgrades the request to a WebSocket (terminal.ts runs it).
    try {
      sizeFromQuery(q);
    } catch (e) {
      if (e instanceof TerminalSizeError) throw new AgentApiError(400, e.message, e.param);
      throw e;
    }
    if (s.status === 'ended') throw new AgentApiError(409, `session ${s.id} has ended; start a new session`, 'id');
    const def = await d.catalog.find('sandbox', s.profile.sandbox);
    if (!def) throw new AgentApiError(409, `session ${s.id}: its sandbox "${s.profile.sandbox}" no longer exists`, 'id');
    return { status: 200, body: { attach: true, session: s.id } };
  }
  if (sub.length === 1 && sub[0] === 'transcript' && m === 'GET') {
    const t = await transcript(d.pool, s.id);
    if (!t) throw new AgentApiError(404, `session ${s.id} has no transcript yet`, 'id');
    return { status: 200, body: new Uint8Array(t), headers: ['content-type', 'application/x-ndjson'] };
  }
  throw new AgentApiError(404, `Route not found: ${m} ${call.path}`);
}
