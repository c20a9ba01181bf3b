// The agent API on the control thread: runs (start, list, read, events, cancel, retry, artifacts),
// the CRUD of jobs, profiles and sandboxes, and inbound webhooks. Admin keys see everything; a
// team's keys see and start their team's runs (a key without a team: its user's). Every refusal is
// a 4xx naming the field, before anything is created.
import type { AgentCall } from '../gateway/agent-relay';
import { log } from '../log';
import { parseJson } from './api-body';
import { AgentApiError } from './api-error';
import type { Catalog, DefKind } from './catalog';
import { renderPrompt } from './template';
import { attachRun, deliveryRun, forgetDelivery, recordDelivery } from './delivery-log';
import { eventMatches, verifyWebhook } from './webhook-verify';
import { getRun, listRuns, runView, type RunRow } from './store';
import { sessionOfRun, touchSession } from './session-store';
import type { StartRequest } from './run-starter';
import { FINAL_STATUSES, RUN_STATUSES, type JobDef, type ProfileDef, type RunEvent, type SandboxDef } from './types';
import type pg from 'pg';
import { handleNotes } from './memory/notes-api';
import { memoryOwner } from './memory/owner';
import type { VaultKey } from './vault/crypto';
import { handleSecrets } from './vault/secrets-api';

export interface ApiServices {
  pool: pg.Pool;
  catalog: Catalog;
  publicUrl(): string | null;
  start(req: StartRequest): Promise<{ run: RunRow; created: boolean }>;
  /** Cancels a run in flight wherever it runs. */
  cancel(run: RunRow): Promise<void>;
  page(runId: string, after: number, limit: number): Promise<RunEvent[]>;
  listArtifacts(runId: string): Promise<unknown[]>;
  getArtifact(runId: string, name: string): Promise<{ kind: string; content: Buffer } | null>;
  nextRuns(job: JobDef, n: number): Date[];
  hookToken(jobName: string): string | null;
  stats(reset: boolean): Record<string, unknown>;
  /** The vault's key (503 when the installation has none). */
  vaultKey(): VaultKey;
  now(): Date;
  /** /v1/agent/sessions (sessions-api.ts). */
  sessions(who: Who, call: AgentCall, rest: string[], q: URLSearchParams): Promise<ApiAnswer>;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: string[];
}

export interface Who {
  admin: boolean;
  keyHash: string | null;
  team_id: string | null;
  user_id: string | null;
}

const JSON_LIMIT_RUNS = 100;


export async function whoCalls(call: AgentCall, pool: pg.Pool): Promise<Who> {
  const c = call.caller;
  if (!c) throw new AgentApiError(401, 'Authentication Error, No api key passed in.');
  if (c.open || c.isMasterKey || c.userRole === 'proxy_admin') return { admin: true, keyHash: c.isMasterKey || c.open ? null : c.keyHash, team_id: null, user_id: null };
  if (!c.keyHash) throw new AgentApiError(401, 'Authentication Error, No api key passed in.');
  const r = await pool.query<{ team_id: string | null; user_id: string | null; metadata: Record<string, unknown> | null }>(
    `SELECT team_id, user_id, metadata FROM "LiteLLM_VerificationToken" WHERE token = $1`,
    [c.keyHash],
  );
  const row = r.rows[0];
  if (!row) throw new AgentApiError(401, 'the calling key is not known to the database');
  // A run's own key never starts or reads runs (its allowed_routes already refuse; this holds if edited).
  if (row.metadata && typeof row.metadata === 'object' && 'weir_run_id' in row.metadata) throw new AgentApiError(403, "a run's key may not call the agent API");
  return { admin: false, keyHash: c.keyHash, team_id: row.team_id, user_id: row.user_id };
}

function owns(who: Who, run: RunRow): boolean {
  if (who.admin) return true;
  if (who.team_id) return run.team_id === who.team_id;
  return run.team_id === null && run.user_id !== null && run.user_id === who.user_id;
}

export function str(v: unknown, field: string, required = false): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw new AgentApiError(400, `"${field}" is required`, field);
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0) throw new AgentApiError(400, `"${field}" must be a non-empty string`, field);
  return v;
}

