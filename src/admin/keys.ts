// /key/generate|service-account/generate|update|delete|regenerate|block|unblock (reads are in key-info.ts).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { type Call, type Op, defined, hashToken, keyName, mutate, newId, tokenOf } from './common';
import { type Db, type Row, findByIds, findRow, hasTable, insertRow, insertRows, q, q1, updateRow, updateRows } from './db';
import { addDuration, durationSeconds, parseDuration } from './durations';
import { badRequest, notFound } from './errors';
import { budgetById, createBudget, resetColumns, updateBudget } from './budgets';
import { ROUTES_BY_KEY_TYPE } from '../gateway/route-groups';
import { assertMayChangeKey, assertMayReassignKey, ownerOfNewKey } from './scope';
import { duration, jsonObject, limit, modelMaxBudget, money, numberMap, opt, parseBody, text, texts } from './validation';

export const KEYS = 'LiteLLM_VerificationToken';

const skKey = z.string().refine((k) => k.startsWith('sk-'), { message: "invalid key: a LiteLLM virtual key must start with 'sk-'" });

/** Fields LiteLLM keeps inside `metadata` rather than in columns. */
const METADATA_FIELDS = ['model_rpm_limit', 'model_tpm_limit', 'guardrails', 'prompts', 'tags', 'enforced_params', 'allowed_passthrough_routes', 'rpm_limit_type', 'tpm_limit_type'] as const;

const limitType = z.enum(['guaranteed_throughput', 'best_effort_throughput', 'dynamic']);

const keyFields = {
  key_alias: opt(text),
  models: opt(texts),
  spend: opt(money),
  max_budget: opt(money),
  soft_budget: opt(money),
  budget_duration: opt(duration),
  user_id: opt(text),
  team_id: opt(text),
  organization_id: opt(text),
  budget_id: opt(text),
  agent_id: opt(text),
  project_id: opt(text),
  max_parallel_requests: opt(limit),
  tpm_limit: opt(limit),
  rpm_limit: opt(limit),
  metadata: opt(jsonObject),
  allowed_cache_controls: opt(texts),
  config: opt(jsonObject),
  permissions: opt(jsonObject),
  aliases: opt(jsonObject),
  model_max_budget: opt(modelMaxBudget),
  model_rpm_limit: opt(numberMap),
  model_tpm_limit: opt(numberMap),
  guardrails: opt(texts),
  prompts: opt(texts),
  tags: opt(texts),
  policies: opt(texts),
  enforced_params: opt(texts),
  allowed_passthrough_routes: opt(texts),
  rpm_limit_type: opt(limitType),
  tpm_limit_type: opt(limitType),
  blocked: opt(z.boolean()),
  allowed_routes: opt(texts),
  router_settings: opt(jsonObject),
  access_group_ids: opt(texts),
  key_type: opt(z.enum(['default', 'llm_api', 'management', 'read_only'])),
  auto_rotate: opt(z.boolean()),
  rotation_interval: opt(duration),
  send_invite_email: opt(z.boolean()),
};

const GenerateKey = z.object({ key: opt(skKey), duration: opt(duration), ...keyFields });
type GenerateBody = z.output<typeof GenerateKey>;

/** `duration` on update: a duration, or null / "-1" for "never expires". */
const updateDuration = z.union([z.literal('-1'), duration]);
const isoFuture = z.string().refine((s) => !Number.isNaN(new Date(s).getTime()), { message: 'must be an ISO date-time' });

const UpdateKey = z.object({
  key: text,
  duration: opt(updateDuration),
  temp_budget_increase: opt(money),
  temp_budget_expiry: opt(isoFuture),
  ...keyFields,
});
type ChangeBody = Partial<Omit<z.output<typeof UpdateKey>, 'key'>> & { key?: string | null; grace_period?: string | null };

// ---- shared lookups ------------------------------------------------------------------------------------

/** 400 unless each referenced team / user / organization / budget exists. */
export async function checkRefs(db: Db, refs: { team_id?: string | null; user_id?: string | null; organization_id?: string | null; budget_id?: string | null }): Promise<void> {
  if (refs.team_id && !(await findRow(db, 'LiteLLM_TeamTable', { team_id: refs.team_id })))
    throw badRequest(`Team id = ${refs.team_id} does not exist. Create the team first.`, 'team_id');
  if (refs.user_id && !(await findRow(db, 'LiteLLM_UserTable', { user_id: refs.user_id })))
    throw badRequest(`User id = ${refs.user_id} does not exist. Create the user first.`, 'user_id');
  if (refs.organization_id && !(await findRow(db, 'LiteLLM_OrganizationTable', { organization_id: refs.organization_id })))
    throw badRequest(`Organization id = ${refs.organization_id} does not exist. Create the organization first.`, 'organization_id');
  if (refs.budget_id && !(await budgetById(db, refs.budget_id)))
    throw badRequest(`Budget id = ${refs.budget_id} does not exist. Create the budget first.`, 'budget_id');
}

