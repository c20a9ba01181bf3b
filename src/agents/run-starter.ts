// Starting a run, whatever triggered it (API, cron tick, webhook, retry): who owns and pays for it,
// whether its model and budget fit its starter, what the job's concurrency policy does with it
// (queue it, record it as skipped, or cancel the running ones), and the row that queues it.
import type pg from 'pg';
import { withTx } from '../admin/db';
import { AgentApiError } from './api-error';
import { checkModel, runBudget, type Starter } from './run-key';
import { linkRun } from './session-store';
import { activeRunsOfJob, insertRun, type NewRun, type Queryable, type RunRow } from './store';
import type { JobDef, ProfileDef } from './types';

export interface StartRequest {
  job: JobDef | null;
  profile: ProfileDef;
  prompt: string;
  input: unknown;
  trigger: 'api' | 'cron' | 'webhook' | 'retry';
  triggerRef: string | null;
  idempotencyKey: string | null;
  /** The calling virtual key's hash; null for the master key, an open proxy, cron and webhooks. */
  keyHash: string | null;
  /** USD asked for this run (else the profile's). */
  maxBudget?: number;
  retryOf?: string | null;
  /** The attempt this run is (a retry by API continues the count of the run it retries). */
  attempt?: number;
  /** The session this run is a message of: linked in the transaction that queues it. */
  sessionId?: string;
}

export interface StartDeps {
  pool: pg.Pool;
  /** Who starts the run (run-key.ts loadStarters), read together with the starters of the runs
   *  POSTed at the same time; throws its refusal. */
  starter(keyHash: string | null, teamId: string | null): Promise<Starter>;
  /** Inserts a queued run of no job (the API's inline runs), batched with others arriving together. */
  insertQueued(run: NewRun): Promise<{ run: RunRow; created: boolean }>;
  modelKnown(model: string): boolean;
  /** Cancels a run in flight (any instance). */
  cancel(run: RunRow): Promise<void>;
  now(): Date;
}

export async function startRun(d: StartDeps, req: StartRequest): Promise<{ run: RunRow; created: boolean }> {
  const { profile, job } = req;
  if (profile.model && !d.modelKnown(profile.model)) {
    throw new AgentApiError(400, `profile "${profile.name}" names model "${profile.model}", which is not a model group of this gateway`, 'model');
  }
  const starter = await d.starter(req.keyHash, req.keyHash ? null : (job?.team_id ?? null));
  checkModel(starter, profile.model);
  const budget = runBudget(starter, req.maxBudget ?? profile.max_budget);
  const base = {
    job_name: job?.name ?? null,
    profile,
    prompt: req.prompt,
    input: req.input,
    trigger: req.trigger,
    trigger_ref: req.triggerRef,
    idempotency_key: req.idempotencyKey,
    team_id: starter.team_id,
    user_id: starter.user_id,
    starter_token: starter.token,
    max_budget: budget,
    retry_of: req.retryOf ?? null,
    attempt: req.attempt ?? 1,
    expires_at: job?.ttl_ms ? new Date(d.now().getTime() + job.ttl_ms) : null,
  };
  // A session's message is linked to its session before any claim can see it queued.
  const insert = async (db: Queryable, r: NewRun) => {
    const out = await insertRun(db, r, d.now());
    if (out.created && req.sessionId) await linkRun(db, out.run.id, req.sessionId);
    return out;
  };
  if (!job) return req.sessionId ? withTx(d.pool, ({ client }) => insert(client, { ...base, status: 'queued' })) : d.insertQueued({ ...base, status: 'queued' });

  // The job's policy is decided under a per-job lock: two triggers at once see each other's runs.
  let toCancel: RunRow[] = [];
  const out = await withTx(d.pool, async ({ client }) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('weir-agent-job:' || $1))`, [job.name]);
    const active = await activeRunsOfJob(client, job.name);
    const { limit, on_conflict } = job.concurrency;
    if (active.length >= limit && on_conflict === 'skip') {
      return insert(client, { ...base, status: 'skipped', error_message: `job "${job.name}" already has ${active.length} run(s) (concurrency limit ${limit}, on_conflict: skip)` });
    }
    if (active.length >= limit && on_conflict === 'cancel_running') toCancel = active.slice(0, active.length - limit + 1);
    return insert(client, { ...base, status: 'queued' });
  });
  if (out.created) for (const r of toCancel) await d.cancel(r);
  return out;
}