export function intParam(q: URLSearchParams, name: string, dflt: number, max: number): number {
  const v = q.get(name);
  if (v === null) return dflt;
  if (!/^\d+$/.test(v)) throw new AgentApiError(400, `"${name}" must be a non-negative integer`, name);
  return Math.min(Number(v), max);
}

// ---- views ------------------------------------------------------------------------------------------

function jobView(j: JobDef, s: ApiServices): Record<string, unknown> {
  const token = j.webhook ? s.hookToken(j.name) : null;
  const base = (s.publicUrl() ?? '').replace(/\/+$/, '');
  return {
    id: j.id, object: 'agent.job', name: j.name, profile: j.profile, prompt: j.prompt, team_id: j.team_id ?? null,
    schedule: j.schedule ?? null,
    webhook: j.webhook ? { verify: j.webhook.verify, header: j.webhook.header ?? null, events: j.webhook.events ?? [], secret_set: !!j.webhook.secret } : null,
    webhook_url: token ? `${base}/v1/hooks/${token}` : null,
    concurrency: j.concurrency, notify: j.notify ? { url: j.notify.url, secret_set: !!j.notify.secret } : null,
    enabled: j.enabled, source: j.source, read_only: j.source === 'config',
  };
}

function profileView(p: ProfileDef): Record<string, unknown> {
  const { source, timeout_ms, repo, ...rest } = p;
  return { ...rest, object: 'agent.profile', timeout: `${Math.round(timeout_ms / 1000)}s`, repo: repo ? { url: repo.url, ref: repo.ref ?? null, token_set: !!repo.token } : null, source, read_only: source === 'config' };
}

function sandboxView(s: SandboxDef): Record<string, unknown> {
  // A cloud sandbox's API key is never shown: a reference shows as written, a value as masked.
  const options = typeof s.options.api_key === 'string' && !s.options.api_key.startsWith('os.environ/') ? { ...s.options, api_key: '********' } : s.options;
  return { id: s.id, object: 'agent.sandbox', name: s.name, provider: s.provider, options, source: s.source, read_only: s.source === 'config' };
}

const VIEW: Record<DefKind, (d: never, s: ApiServices) => Record<string, unknown>> = {
  job: jobView as never,
  profile: profileView as never,
  sandbox: sandboxView as never,
};

// ---- handlers ---------------------------------------------------------------------------------------

async function startFromBody(s: ApiServices, who: Who, body: Record<string, unknown>, idem: string | null): Promise<ApiAnswer> {
  const jobName = str(body.job, 'job');
  const profileName = str(body.profile, 'profile');
  const maxBudget = body.max_budget;
  if (maxBudget !== undefined && (typeof maxBudget !== 'number' || !(maxBudget > 0) || maxBudget > 1e9)) throw new AgentApiError(400, '"max_budget" must be a number of USD > 0', 'max_budget');
  if (idem !== null && (idem.length === 0 || idem.length > 255)) throw new AgentApiError(400, 'Idempotency-Key must be 1 to 255 characters', 'Idempotency-Key');
  const input = body.input ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new AgentApiError(400, '"input" must be a JSON object', 'input');
  let job: JobDef | null = null;
  let profile: ProfileDef;
  let prompt: string;
  if (jobName) {
    if (profileName) throw new AgentApiError(400, 'give "job" or "profile", not both', 'profile');
    job = await s.catalog.find('job', jobName);
    if (!job) throw new AgentApiError(404, `unknown job "${jobName}"`, 'job');
    if (!who.admin && (!job.team_id || job.team_id !== who.team_id)) throw new AgentApiError(403, `job "${jobName}" does not belong to the calling key's team`, 'job');
    if (!job.enabled) throw new AgentApiError(409, `job "${jobName}" is disabled`, 'job');
    profile = await s.catalog.mustFind('profile', job.profile, 'profile');
    const r = renderPrompt(body.prompt === undefined ? job.prompt : (str(body.prompt, 'prompt') as string), { input, payload: input });
    if (!r.ok) throw new AgentApiError(400, `prompt: ${r.message}`, 'input');
    prompt = r.text;
  } else if (profileName) {
    const p = await s.catalog.find('profile', profileName);
    if (!p) throw new AgentApiError(404, `unknown profile "${profileName}"`, 'profile');
    profile = p;
    prompt = str(body.prompt, 'prompt', true) as string;
  } else {
    throw new AgentApiError(400, 'give "job" (a job name) or "profile" and "prompt"', 'job');
  }
  const { run, created } = await s.start({ job, profile, prompt, input, trigger: 'api', triggerRef: who.keyHash, idempotencyKey: idem, keyHash: who.keyHash, maxBudget: maxBudget as number | undefined });
  return { status: created ? 202 : 200, body: runView(run, s.publicUrl()), headers: created ? [] : ['idempotent-replayed', 'true'] };
}