async function checkAliasFree(op: Op, alias: string | null | undefined, exceptToken: string | null): Promise<void> {
  if (!alias) return;
  // Serialises concurrent creations of one alias (the table has no unique index on it).
  await q(op.db, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`weir:key_alias:${alias}`]);
  const hit = await q1(op.db, `SELECT token FROM "LiteLLM_VerificationToken" WHERE key_alias = $1 AND ($2::text IS NULL OR token <> $2) LIMIT 1`, [alias, exceptToken]);
  if (hit) throw badRequest(`Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`, 'key_alias');
}

/**
 * A key value a caller chose (`key` on generate, `new_key` on regenerate) must be neither the master
 * key (a virtual key that is the master key would carry the master's rights wherever the key is
 * shared) nor a key that exists. The master key is compared by hash, in constant time, and neither
 * value ever appears in the answer.
 */
async function checkNewKeyValue(op: Op, raw: string, param: string): Promise<string> {
  const token = hashToken(raw);
  const master = op.ctx.settings.masterKeyHash;
  if (master && timingSafeEqual(Buffer.from(token, 'hex'), master)) throw badRequest('Invalid key: a virtual key may not be the proxy\'s master key.', param);
  if (await findRow(op.db, KEYS, { token })) throw badRequest('A key with this value already exists.', param);
  return token;
}

function newRawKey(): string {
  return `sk-${randomBytes(16).toString('base64url')}`;
}

function metadataWith(base: Record<string, unknown>, b: ChangeBody): Record<string, unknown> {
  const m = { ...base };
  for (const f of METADATA_FIELDS) if (b[f] !== undefined) m[f] = b[f];
  return m;
}

/** The values of the request that only echo in the response (LiteLLM returns all request fields). */
function echo(b: ChangeBody): Row {
  const out: Row = {};
  for (const f of [...METADATA_FIELDS, 'soft_budget', 'duration'] as const) if (b[f] !== undefined) out[f] = b[f];
  return out;
}

function keyResponse(row: Row, raw: string, budget: Row | null, b: ChangeBody): Row {
  return {
    ...row,
    ...echo(b),
    key: raw,
    token: row.token,
    token_id: row.token,
    soft_budget: b.soft_budget ?? budget?.soft_budget ?? null,
    litellm_budget_table: budget,
  };
}

// ---- default / upper-bound params ----------------------------------------------------------------------

function compareOverLimit(field: string, value: unknown, max: unknown): void {
  let over = false;
  if (typeof value === 'number' && typeof max === 'number') over = value > max;
  else if (typeof value === 'string' && typeof max === 'string' && parseDuration(value) && parseDuration(max)) over = durationSeconds(value) > durationSeconds(max);
  if (over) throw badRequest(`${field} is over max limit set in config - user_value=${String(value)}; max_value=${String(max)}`, field);
}

/** Fills fields the caller left empty from default_key_generate_params, then upperbound values. */
function withConfiguredParams(call: Call, body: unknown): unknown {
  if (body === null || body === undefined) body = {};
  if (typeof body !== 'object' || Array.isArray(body)) return body;
  const raw: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  const empty = (k: string) => raw[k] === undefined || raw[k] === null || (k === 'models' && Array.isArray(raw[k]) && (raw[k] as unknown[]).length === 0);
  for (const [k, v] of Object.entries(call.ctx.settings.defaultKeyGenerateParams ?? {})) if (empty(k) && v !== null && v !== undefined) raw[k] = v;
  for (const [k, v] of Object.entries(call.ctx.settings.upperboundKeyGenerateParams ?? {})) if (empty(k) && v !== null && v !== undefined && k !== 'models') raw[k] = v;
  return raw;
}

function enforceUpperbound(call: Call, b: Record<string, unknown>): void {
  for (const [k, max] of Object.entries(call.ctx.settings.upperboundKeyGenerateParams ?? {})) {
    if (max === null || max === undefined || b[k] === null || b[k] === undefined) continue;
    compareOverLimit(k, b[k], max);
  }
}

