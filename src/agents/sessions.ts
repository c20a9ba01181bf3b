// Sessions on the control thread: making one, sending it a message (a run that resumes it, queued
// behind the session's earlier messages: see claimQueued), ending one (its queued and running
// messages canceled), a job's session per key, and the reaper that marks sessions idle after
// `idle_timeout` with no message (their state stays; the next message wakes them).
import type pg from 'pg';
import { withTx } from '../admin/db';
import { AgentApiError } from './api-error';
import type { StartRequest } from './run-starter';
import { checkModel, loadStarter } from './run-key';
import { endSession, getSession, insertSession, openRunsOfSession, reapIdle, sessionOfKey, touchSession, type SessionRow } from './session-store';
import { getRun, type RunRow } from './store';
import { renderPrompt } from './template';
import type { JobDef, ProfileDef } from './types';

export interface SessionsDeps {
  pool: pg.Pool;
  start(req: StartRequest): Promise<{ run: RunRow; created: boolean }>;
  cancel(run: RunRow): Promise<void>;
  /** idle_timeout, read at each reap (a config reload may change it). */
  idleMs(): number;
  now(): Date;
  /** The session ended or went idle: its live terminal, if any, ends. */
  closeTerminal?(sessionId: string, why: string): void;
}

/** Sessions one reaper round marks idle at most (the next round takes the rest). */
const REAP_BATCH = 500;

export class Sessions {
  constructor(private readonly d: SessionsDeps) {}

  /** A new session of `profile` for the calling key (null: the master key or an open proxy). */
  async create(profile: ProfileDef, keyHash: string | null, maxBudget: number | undefined): Promise<SessionRow> {
    const starter = await loadStarter(this.d.pool, keyHash, null);
    checkModel(starter, profile.model);
    return insertSession(this.d.pool, {
      profile, job_name: null, session_key: null, team_id: starter.team_id, user_id: starter.user_id, owner_token: starter.token, max_budget: maxBudget ?? null,
    }, this.d.now());
  }

  /** Queues a run that resumes the session; 409 when the session has ended. */
  async message(session: SessionRow, prompt: string, keyHash: string | null, idempotencyKey: string | null): Promise<{ run: RunRow; created: boolean }> {
    if (!(await touchSession(this.d.pool, session.id, this.d.now()))) throw new AgentApiError(409, `session ${session.id} has ended; start a new session`, 'id');
    return this.d.start({
      job: null, profile: session.profile, prompt, input: { session: session.id }, trigger: 'api', triggerRef: keyHash, idempotencyKey, keyHash,
      maxBudget: session.max_budget ?? undefined, sessionId: session.id,
    });
  }

  /** Ends the session: no more messages, its open runs canceled. Null when it had already ended. */
  async end(session: SessionRow): Promise<SessionRow | null> {
    const ended = await endSession(this.d.pool, session.id, this.d.now());
    if (!ended) return null;
    this.d.closeTerminal?.(session.id, 'the session ended');
    for (const open of await openRunsOfSession(this.d.pool, session.id)) {
      const run = await getRun(this.d.pool, open.id);
      if (run) await this.d.cancel(run);
    }
    return ended;
  }

  /**
   * The session a job's run continues (one per rendered `session_key`), made on its first use; null
   * when the job keeps no sessions. A key that does not render (a field the payload lacks) is a 400.
   */
  async forJob(job: JobDef, profile: ProfileDef, vars: Record<string, unknown>): Promise<string | null> {
    if (!job.session_key) return null;
    const r = renderPrompt(job.session_key, vars);
    if (!r.ok) throw new AgentApiError(400, `session_key: ${r.message}`, 'session_key');
    const key = r.text.trim();
    if (!key || key.length > 255) throw new AgentApiError(400, `session_key of job "${job.name}" rendered to ${key ? 'more than 255 characters' : 'nothing'}`, 'session_key');
    const now = this.d.now();
    return withTx(this.d.pool, async ({ client }) => {
      // Two deliveries for one key at once find (or make) the same session.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('weir-agent-session:' || $1 || ':' || $2))`, [job.name, key]);
      const found = await sessionOfKey(client, job.name, key);
      if (found) {
        await touchSession(client, found.id, now);
        return found.id;
      }
      const made = await insertSession(client, {
        profile, job_name: job.name, session_key: key, team_id: job.team_id ?? null, user_id: null, owner_token: null, max_budget: profile.max_budget ?? null,
      }, now);
      return made.id;
    });
  }

  /** One reaper round: active sessions idle past idle_timeout (none of their runs open) become idle. */
  async reap(): Promise<SessionRow[]> {
    const reaped = await reapIdle(this.d.pool, new Date(this.d.now().getTime() - this.d.idleMs()), REAP_BATCH);
    for (const s of reaped) this.d.closeTerminal?.(s.id, 'the session was idle past idle_timeout');
    return reaped;
  }

  /** Someone attached (or detached): the session is in use. */
  async touch(id: string): Promise<boolean> {
    return touchSession(this.d.pool, id, this.d.now());
  }

  get(id: string): Promise<SessionRow | null> {
    return getSession(this.d.pool, id);
  }
}

/** The variables a job's session_key is rendered with, as its prompt is for that trigger. */
export function sessionKeyVars(req: StartRequest): Record<string, unknown> {
  const input = (req.input ?? {}) as Record<string, unknown>;
  if (req.trigger === 'webhook') return { payload: input.payload ?? {}, event: input.event, delivery: input.delivery };
  return { input, payload: input, schedule: input.schedule };
}