async function runOf(s: ApiServices, who: Who, id: string): Promise<RunRow> {
  const run = await getRun(s.pool, id);
  if (!run || !owns(who, run)) throw new AgentApiError(404, `unknown run "${id}"`, 'id');
  return run;
}

async function cancelRun(s: ApiServices, run: RunRow): Promise<RunRow> {
  if (FINAL_STATUSES.has(run.status)) throw new AgentApiError(409, `run ${run.id} has already ended (${run.status})`, 'id');
  await s.cancel(run);
  return (await getRun(s.pool, run.id)) ?? run;
}

async function retryRun(s: ApiServices, who: Who, run: RunRow): Promise<ApiAnswer> {
  if (!FINAL_STATUSES.has(run.status)) throw new AgentApiError(409, `run ${run.id} has not ended (${run.status}): cancel it first`, 'id');
  const job = run.job_name ? await s.catalog.find('job', run.job_name) : null;
  // A session's message is retried as a message of the same session: it queues behind the
  // session's others and resumes what the session holds now. An ended session takes no more.
  const session = await sessionOfRun(s.pool, run.id);
  if (session && !(await touchSession(s.pool, session.id, s.now()))) throw new AgentApiError(409, `session ${session.id} has ended: run ${run.id} cannot be retried in it; start a new session`, 'id');
  const { run: next } = await s.start({
    job, profile: run.profile, prompt: run.prompt, input: run.input, trigger: 'retry', triggerRef: run.id, idempotencyKey: null, keyHash: who.admin ? null : who.keyHash,
    maxBudget: run.max_budget ?? undefined, retryOf: run.id, attempt: run.attempt + 1, ...(session ? { sessionId: session.id } : {}),
  });
  return { status: 202, body: runView(next, s.publicUrl()) };
}

async function crud(s: ApiServices, who: Who, kind: DefKind, method: string, rest: string[], body: () => Record<string, unknown>, q: URLSearchParams): Promise<ApiAnswer> {
  const view = VIEW[kind];
  const mutating = method !== 'GET';
  if (mutating && !who.admin) throw new AgentApiError(403, `only an admin key may change ${kind}s`);
  if (rest.length === 0) {
    if (method === 'GET') return { status: 200, body: { object: 'list', data: (await s.catalog.list(kind)).map((d) => view(d as never, s)) } };
    if (method === 'POST') return { status: 201, body: view((await s.catalog.create(kind, body(), who.keyHash)) as never, s) };
  } else if (rest.length === 1) {
    const name = decodeURIComponent(rest[0]!);
    if (method === 'GET') {
      const d = await s.catalog.find(kind, name);
      if (!d) throw new AgentApiError(404, `unknown ${kind} "${name}"`, 'name');
      return { status: 200, body: view(d as never, s) };
    }
    if (method === 'PATCH' || method === 'PUT') return { status: 200, body: view((await s.catalog.update(kind, name, body())) as never, s) };
    if (method === 'DELETE') return { status: 200, body: { deleted: true, ...(await s.catalog.remove(kind, name)) } };
  } else if (rest.length === 2 && kind === 'job' && rest[1] === 'next-runs' && method === 'GET') {
    const job = await s.catalog.find('job', decodeURIComponent(rest[0]!));
    if (!job) throw new AgentApiError(404, `unknown job "${rest[0]}"`, 'name');
    if (!job.schedule) throw new AgentApiError(400, `job "${job.name}" has no schedule`, 'schedule');
    const n = intParam(q, 'n', 5, 100);
    return { status: 200, body: { job: job.name, timezone: job.schedule.timezone ?? 'UTC', data: s.nextRuns(job, n).map((d) => d.toISOString()) } };
  } else if (rest.length === 2 && kind === 'job' && rest[1] === 'runs' && method === 'POST') {
    return startFromBody(s, who, { ...body(), job: decodeURIComponent(rest[0]!) }, null);
  }
  throw new AgentApiError(405, `${method} is not served on this ${kind} path`);
}