// ---- creating ------------------------------------------------------------------------------------------

/** The columns of a new key's row, as /key/generate writes them. */
function newKeyValues(op: Op, b: GenerateBody, raw: string, token: string, budgetId: string | null): Row {
  const allowedRoutes = b.allowed_routes && b.allowed_routes.length > 0 ? b.allowed_routes : [...(ROUTES_BY_KEY_TYPE[b.key_type ?? ''] ?? [])];
  return {
    token,
    key_name: keyName(raw),
    key_alias: b.key_alias ?? null,
    spend: b.spend ?? 0,
    expires: b.duration ? addDuration(op.now, b.duration).toISOString() : null,
    models: b.models ?? [],
    aliases: b.aliases ?? {},
    config: b.config ?? {},
    user_id: b.user_id ?? null,
    team_id: b.team_id ?? null,
    organization_id: b.organization_id ?? null,
    agent_id: b.agent_id ?? null,
    project_id: b.project_id ?? null,
    permissions: b.permissions ?? {},
    max_parallel_requests: b.max_parallel_requests ?? null,
    metadata: metadataWith(b.metadata ?? {}, b),
    blocked: b.blocked ?? null,
    tpm_limit: b.tpm_limit ?? null,
    rpm_limit: b.rpm_limit ?? null,
    max_budget: b.max_budget ?? null,
    ...resetColumns(op, b.budget_duration ?? null),
    allowed_cache_controls: b.allowed_cache_controls ?? [],
    allowed_routes: allowedRoutes,
    policies: b.policies ?? [],
    access_group_ids: b.access_group_ids ?? [],
    router_settings: b.router_settings ?? {},
    model_spend: {},
    model_max_budget: b.model_max_budget ?? {},
    budget_id: budgetId,
    key_type: b.key_type ?? undefined,
    soft_budget_cooldown: false,
    rotation_count: 0,
    auto_rotate: b.auto_rotate ?? false,
    rotation_interval: b.rotation_interval ?? null,
    key_rotation_at: b.auto_rotate && b.rotation_interval ? addDuration(op.now, b.rotation_interval).toISOString() : null,
    created_at: op.nowIso,
    created_by: op.actor,
    updated_at: op.nowIso,
    updated_by: op.actor,
  };
}

/** Creates a key row (and its soft-budget row); used by /key/generate and /user/new. */
export async function createKey(op: Op, b: GenerateBody): Promise<Row> {
  const raw = b.key ?? newRawKey();
  const token = await checkNewKeyValue(op, raw, 'key');
  await checkAliasFree(op, b.key_alias, null);
  await checkRefs(op.db, b);
  let budget: Row | null = null;
  if (b.soft_budget !== undefined && b.soft_budget !== null) {
    budget = await createBudget(op, { soft_budget: b.soft_budget, model_max_budget: b.model_max_budget ?? {} });
  }
  const row = await insertRow(op.db, KEYS, newKeyValues(op, b, raw, token, budget ? (budget.budget_id as string) : (b.budget_id ?? null)));
  op.notify('key', [token]);
  await op.audit('created', KEYS, token, null, row);
  if (!budget && row.budget_id) budget = await budgetById(op.db, row.budget_id as string);
  return keyResponse(row, raw, budget, b);
}

/**
 * Keys for agent runs, many in one transaction and one INSERT: the rows, defaults, caps and audit
 * of /key/generate, less the checks a run key cannot fail — its value is fresh random (no clash
 * with a key or the master key), its alias carries its run's unique id, and its team and user are
 * its starter's, read as the run was accepted (a team deleted since fails the insert, and the
 * caller then mints one by one). A body with a soft budget (from default_key_generate_params)
 * goes through createKey, which makes its budget row.
 */
