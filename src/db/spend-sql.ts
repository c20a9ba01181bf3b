// The statements of one spend flush, run by the spend writer inside its transaction. Parameterised
// only; column lists come from the real table (introspect.ts), so an older LiteLLM database without
// some column still takes the rest, and a newer one with extra columns gets their defaults.
import crypto from 'node:crypto';
import type pg from 'pg';
import type { SpendRecord } from '../accounting/spend-record';
import { queryBound } from './bound-statement';
import { tableColumns, uniqueKeys } from './introspect';
import { q } from './schema';
import { DAILY_ENTITY_COLUMN, mergeDaily, type DailyItem, type DailyTable, type EntityTotals } from './spend-aggregate';
import { FirstIds, rekeyed, SpendLogRows, spendLogsStatement } from './spend-log-columns';
import { errorLogRow, usd } from './spend-rows';

/** Postgres' limit on bind parameters per statement. */
const MAX_PARAMS = 65_535;
const MAX_ROWS_PER_INSERT = 1_000;

export interface SqlContext {
  /** Cache owner for introspection (the pool). */
  owner: object;
  client: pg.PoolClient;
}

/** Multi-row INSERT in chunks that respect both the row cap and the parameter limit; returns what a RETURNING suffix returned. */
export async function insertRows(client: pg.PoolClient, table: string, cols: string[], rows: unknown[][], suffix = ''): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  if (rows.length === 0) return out;
  const per = Math.max(1, Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_PARAMS / cols.length)));
  const head = `INSERT INTO ${q(table)} (${cols.map(q).join(', ')}) VALUES `;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (const row of chunk) {
      const ph: string[] = [];
      for (const v of row) {
        values.push(v);
        ph.push(`$${values.length}`);
      }
      tuples.push(`(${ph.join(', ')})`);
    }
    const res = await client.query(`${head}${tuples.join(', ')} ${suffix}`, values);
    if (res.rows) out.push(...(res.rows as Record<string, unknown>[]));
  }
  return out;
}

/** Rows keyed by column name → the columns the table has (in a fixed order) and their values. */
async function present(ctx: SqlContext, table: string, rows: Record<string, unknown>[]): Promise<{ cols: string[]; values: unknown[][] }> {
  const have = await tableColumns(ctx.owner, table, ctx.client);
  const cols = Object.keys(rows[0] ?? {}).filter((c) => have.has(c));
  return { cols, values: rows.map((r) => cols.map((c) => r[c])) };
}

/**
 * One row per record, never fewer. The request id is the upstream's response id (lookups by it
 * work as in LiteLLM) unless that id is taken — by an earlier record of the batch or a row already
 * in the table — by another call: then the row is written under the record's own call id, with
 * the upstream's id in its metadata. A row already there for the same call (same call id) is
 * not written twice. `again` gives the batch's records once more, in the order they were added;
 * it is called only when a row already in the table holds one of their ids, so that the batch
 * need not keep its records for that rare case.
 */
export async function insertSpendLogRows(ctx: SqlContext, rows: SpendLogRows, again: () => SpendRecord[]): Promise<void> {
  if (rows.size === 0) return;
  const unwritten = await insertLogRows(ctx, rows);
  if (unwritten.size === 0) return;
  const ids = new FirstIds();
  const clashed = again()
    .map((r) => ids.row(r))
    .filter((r) => unwritten.has(r.request_id) && r.call_id && r.call_id !== r.request_id);
  if (clashed.length === 0) return;
  const owners = await ctx.client.query<{ request_id: string; call_id: string | null }>(
    `SELECT "request_id", "metadata"->>'litellm_call_id' AS call_id FROM "LiteLLM_SpendLogs" WHERE "request_id" = ANY($1::text[])`,
    [clashed.map((r) => r.request_id)],
  );
  const ownerOf = new Map(owners.rows.map((o) => [o.request_id, o.call_id]));
  const retry = clashed.filter((r) => ownerOf.get(r.request_id) !== r.call_id).map((r) => rekeyed(r)!);
  if (retry.length) await insertLogRows(ctx, SpendLogRows.of(retry));
}

/** insertSpendLogRows for records at hand. */
export function insertSpendLogs(ctx: SqlContext, records: SpendRecord[]): Promise<void> {
  return insertSpendLogRows(ctx, SpendLogRows.of(records), () => records);
}

/** The statement for a table's column set, made once per set the introspection cache holds. */
const statements = new WeakMap<ReadonlySet<string>, string>();