async function runs(s: ApiServices, who: Who, call: AgentCall, rest: string[], q: URLSearchParams): Promise<ApiAnswer> {
  const m = call.method;
  if (rest.length === 0) {
    if (m === 'POST') return startFromBody(s, who, parseJson(call), call.headers['idempotency-key'] ?? null);
    if (m === 'GET') {
      const status = q.get('status') ?? undefined;
      if (status && !(RUN_STATUSES as readonly string[]).includes(status)) throw new AgentApiError(400, `"status" must be one of ${RUN_STATUSES.join(', ')}`, 'status');
      const rows = await listRuns(s.pool, {
        job: q.get('job') ?? undefined, status, limit: intParam(q, 'limit', 50, JSON_LIMIT_RUNS), offset: intParam(q, 'offset', 0, 2 ** 31),
        owner: who.admin ? undefined : { team_id: who.team_id, user_id: who.user_id },
      });
      return { status: 200, body: { object: 'list', data: rows.map((r) => runView(r, s.publicUrl())) } };
    }
    throw new AgentApiError(405, `${m} is not served on /v1/agent/runs; use GET or POST`);
  }
  const run = await runOf(s, who, decodeURIComponent(rest[0]!));
  const sub = rest.slice(1);
  if (sub.length === 0 && m === 'GET') return { status: 200, body: runView(run, s.publicUrl()) };
  if (sub[0] === 'events' && sub.length === 1 && m === 'GET') {
    const after = intParam(q, 'after', Number(call.headers['last-event-id'] ?? 0) || 0, 2 ** 31);
    const limit = intParam(q, 'limit', 500, 5000);
    const data = await s.page(run.id, after, limit);
    const next = data.length ? data[data.length - 1]!.seq : after;
    const fresh = await getRun(s.pool, run.id);
    return { status: 200, body: { object: 'list', data, next_after: next, done: !!fresh && FINAL_STATUSES.has(fresh.status) && data.length < limit } };
  }
  if (sub[0] === 'cancel' && sub.length === 1 && m === 'POST') return { status: 200, body: runView(await cancelRun(s, run), s.publicUrl()) };
  if (sub[0] === 'retry' && sub.length === 1 && m === 'POST') return retryRun(s, who, run);
  if (sub[0] === 'artifacts' && m === 'GET') {
    if (sub.length === 1) return { status: 200, body: { object: 'list', data: await s.listArtifacts(run.id) } };
    if (sub.length === 2) {
      const name = decodeURIComponent(sub[1]!);
      const a = await s.getArtifact(run.id, name);
      if (!a) throw new AgentApiError(404, `run ${run.id} has no artifact "${name}"`, 'name');
      const type = a.kind === 'transcript' ? 'application/x-ndjson' : a.kind === 'diff' ? 'text/x-diff; charset=utf-8' : 'text/plain; charset=utf-8';
      return { status: 200, body: new Uint8Array(a.content), headers: ['content-type', type, 'content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`] };
    }
  }
  throw new AgentApiError(404, `Route not found: ${m} ${call.path}`);
}

/** POST /v1/hooks/{token}: verified, deduplicated, filtered, rendered, started. */
async function hook(s: ApiServices, call: AgentCall, token: string): Promise<ApiAnswer> {
  if (call.method !== 'POST') throw new AgentApiError(405, 'webhooks are POSTed');
  const job = await findJobByToken(s, token);
  if (!job || !job.webhook) throw new AgentApiError(404, 'unknown webhook');
  const body = Buffer.from(call.body ?? new Uint8Array());
  const v = verifyWebhook(job.webhook, call.headers, body, s.now());
  if (!v.ok) throw new AgentApiError(v.status, v.message);
  if (!eventMatches(job.webhook.events, v.event)) return { status: 200, body: { ignored: true, event: v.event, reason: `job "${job.name}" does not take this event` } };
  // Verification keeps a body that is not JSON as its text (only GitHub's refuses it): a prompt cannot read it.
  if (typeof v.payload === 'string') throw new AgentApiError(400, 'the payload is not JSON', 'body');
  if (!job.enabled) throw new AgentApiError(409, `job "${job.name}" is disabled`);
  if (v.deliveryId) {
    const first = await recordDelivery(s.pool, job.name, v.deliveryId);
    if (!first) return { status: 200, body: { deduplicated: true, run_id: await deliveryRun(s.pool, job.name, v.deliveryId) } };
  }
  try {
    const profile = await s.catalog.mustFind('profile', job.profile, 'profile');
    const r = renderPrompt(job.prompt, { payload: v.payload ?? {}, event: v.event, delivery: v.deliveryId });
    if (!r.ok) throw new AgentApiError(400, `prompt: ${r.message}`, 'payload');
    const { run } = await s.start({ job, profile, prompt: r.text, input: { event: v.event, delivery: v.deliveryId, payload: v.payload }, trigger: 'webhook', triggerRef: v.deliveryId, idempotencyKey: null, keyHash: null });
    if (v.deliveryId) await attachRun(s.pool, job.name, v.deliveryId, run.id);
    return { status: 202, body: { run_id: run.id, status: run.status } };
  } catch (e) {
    // The sender will redeliver an error: let that attempt through.
    if (v.deliveryId) await forgetDelivery(s.pool, job.name, v.deliveryId).catch(() => {});
    throw e;
  }
}

async function findJobByToken(s: ApiServices, token: string): Promise<JobDef | null> {
  for (const j of await s.catalog.list('job')) {
    if (!j.webhook) continue;
    const t = s.hookToken(j.name);
    if (t && t.length === token.length && t === token) return j;
  }
  return null;
}

export async function handleAgentCall(s: ApiServices, call: AgentCall): Promise<ApiAnswer> {
  try {
    const q = new URLSearchParams(call.query);
    const parts = call.path.split('/').filter(Boolean); // v1, agent|hooks, …
    if (parts[1] === 'hooks') {
      if (parts.length !== 3) throw new AgentApiError(404, 'unknown webhook');
      return await hook(s, call, parts[2]!);
    }
    // Notes have owners of their own (a team's memory, a job's): see memory/notes-api.ts.
    if (parts[2] === 'notes') return await handleNotes(s, await memoryOwner(s.pool, call.caller), call, parts.slice(3));
    if (parts[2] === 'secrets') return await handleSecrets(s, await memoryOwner(s.pool, call.caller), call, parts.slice(3));
    const who = await whoCalls(call, s.pool);
    const [section, ...rest] = parts.slice(2);
    const body = () => parseJson(call);
    switch (section) {
      case 'runs':
        return await runs(s, who, call, rest, q);
      case 'jobs':
        return await crud(s, who, 'job', call.method, rest, body, q);
      case 'profiles':
        return await crud(s, who, 'profile', call.method, rest, body, q);
      case 'sandboxes':
        return await crud(s, who, 'sandbox', call.method, rest, body, q);
      case 'sessions':
        return await s.sessions(who, call, rest, q);
      case 'stats':
        if (!who.admin) throw new AgentApiError(403, 'only an admin key may read agent stats');
        return { status: 200, body: s.stats(q.get('reset') === '1') };
      default:
        throw new AgentApiError(404, `Route not found: ${call.method} ${call.path}`);
    }
  } catch (e) {
    if (e instanceof AgentApiError) return { status: e.status, body: e.body };
    // Not the caller's mistake: the operator needs the stack, the caller gets the message.
    log.error(`agents: ${call.method} ${call.path}: ${(e as Error)?.stack ?? String(e)}`);
    const err = new AgentApiError(500, `agent API: ${(e as Error).message}`);
    return { status: 500, body: err.body };
  }
}

/** For the SSE route: the run, if the caller may see it (else the error to answer). */
export async function runForStream(s: ApiServices, call: AgentCall): Promise<{ run: RunRow } | ApiAnswer> {
  try {
    const who = await whoCalls(call, s.pool);
    const id = decodeURIComponent(call.path.split('/').filter(Boolean)[3] ?? '');
    return { run: await runOf(s, who, id) };
  } catch (e) {
    const err = e instanceof AgentApiError ? e : new AgentApiError(500, (e as Error).message);
    return { status: err.status, body: err.body };
  }
}