export async function generateRunKeys(call: Call, bodies: unknown[]): Promise<{ key: string; token: string; row: Row | null }[]> {
  const parsed = bodies.map((body) => {
    const b = parseBody(GenerateKey, withConfiguredParams(call, body));
    enforceUpperbound(call, b);
    return b;
  });
  const isPlain = (b: (typeof parsed)[number]) => b.soft_budget === undefined || b.soft_budget === null;
  // Plain keys and no audit log: the INSERT is the only statement, and needs no transaction.
  const oneStatement = parsed.every(isPlain) && call.ctx.settings.storeAuditLogs !== true;
  return mutate(call, async (op) => {
    const made = parsed.map((b) => {
      const raw = newRawKey();
      return { b, raw, token: hashToken(raw) };
    });
    const plain = made.filter((m) => isPlain(m.b));
    for (const m of made) if (!plain.includes(m)) await createKey(op, { ...m.b, key: m.raw });
    const rows = await insertRows(op.db, KEYS, plain.map((m) => newKeyValues(op, m.b, m.raw, m.token, m.b.budget_id ?? null)));
    op.notify('key', made.map((m) => m.token));
    for (const row of rows) await op.audit('created', KEYS, row.token as string, null, row);
    const inserted = new Map(rows.map((r) => [r.token as string, r]));
    return made.map((m) => ({ key: m.raw, token: m.token, row: inserted.get(m.token) ?? null }));
  }, { oneStatement });
}

/** Blocks agent runs' keys in one statement (/key/block's row change and audit, for many). */
export async function blockRunKeys(call: Call, tokens: string[]): Promise<void> {
  // The rows as they were are read for the audit log only: runs end one by one, each block its own.
  const audited = call.ctx.settings.storeAuditLogs === true;
  await mutate(call, async (op) => {
    const rows = audited ? await findByIds(op.db, KEYS, 'token', tokens, true) : [];
    const updated = await updateRows(op.db, KEYS, { token: tokens }, { blocked: true, updated_at: op.nowIso, updated_by: op.actor });
    op.notify('key', updated.map((r) => r.token as string));
    const before = new Map(rows.map((r) => [r.token as string, r]));
    for (const r of updated) await op.audit('blocked', KEYS, r.token as string, before.get(r.token as string) ?? null, r);
  });
}

export async function keyGenerate(call: Call): Promise<unknown> {
  const b = parseBody(GenerateKey, withConfiguredParams(call, call.req.body));
  enforceUpperbound(call, b);
  return mutate(call, async (op) => createKey(op, { ...b, user_id: await ownerOfNewKey(call, op.db, b, '/key/generate') }));
}

/** Service-account keys belong to a team and to no user (`metadata.service_account_id` = alias). */
export async function keyServiceAccountGenerate(call: Call): Promise<unknown> {
  const b = parseBody(GenerateKey, withConfiguredParams(call, call.req.body));
  if (!b.team_id) throw badRequest('team_id is required for service account keys', 'team_id');
  enforceUpperbound(call, b);
  const metadata = { ...(b.metadata ?? {}), ...(b.key_alias ? { service_account_id: b.key_alias } : {}) };
  return mutate(call, async (op) => {
    await ownerOfNewKey(call, op.db, b, '/key/service-account/generate');
    return createKey(op, { ...b, user_id: null, metadata });
  });
}

// ---- changing ------------------------------------------------------------------------------------------

async function keyRow(db: Db, keyOrHash: string, lock = false): Promise<Row> {
  const row = await findRow(db, KEYS, { token: tokenOf(keyOrHash) }, lock);
  if (!row) throw notFound('Key not found in database', 'key');
  return row;
}