/** Writes the rows, one statement per MAX_ROWS_PER_STATEMENT; returns the ids NOT written (taken already). */
async function insertLogRows(ctx: SqlContext, rows: SpendLogRows): Promise<Set<string>> {
  const unwritten = new Set<string>();
  if (rows.size === 0) return unwritten;
  const have = await tableColumns(ctx.owner, 'LiteLLM_SpendLogs', ctx.client);
  let sql = statements.get(have);
  if (sql === undefined) statements.set(have, (sql = spendLogsStatement(have)));
  try {
    for (const params of rows.statements()) {
      for (const [id] of await queryBound(ctx.client, sql, params)) unwritten.add(id!);
    }
  } finally {
    // Every statement has been sent or never will be: its column buffers are free.
    rows.recycle();
  }
  return unwritten;
}

export async function insertErrorLogs(ctx: SqlContext, records: SpendRecord[]): Promise<void> {
  const failed = records.filter((r) => r.status === 'failure');
  if (failed.length === 0) return;
  const { cols, values } = await present(ctx, 'LiteLLM_ErrorLogs', failed.map(errorLogRow));
  if (cols.length === 0) return; // no ErrorLogs table in this database
  await insertRows(ctx.client, 'LiteLLM_ErrorLogs', cols, values, 'ON CONFLICT ("request_id") DO NOTHING');
}

/** `spend = spend + Δ` for every id of one table, in one statement (ids sorted: fewer deadlocks). */
async function addSpend(ctx: SqlContext, table: string, idCol: string, totals: Map<string, number>): Promise<void> {
  if (totals.size === 0) return;
  const ids = [...totals.keys()].sort();
  const deltas = ids.map((id) => usd(totals.get(id)!));
  await ctx.client.query(
    `UPDATE ${q(table)} AS t SET "spend" = COALESCE(t."spend", 0) + d.delta
       FROM unnest($1::text[], $2::float8[]) AS d(id, delta) WHERE t.${q(idCol)} = d.id`,
    [ids, deltas],
  );
}

/**
 * The keys' `model_spend` JSON ({"model group": USD}, lifetime, as LiteLLM's key rows keep it):
 * every key of the batch in one statement, each of its models added to what the row holds.
 */