/** The SET part of an update from the request (fields given; null clears). */
async function changes(op: Op, row: Row, b: ChangeBody): Promise<Row> {
  if (b.key_alias !== undefined && b.key_alias !== row.key_alias) await checkAliasFree(op, b.key_alias, row.token as string);
  await checkRefs(op.db, b);
  if ((b.temp_budget_increase == null) !== (b.temp_budget_expiry == null))
    throw badRequest('temp_budget_increase and temp_budget_expiry must be set together', b.temp_budget_increase == null ? 'temp_budget_increase' : 'temp_budget_expiry');
  const set: Row = defined({
    key_alias: b.key_alias,
    models: b.models,
    spend: b.spend,
    max_budget: b.max_budget,
    user_id: b.user_id,
    team_id: b.team_id,
    organization_id: b.organization_id,
    agent_id: b.agent_id,
    project_id: b.project_id,
    budget_id: b.budget_id,
    max_parallel_requests: b.max_parallel_requests,
    tpm_limit: b.tpm_limit,
    rpm_limit: b.rpm_limit,
    allowed_cache_controls: b.allowed_cache_controls,
    config: b.config,
    permissions: b.permissions,
    aliases: b.aliases,
    model_max_budget: b.model_max_budget,
    blocked: b.blocked,
    allowed_routes: b.allowed_routes,
    policies: b.policies,
    router_settings: b.router_settings,
    access_group_ids: b.access_group_ids,
    key_type: b.key_type,
    auto_rotate: b.auto_rotate,
    rotation_interval: b.rotation_interval,
  });
  for (const k of ['models', 'allowed_cache_controls', 'allowed_routes', 'policies', 'access_group_ids'] as const) if (set[k] === null) set[k] = [];
  for (const k of ['config', 'permissions', 'aliases', 'model_max_budget'] as const) if (set[k] === null) set[k] = {};
  if (b.key_type && b.allowed_routes === undefined) set.allowed_routes = [...(ROUTES_BY_KEY_TYPE[b.key_type] ?? [])];
  const touchesMetadata = b.metadata !== undefined || METADATA_FIELDS.some((f) => b[f] !== undefined) || b.temp_budget_increase != null;
  if (touchesMetadata) {
    const base = b.metadata !== undefined ? (b.metadata ?? {}) : ((row.metadata as Record<string, unknown>) ?? {});
    const m = metadataWith(base, b);
    if (b.temp_budget_increase != null && b.temp_budget_expiry != null) {
      const expiry = new Date(b.temp_budget_expiry);
      if (expiry.getTime() <= op.now.getTime()) throw badRequest('temp_budget_expiry must be in the future', 'temp_budget_expiry');
      m.temp_budget_increase = b.temp_budget_increase;
      m.temp_budget_expiry = expiry.toISOString();
    }
    set.metadata = m;
  }
  if (b.duration !== undefined) set.expires = b.duration === null || b.duration === '-1' ? null : addDuration(op.now, b.duration).toISOString();
  Object.assign(set, resetColumns(op, b.budget_duration));
  const autoRotate = b.auto_rotate ?? (row.auto_rotate as boolean | null);
  const interval = b.rotation_interval ?? (row.rotation_interval as string | null);
  if (b.auto_rotate !== undefined || b.rotation_interval !== undefined)
    set.key_rotation_at = autoRotate && interval ? addDuration(op.now, interval).toISOString() : null;
  if (b.soft_budget !== undefined) {
    if (row.budget_id) await updateBudget(op, row.budget_id as string, { soft_budget: b.soft_budget });
    else if (b.soft_budget !== null && !b.budget_id) set.budget_id = (await createBudget(op, { soft_budget: b.soft_budget })).budget_id;
  }
  set.updated_at = op.nowIso;
  set.updated_by = op.actor;
  return set;
}

export async function keyUpdate(call: Call): Promise<unknown> {
  const b = parseBody(UpdateKey, call.req.body);
  return mutate(call, async (op) => {
    const row = await keyRow(op.db, b.key, true);
    await assertMayChangeKey(call, op.db, row, '/key/update');
    await assertMayReassignKey(call, op.db, row, b);
    const updated = (await updateRow(op.db, KEYS, { token: row.token }, await changes(op, row, b)))!;
    op.notify('key', [row.token as string]);
    await op.audit('updated', KEYS, row.token as string, row, updated);
    return { ...updated, ...echo(b), key: b.key };
  });
}

const RegenerateKey = z.object({
  key: opt(text),
  new_key: opt(skKey),
  new_master_key: opt(text),
  grace_period: opt(duration),
  duration: opt(updateDuration),
  ...keyFields,
});

export async function keyRegenerate(call: Call, pathKey: string | null): Promise<unknown> {
  const b = parseBody(RegenerateKey, call.req.body);
  const which = pathKey ?? b.key;
  if (!which) throw badRequest('Pass the key to regenerate (in the path or as `key`)', 'key');
  return mutate(call, async (op) => {
    const graceTable = b.grace_period ? await hasTable(op.db, 'LiteLLM_DeprecatedVerificationToken') : false;
    // Refuse rather than revoke the old key at once when the caller asked for a grace period.
    if (b.grace_period && !graceTable)
      throw badRequest('grace_period needs the LiteLLM_DeprecatedVerificationToken table, which this database does not have', 'grace_period');
    const row = await keyRow(op.db, which, true);
    await assertMayChangeKey(call, op.db, row, '/key/regenerate');
    await assertMayReassignKey(call, op.db, row, b);
    const oldToken = row.token as string;
    const raw = b.new_key ?? newRawKey();
    const token = await checkNewKeyValue(op, raw, 'new_key');
    const set = await changes(op, row, { ...b, key: undefined } as ChangeBody);
    Object.assign(set, {
      token,
      key_name: keyName(raw),
      rotation_count: Number(row.rotation_count ?? 0) + 1,
      last_rotation_at: op.nowIso,
    });
    if (row.auto_rotate && row.rotation_interval && set.key_rotation_at === undefined)
      set.key_rotation_at = addDuration(op.now, row.rotation_interval as string).toISOString();
    const updated = (await updateRow(op.db, KEYS, { token: oldToken }, set))!;
    if (b.grace_period && graceTable) {
      await insertRow(op.db, 'LiteLLM_DeprecatedVerificationToken', {
        id: newId(),
        token: oldToken,
        active_token_id: token,
        revoke_at: addDuration(op.now, b.grace_period).toISOString(),
        created_at: op.nowIso,
        updated_at: op.nowIso,
      });
    }
    op.notify('key', [oldToken, token]);
    await op.audit('rotated', KEYS, token, row, updated);
    return keyResponse(updated, raw, await budgetById(op.db, updated.budget_id as string | null), b);
  });
}

async function setBlocked(call: Call, blocked: boolean): Promise<unknown> {
  const b = parseBody(z.object({ key: text }), call.req.body);
  return mutate(call, async (op) => {
    const row = await keyRow(op.db, b.key, true);
    await assertMayChangeKey(call, op.db, row, blocked ? '/key/block' : '/key/unblock');
    const updated = await updateRow(op.db, KEYS, { token: row.token }, { blocked, updated_at: op.nowIso, updated_by: op.actor });
    op.notify('key', [row.token as string]);
    await op.audit(blocked ? 'blocked' : 'updated', KEYS, row.token as string, row, updated);
    return updated;
  });
}

export const keyBlock = (call: Call) => setBlocked(call, true);
export const keyUnblock = (call: Call) => setBlocked(call, false);

// ---- deleting ------------------------------------------------------------------------------------------

/** Copies the rows to LiteLLM_DeletedVerificationToken (when the table exists) and deletes them. */
export async function archiveAndDeleteKeys(op: Op, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const tokens = rows.map((r) => r.token as string);
  if (await hasTable(op.db, 'LiteLLM_DeletedVerificationToken')) {
    for (const r of rows) {
      await insertRow(op.db, 'LiteLLM_DeletedVerificationToken', {
        ...r,
        id: newId(),
        deleted_at: op.nowIso,
        deleted_by: op.actor,
        deleted_by_api_key: op.req.caller.keyHash,
        litellm_changed_by: op.req.changedBy,
      });
    }
  }
  if (await hasTable(op.db, 'LiteLLM_DeprecatedVerificationToken'))
    await q(op.db, `DELETE FROM "LiteLLM_DeprecatedVerificationToken" WHERE active_token_id = ANY($1::text[])`, [tokens]);
  await q(op.db, `DELETE FROM "LiteLLM_VerificationToken" WHERE token = ANY($1::text[])`, [tokens]);
  op.notify('key', tokens);
  for (const r of rows) await op.audit('deleted', KEYS, r.token as string, r, null);
}

const DeleteKeys = z
  .object({ keys: opt(texts), key_aliases: opt(texts) })
  .refine((b) => (b.keys?.length ?? 0) + (b.key_aliases?.length ?? 0) > 0, { message: 'pass `keys` or `key_aliases`', path: ['keys'] });

const shown = (k: string) => (k.startsWith('sk-') ? keyName(k) : k);

export async function keyDelete(call: Call): Promise<unknown> {
  const b = parseBody(DeleteKeys, call.req.body);
  return mutate(call, async (op) => {
    const keys = b.keys ?? [];
    const aliases = b.key_aliases ?? [];
    const rows = await q(op.db, `SELECT * FROM "LiteLLM_VerificationToken" WHERE token = ANY($1::text[]) OR key_alias = ANY($2::text[]) FOR UPDATE`, [keys.map(tokenOf), aliases]);
    const tokens = new Set(rows.map((r) => r.token));
    const names = new Set(rows.map((r) => r.key_alias));
    const missing = [...keys.filter((k) => !tokens.has(tokenOf(k))).map(shown), ...aliases.filter((a) => !names.has(a))];
    if (rows.length === 0 || missing.length > 0) throw notFound(`No keys found for: ${missing.join(', ')}. Nothing was deleted.`, b.keys?.length ? 'keys' : 'key_aliases');
    for (const r of rows) await assertMayChangeKey(call, op.db, r, '/key/delete');
    await archiveAndDeleteKeys(op, rows);
    return { deleted_keys: [...keys, ...aliases] };
  });
}