async function addKeyModelSpend(ctx: SqlContext, totals: Map<string, number>): Promise<void> {
  if (totals.size === 0 || !(await tableColumns(ctx.owner, 'LiteLLM_VerificationToken', ctx.client)).has('model_spend')) return;
  const entries = [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const tokens: string[] = [];
  const models: string[] = [];
  for (const [k] of entries) {
    const at = k.indexOf('\u0000');
    tokens.push(k.slice(0, at));
    models.push(k.slice(at + 1));
  }
  await ctx.client.query(
    `UPDATE "LiteLLM_VerificationToken" AS t SET "model_spend" = COALESCE(t."model_spend", '{}'::jsonb) || (
        SELECT jsonb_object_agg(d.model, CASE WHEN jsonb_typeof(t."model_spend" -> d.model) = 'number' THEN (t."model_spend" ->> d.model)::float8 ELSE 0 END + d.delta)
          FROM unnest($1::text[], $2::text[], $3::float8[]) AS d(token, model, delta) WHERE d.token = t."token")
      WHERE t."token" = ANY($1::text[])`,
    [tokens, models, entries.map(([, n]) => usd(n))],
  );
}

export interface EntityOptions {
  /** Budget given to end users created by their first spend (`max_end_user_budget_id`). */
  endUserBudgetId?: string;
}

export async function applyEntityTotals(ctx: SqlContext, t: EntityTotals, opts: EntityOptions = {}): Promise<void> {
  const nonZero = (m: Map<string, number>) => new Map([...m].filter(([, n]) => n !== 0));
  await addSpend(ctx, 'LiteLLM_VerificationToken', 'token', nonZero(t.keys));
  await addKeyModelSpend(ctx, nonZero(t.keyModels));
  await addSpend(ctx, 'LiteLLM_UserTable', 'user_id', nonZero(t.users));
  await addSpend(ctx, 'LiteLLM_TeamTable', 'team_id', nonZero(t.teams));
  await addSpend(ctx, 'LiteLLM_OrganizationTable', 'organization_id', nonZero(t.orgs));

  const members = [...nonZero(t.teamMembers).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (members.length) {
    const hasTotal = (await tableColumns(ctx.owner, 'LiteLLM_TeamMembership', ctx.client)).has('total_spend');
    const teams: string[] = [];
    const users: string[] = [];
    for (const [k] of members) {
      const m = /^team_id::(.*)::user_id::(.*)$/s.exec(k)!;
      teams.push(m[1]!);
      users.push(m[2]!);
    }
    await ctx.client.query(
      `UPDATE "LiteLLM_TeamMembership" AS t SET "spend" = COALESCE(t."spend", 0) + d.delta
         ${hasTotal ? `, "total_spend" = COALESCE(t."total_spend", 0) + d.delta` : ''}
         FROM unnest($1::text[], $2::text[], $3::float8[]) AS d(team_id, user_id, delta)
        WHERE t."team_id" = d.team_id AND t."user_id" = d.user_id`,
      [teams, users, members.map(([, n]) => usd(n))],
    );
  }

  // End users are created by their first spend, as LiteLLM's update_end_user_spend upserts them,
  // but only by a spend: LiteLLM also upserts a row for a call that cost nothing, which lets any
  // client grow the table by one row per `user` value it makes up. Such calls still have their
  // SpendLogs and Daily end-user rows; adding 0 to an existing row changes nothing.
  const endUsers = nonZero(t.endUsers);
  if (endUsers.size) {
    const ids = [...endUsers.keys()].sort();
    const withBudget = opts.endUserBudgetId !== undefined;
    await ctx.client.query(
      `INSERT INTO "LiteLLM_EndUserTable" ("user_id", "spend", "blocked"${withBudget ? ', "budget_id"' : ''})
       SELECT d.id, d.delta, false${withBudget ? ', $3' : ''} FROM unnest($1::text[], $2::float8[]) AS d(id, delta)
       ON CONFLICT ("user_id") DO UPDATE SET "spend" = COALESCE("LiteLLM_EndUserTable"."spend", 0) + EXCLUDED."spend"`,
      withBudget ? [ids, ids.map((id) => usd(endUsers.get(id)!)), opts.endUserBudgetId] : [ids, ids.map((id) => usd(endUsers.get(id)!))],
    );
  }
}

const COUNTERS = ['prompt_tokens', 'completion_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'spend', 'api_requests', 'successful_requests', 'failed_requests'] as const;

function counterValue(it: DailyItem, c: (typeof COUNTERS)[number]): number {
  return c === 'spend' ? usd(it.spend_nanos) : it[c];
}

/** The unique key the upsert can target: the one over the entity column and the date. */
async function dailyConflictKey(ctx: SqlContext, table: DailyTable): Promise<string[] | null> {
  const entity = DAILY_ENTITY_COLUMN[table];
  const keys = await uniqueKeys(ctx.owner, table, ctx.client);
  return keys.find((k) => k.includes(entity) && k.includes('date')) ?? null;
}

export async function upsertDaily(ctx: SqlContext, table: DailyTable, items: DailyItem[]): Promise<void> {
  if (items.length === 0) return;
  const have = await tableColumns(ctx.owner, table, ctx.client);
  if (have.size === 0) return; // a LiteLLM database from before this table existed
  const entity = DAILY_ENTITY_COLUMN[table];
  const ourKey = [entity, 'date', 'api_key', 'model', 'custom_llm_provider', 'mcp_namespaced_tool_name', 'endpoint'].filter((c) => have.has(c));
  const conflict = await dailyConflictKey(ctx, table);
  const merged = mergeDaily(items, conflict ?? ourKey);
  const counters = COUNTERS.filter((c) => have.has(c));
  const now = new Date().toISOString();
  const cols = ['id', ...ourKey, ...(have.has('model_group') ? ['model_group'] : []), ...counters, 'updated_at'];
  const row = (it: DailyItem): unknown[] => [
    crypto.randomUUID(),
    ...ourKey.map((c) => it.key[c] ?? null),
    ...(have.has('model_group') ? [it.model_group] : []),
    ...counters.map((c) => counterValue(it, c)),
    now,
  ];
  const increments = counters.map((c) => `${q(c)} = ${q(table)}.${q(c)} + EXCLUDED.${q(c)}`).join(', ');
  if (conflict) {
    await insertRows(ctx.client, table, cols, merged.map(row), `ON CONFLICT (${conflict.map(q).join(', ')}) DO UPDATE SET ${increments}, "updated_at" = EXCLUDED."updated_at"`);
    return;
  }
  // No usable unique key (a hand-made or partial table): update the matching row, else insert.
  for (const it of merged) {
    const where = ourKey.map((c, i) => `${q(c)} IS NOT DISTINCT FROM $${i + 1}`).join(' AND ');
    const sets = counters.map((c, i) => `${q(c)} = ${q(c)} + $${ourKey.length + i + 1}`).join(', ');
    const params = [...ourKey.map((c) => it.key[c] ?? null), ...counters.map((c) => counterValue(it, c)), now];
    const res = await ctx.client.query(
      `UPDATE ${q(table)} SET ${sets}, "updated_at" = $${params.length} WHERE ${where}`,
      params,
    );
    if (res.rowCount === 0) await insertRows(ctx.client, table, cols, [row(it)]);
  }
}
